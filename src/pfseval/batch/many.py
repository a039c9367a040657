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
    """
    out = Path(out)
    if len(specs) == 1:
        return [out]
    used: dict[str, int] = {}
    folders = []
    for s in specs:
        stem = Path(s).stem
        used[stem] = used.get(stem, 0) + 1
        folders.append(out / (stem if used[stem] == 1 else f"{stem}-{used[stem]}"))
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
        Folder for per-person tables (never published); sub-folders as for ``out``.

    Returns
    -------
    list of SpecOutcome
        One per spec, in order.
    """
    from pfseval.batch.runner import run_spec, write_outputs
    from pfseval.batch.spec import load_spec

    folders = output_folders(specs, out)
    privs = output_folders(specs, private_out) if private_out is not None else [None] * len(specs)
    outcomes = []
    for spec_path, folder, priv in zip(specs, folders, privs, strict=True):
        t0 = time.perf_counter()
        try:
            spec = load_spec(spec_path, seed=seed, lang=lang, data_dir=data_dir)
            run = run_spec(spec, n_jobs=n_jobs, progress=progress)
            write_outputs(run, folder, private_out=priv)
        except (PfsevalError, OSError) as exc:
            outcomes.append(
                SpecOutcome(
                    spec=Path(spec_path),
                    ok=False,
                    out=folder,
                    error=str(exc),
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
