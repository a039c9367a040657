"""What ``pfseval design`` and ``pfseval run --design`` do (the command line calls these).

Both return an exit status and print one line per result; errors are the library's typed
exceptions, printed with their key path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import click

from pfseval.errors import PfsevalError

__all__ = ["design_to", "run_locked"]


def design_to(
    spec_path: Path,
    out: Path,
    *,
    seed: int | None = None,
    lang: str | None = None,
    data_dir: Path | None = None,
) -> int:
    """Run the outcome-blind design stage of one spec and write the lock into ``out``.

    The spec is loaded without checking the data's columns (outcome columns may be absent);
    the design stage checks the columns it reads.
    """
    from pfseval.batch import load_spec
    from pfseval.batch.design_stage import design_record, write_design

    try:
        spec = load_spec(spec_path, seed=seed, lang=lang, data_dir=data_dir, check_data=False)
        record, figures = design_record(spec)
        files = write_design(
            record,
            figures,
            out,
            lang=spec.report.lang,
            min_cell=spec.report.min_cell,
            title=spec.title,
        )
    except (PfsevalError, ValueError, KeyError) as exc:
        click.echo(f"FAILED  {spec_path}: {exc}", err=True)
        return 1
    click.echo(f"design lock: {files['lock']}")
    click.echo(f"design appendix: {files['html']}")
    for key, m in record["matched"].items():
        click.echo(f"  {key}: matched sets {m['sha256'][:16]}")
    return 0


def run_locked(
    specs: Sequence[Path],
    out: Path,
    lock_file: Path,
    *,
    allow_deviation: bool,
    seed: int | None = None,
    lang: str | None = None,
    data_dir: Path | None = None,
    quiet: bool = False,
) -> int:
    """Run one spec against a design lock; stop on any deviation unless allowed."""
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.batch.design_stage import check_lock, read_lock

    if len(specs) != 1:
        click.echo("FAILED  --design takes exactly one spec. Fix: run one spec per lock", err=True)
        return 1
    try:
        spec = load_spec(specs[0], seed=seed, lang=lang, data_dir=data_dir)
        check = check_lock(
            spec,
            read_lock(lock_file),
            lock_file=lock_file.name,
            allow_deviation=allow_deviation,
        )
        run = dataclasses.replace(run_spec(spec, progress=not quiet), design_check=check)
        files = write_outputs(run, out)
    except PfsevalError as exc:
        click.echo(f"FAILED  {specs[0]}: {exc}", err=True)
        return 1
    for d in check["deviations"]:
        click.echo(f"deviation {d['key']}: {d['locked']!r} -> {d['current']!r}")
    total = "" if run.payment is None else f", payment {run.payment.total:,.0f}"
    click.echo(f"ok      {specs[0]} -> {files['results'].parent}{total}")
    return 0
