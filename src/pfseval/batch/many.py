"""Run several specs in one call: each failure is recorded, the others still run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pfseval.errors import PfsevalError

__all__ = ["SpecOutcome", "output_folders", "run_many"]


@dataclass(frozen=True)
class SpecOutcome:
    """What happened to one spec of a batch.

    Attributes
    ----------
    spec
        The spec file.
    ok
        ``True`` when every output was written.
    out
        The output folder (only complete when ``ok``).
    error
        The error message (file and key path) when not ``ok``.
    seconds
        Wall time of the spec.
    warnings
        Warnings recorded during the run.
    total
        Total payment, when the spec has a contract and ran.
    """

    spec: Path
    ok: bool
    out: Path
    error: str = ""
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    total: float | None = None


def output_folders(specs: Sequence[str | Path], out: str | Path) -> list[Path]:
    """Output folder of each spec: ``out`` itself for one spec, ``out/<spec name>`` for several.

    Examples
    --------
    >>> [p.as_posix() for p in output_folders(["a/kobe.toml", "b/kobe.toml", "c.toml"], "o")]
    ['o/kobe', 'o/kobe-2', 'o/c']

    Folder names never collide, also when a spec is itself named like a numbered folder
    or differs only in case (case-insensitive file systems):

    >>> [p.name for p in output_folders(["kobe-2.toml", "kobe.toml", "Kobe.toml"], "o")]
    ['kobe-2', 'kobe', 'Kobe-3']
    """
    out = Path(out)
    if len(specs) == 1:
        return [out]
    taken: set[str] = set()
    folders = []
    for s in specs:
        stem = Path(s).stem
        name, k = stem, 2
        while name.casefold() in taken:
            name, k = f"{stem}-{k}", k + 1
        taken.add(name.casefold())
        folders.append(out / name)
    return folders


def run_many(
    specs: Sequence[str | Path],
    out: str | Path,
    *,
    seed: int | None = None,
    lang: str | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    data_dir: str | Path | None = None,
    private_out: str | Path | None = None,
    force: bool = False,
    data_roots: Sequence[str | Path] = (),
) -> list[SpecOutcome]:
    """Validate, run and write each spec; a failing spec does not stop the others.

    Parameters
    ----------
    specs
        Spec files.
    out
        Output folder (one spec) or parent folder (several: one sub-folder per spec).
    seed, lang
        Override every spec's seed / report language.
    n_jobs, progress
        Workers for bootstraps; progress bars on standard error.
    data_dir
        Resolve data paths against this folder instead of each spec's folder.
    private_out
        Folder for per-person tables (never published, never inside ``out``); sub-folders
        as for ``out``.
    force
        Also write into existing folders pfseval did not write (adding files only; see
        :func:`pfseval.batch.output.write_outputs`).
    data_roots
        Further folders data files may come from (see :func:`pfseval.batch.load_spec`).

    Returns
    -------
    list of SpecOutcome
        One per spec, in order.
    """
    from pfseval.batch.checks import check_seed
    from pfseval.batch.output import check_output_folders, check_target, write_outputs
    from pfseval.batch.runner import run_spec
    from pfseval.batch.spec import load_spec

    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise PfsevalError(
            f"--workers / n_jobs must be a whole number of at least 1, got {n_jobs!r}. "
            "Fix: use --workers 1 (or the number of processor cores)"
        )
    if seed is not None:
        check_seed(seed, key="--seed")
    check_output_folders(Path(out), None if private_out is None else Path(private_out))

    folders = output_folders(specs, out)
    privs = output_folders(specs, private_out) if private_out is not None else [None] * len(specs)
    outcomes = []
    for spec_path, folder, priv in zip(specs, folders, privs, strict=True):
        t0 = time.perf_counter()
        try:
            check_target(folder, force=force)  # refuse before the work, not after it
            spec = load_spec(
                spec_path, seed=seed, lang=lang, data_dir=data_dir, data_roots=data_roots
            )
            run = run_spec(spec, n_jobs=n_jobs, progress=progress)
            write_outputs(run, folder, private_out=priv, force=force)
        except Exception as exc:  # one spec's failure, whatever it is, must not stop the rest
            error = str(exc) if isinstance(exc, PfsevalError | OSError) else _internal(exc)
            outcomes.append(
                SpecOutcome(
                    spec=Path(spec_path),
                    ok=False,
                    out=folder,
                    error=error,
                    seconds=time.perf_counter() - t0,
                )
            )
            continue
        total = None if run.payment is None else float(run.payment.total)
        outcomes.append(
            SpecOutcome(
                spec=Path(spec_path),
                ok=True,
                out=folder,
                seconds=time.perf_counter() - t0,
                warnings=run.warnings,
                total=total,
            )
        )
    return outcomes


def _internal(exc: Exception) -> str:
    """Message for an unexpected error: where it happened, without a traceback."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else ""
    return (
        f"internal error {type(exc).__name__}{where}: {exc}. This is a bug in pfseval, not in "
        "your spec; the other specs were still run. Fix: please report it with the spec"
    )
