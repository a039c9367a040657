"""What ``pfseval design`` and ``pfseval run --design`` do (the command line calls these).

Both return an exit status and print one line per result; errors are the library's typed
exceptions, printed with their key path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from pfseval.errors import PfsevalError

__all__ = ["design_to", "has_plan", "run_locked", "two_stage"]


def _write_spec_design(
    spec: Any, record: Mapping[str, Any], figures: Mapping[str, Any], folder: Path
) -> dict[str, Path]:
    """The lock and design appendix of a spec's design record, in the spec's language and
    with its readers' names."""
    from pfseval.batch.design_stage import write_design
    from pfseval.report.design_sections import design_names

    return write_design(
        record,
        figures,
        folder,
        lang=spec.report.lang,
        min_cell=spec.report.min_cell,
        title=spec.title,
        names=design_names(spec, spec.report.lang),
    )


def design_to(
    spec_path: Path,
    out: Path,
    *,
    seed: int | None = None,
    lang: str | None = None,
    data_dir: Path | None = None,
    force: bool = False,
) -> int:
    """Run the outcome-blind design stage of one spec and write the lock into ``out``.

    The spec is loaded without checking the data's columns (outcome columns may be absent);
    the design stage checks the columns it reads. ``out`` follows the output-folder rules of
    :mod:`pfseval.batch.output` (staged, then published; a folder pfseval did not write is
    refused unless ``force``, and even then nothing already there is replaced).
    """
    from pfseval.batch import load_spec
    from pfseval.batch.design_stage import design_record
    from pfseval.batch.output import check_target, commit, stage

    try:
        # refuse a folder we may not write into before the matching work, not after it
        check_target(out, force=force)
        spec = load_spec(spec_path, seed=seed, lang=lang, data_dir=data_dir, check_data=False)
        record, figures = design_record(spec)
        files = commit(
            stage(
                out,
                lambda folder: _write_spec_design(spec, record, figures, folder),
            ),
            force=force,
        )
    except (PfsevalError, ValueError, KeyError) as exc:
        click.echo(f"FAILED  {spec_path}: {exc}", err=True)
        return 1
    click.echo(f"design lock: {files['lock']}")
    click.echo(f"design appendix: {files['html']}")
    for key, m in record["matched"].items():
        click.echo(f"  {key}: matched sets {m['sha256'][:16]}")
    return 0


def has_plan(specs: Sequence[Path]) -> bool:
    """Whether a single spec file has a ``[plan]`` table (then it runs through :func:`run_locked`)."""
    import tomllib

    if len(specs) != 1 or not Path(specs[0]).is_file():
        return False
    try:
        return "plan" in tomllib.loads(Path(specs[0]).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # the ordinary path reports it


def run_locked(
    specs: Sequence[Path],
    out: Path,
    lock_file: Path | None,
    *,
    allow_deviation: bool,
    seed: int | None = None,
    lang: str | None = None,
    data_dir: Path | None = None,
    quiet: bool = False,
) -> int:
    """Run one spec, against a design lock when given, with its analysis plan if it has one.

    Any deviation from the lock stops the run unless ``allow_deviation``.
    """
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.batch.design_stage import check_lock, read_lock
    from pfseval.batch.plan import read_plan, run_plan

    if len(specs) != 1:
        click.echo("FAILED  --design takes exactly one spec. Fix: run one spec per lock", err=True)
        return 1
    try:
        spec = load_spec(specs[0], seed=seed, lang=lang, data_dir=data_dir)
        check: dict[str, Any] = {}
        locked: set[str] | None = None
        if lock_file is not None:
            lock = read_lock(lock_file)
            check = check_lock(
                spec, lock, lock_file=lock_file.name, allow_deviation=allow_deviation
            )
            locked = {p["id"] for p in lock.get("plan", [])}
        run = run_spec(spec, progress=not quiet)
        plan: dict[str, Any] = {}
        if read_plan(specs[0]):
            result = run_plan(
                specs[0], primary=run, locked=locked, seed=seed, lang=lang, data_dir=data_dir
            )
            plan = result.to_dict()
        run = dataclasses.replace(run, design_check=check, plan=plan)
        files = write_outputs(run, out)
    except PfsevalError as exc:
        click.echo(f"FAILED  {specs[0]}: {exc}", err=True)
        return 1
    for d in check.get("deviations", []):
        click.echo(f"deviation {d['key']}: {d['locked']!r} -> {d['current']!r}")
    pr = plan.get("payment_range")
    if pr:
        click.echo(
            f"plan: {len(plan['specifications'])} sensitivity specification(s), "
            f"payment {pr['min']:,.0f} to {pr['max']:,.0f}"
        )
    total = "" if run.payment is None else f", payment {run.payment.total:,.0f}"
    click.echo(f"ok      {specs[0]} -> {files['results'].parent}{total}")
    return 0


def two_stage(spec: Any, design_out: Path, *, progress: bool = False) -> Any:
    """The two-stage workflow on a loaded spec: lock the design, then run against the lock.

    Specs without a matching step have no design stage and are run directly. The lock and
    the design appendix go to ``design_out``; returns the run (with its design check).
    """
    from pfseval.batch import run_spec
    from pfseval.batch.design_stage import (
        LOCK_NAME,
        check_lock,
        design_columns,
        design_record,
        read_lock,
    )

    if not design_columns(spec):
        return run_spec(spec, progress=progress)
    record, figures = design_record(spec)
    files = _write_spec_design(spec, record, figures, design_out)
    check = check_lock(spec, read_lock(files["lock"]), lock_file=LOCK_NAME, allow_deviation=False)
    return dataclasses.replace(run_spec(spec, progress=progress), design_check=check)
