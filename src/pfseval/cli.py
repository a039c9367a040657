"""The ``pfseval`` command line. Commands only parse arguments, call the library and print."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

#: Seeds: whole numbers from 0 (numpy's SeedSequence takes no negative numbers).
_SEED = click.IntRange(min=0, max=2**63 - 1)
_FORCE_HELP = (
    "Also write into an existing folder pfseval did not write: pfseval's files are added, "
    "nothing already there is deleted or overwritten."
)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Print a pfseval error (or an unwritable file) as one message and exit 1; no traceback.

    Python warnings are not printed as they happen: runs record them and the commands print
    them (or, with ``--quiet``, do not)."""
    from pfseval.errors import PfsevalError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except (PfsevalError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _progress(quiet: bool) -> bool:
    """Progress bars only on a terminal (a redirected log would fill with escape codes)."""
    return not quiet and sys.stderr.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pfseval")
def cli() -> None:
    """pfseval: evaluate Pay For Success health programmes (designs, CIs, payments, appendices)."""


@cli.command("synth")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the synthetic datasets into.",
)
@click.option("--seed", type=_SEED, default=20240401, show_default=True, help="Random seed.")
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    default=20000,
    show_default=True,
    help="Persons in the synthetic municipality.",
)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def synth_cmd(out: Path, seed: int, persons: int, force: bool) -> None:
    """Generate a synthetic municipality and the datasets for the four designs."""
    from pfseval.batch.output import check_target, commit, stage
    from pfseval.synthetic import write_all

    with _user_errors():
        check_target(out, force=force)
        written = commit(
            stage(out, lambda f: write_all(f, seed=seed, persons=persons)), force=force
        )
    for name, path in written.items():
        click.echo(f"{name}: {path}")


@cli.command("check-data")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TOML/CSV file mapping source headers onto the vocabulary.",
)
def check_data_cmd(file: Path, mapping: Path | None) -> None:
    """Validate a health-check extract and print every problem; exit 1 on errors."""
    from pfseval.io import check_file

    with _user_errors():
        report = check_file(file, mapping=mapping)
    click.echo(report.to_text())
    sys.exit(0 if report.ok else 1)


def _print_outcomes(outcomes: list[Any], *, quiet: bool) -> None:
    n_ok = sum(o.ok for o in outcomes)
    for o in outcomes:
        if o.ok and quiet:
            continue
        if o.ok:
            total = "" if o.total is None else f", payment {o.total:,.0f}"
            warn = f", {len(o.warnings)} warning(s)" if o.warnings else ""
            click.echo(f"ok      {o.spec} -> {o.out} ({o.seconds:.1f} s{total}{warn})")
            if not quiet:
                for w in o.warnings:
                    click.echo(f"        warning: {w}")
        else:
            click.echo(f"FAILED  {o.spec}: {o.error}", err=True)
    click.echo(f"{n_ok} of {len(outcomes)} spec(s) succeeded", err=n_ok < len(outcomes))


@cli.command("run")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder (one sub-folder per spec when several are given).",
)
@click.option("--seed", type=_SEED, default=None, help="Override every spec's seed.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Bootstrap workers."
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None, help="Appendix language.")
@click.option(
    "--quiet",
    is_flag=True,
    help="Print only failures and the summary line (no progress, no warnings).",
)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@click.option(
    "--data-root",
    "data_roots",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Also allow data files under this folder (repeatable); by default data must lie "
    "in the spec's folder tree (or --data-dir).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Resolve the specs' data paths against this folder instead of each spec's folder.",
)
@click.option(
    "--private-out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for per-person tables (for the evaluator only; never publish).",
)
@click.option(
    "--design",
    "design_lock",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="design.lock.json from `pfseval design`: the run must reproduce it (one spec).",
)
@click.option(
    "--allow-deviation",
    is_flag=True,
    help="With --design: run despite differences and list them in the appendix.",
)
@click.option(  # issue 15 hook: Dask cluster (pfseval.scale.distributed)
    "--cluster",
    default=None,
    metavar="ADDRESS",
    help="Run bootstraps and per-group evaluations on a Dask cluster (scheduler address, or "
    "'local' for a local cluster of 2 processes). Results equal a local run.",
)
def run_cmd(
    specs: tuple[Path, ...],
    out: Path,
    seed: int | None,
    workers: int,
    lang: str | None,
    quiet: bool,
    data_dir: Path | None,
    private_out: Path | None,
    force: bool,
    data_roots: tuple[Path, ...],
    design_lock: Path | None = None,
    allow_deviation: bool = False,
    cluster: str | None = None,
) -> None:
    """Run evaluation specs: results.json, appendix.html/.pdf/.docx, tables.xlsx, figures.

    OUT must be a new folder, an empty one, or one pfseval wrote before (it holds a
    .pfseval-output file); pfseval never deletes a file it did not write.
    """
    from contextlib import nullcontext

    from pfseval.batch import run_many
    from pfseval.batch.design_cli import has_plan, run_locked

    session: Any = nullcontext()
    if cluster is not None:  # issue 15 hook: bootstrap chunks and groups go to the cluster
        from pfseval.scale.distributed import cluster_session

        session = cluster_session(cluster)
    with session as client:
        if client is not None:  # as many bootstrap jobs as the cluster has worker threads
            workers = max(1, min(1024, sum(client.nthreads().values())))
        if design_lock is not None or has_plan(specs):
            with _user_errors():
                status = run_locked(
                    specs,
                    out,
                    design_lock,
                    allow_deviation=allow_deviation,
                    seed=seed,
                    lang=lang,
                    data_dir=data_dir,
                    quiet=quiet,
                )
            sys.exit(status)
        with _user_errors():
            outcomes = run_many(
                list(specs),
                out,
                seed=seed,
                lang=lang,
                n_jobs=workers,
                progress=_progress(quiet),
                data_dir=data_dir,
                private_out=private_out,
                force=force,
                data_roots=data_roots,
            )
    _print_outcomes(outcomes, quiet=quiet)
    sys.exit(0 if all(o.ok for o in outcomes) else 1)


@cli.command("validate")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Resolve the specs' data paths against this folder instead of each spec's folder.",
)
@click.option(
    "--data-root",
    "data_roots",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Also allow data files under this folder (repeatable).",
)
def validate_cmd(
    specs: tuple[Path, ...], data_dir: Path | None, data_roots: tuple[Path, ...]
) -> None:
    """Check spec files (keys, files, columns, design options, contract) without running."""
    from pfseval.batch import load_spec
    from pfseval.errors import PfsevalError

    failed = 0
    for s in specs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec = load_spec(s, data_dir=data_dir, data_roots=data_roots)
        except PfsevalError as exc:
            failed += 1
            click.echo(f"invalid {exc}", err=True)
            continue
        click.echo(
            f"valid   {s}: {len(spec.indicators)} indicator(s), {len(spec.data)} data source(s)"
        )
    sys.exit(1 if failed else 0)


#: Persons in the demo's synthetic municipality: enough for a candidate pool of about 550
#: people and about 100 participants (the real Kobe programme had about 105).
DEMO_PERSONS = 40000


@cli.command("demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pfseval-demo"),
    show_default=True,
    help="Output folder.",
)
@click.option("--seed", type=_SEED, default=20240401, show_default=True, help="Random seed.")
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    default=DEMO_PERSONS,
    show_default=True,
    help="Persons in the synthetic municipality.",
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None, help="Appendix language.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def demo_cmd(
    out: Path, seed: int, persons: int, lang: str | None, quiet: bool, force: bool
) -> None:
    """Generate the synthetic municipality and run the example evaluations.

    Writes the data to OUT/data, then runs the Kobe-style evaluation from the yearly
    health-check extracts (OUT/kobe_evaluation) and the cancer-screening evaluation against
    past years (OUT/screening_evaluation): results.json, appendices and figures in each.
    OUT must be new, empty or an earlier demo folder: a user's files are never replaced.
    """
    from pfseval.batch import EXAMPLES, example_spec, load_spec, write_outputs
    from pfseval.batch.design_cli import two_stage
    from pfseval.batch.output import check_target, claim, commit, stage
    from pfseval.errors import PfsevalError
    from pfseval.synthetic import write_all

    with _user_errors():
        check_target(out, force=force)
        # refuse before the long work, not after it; synthetic data never mix with a
        # user's files, even with --force
        check_target(out / "data")
        for sub in EXAMPLES:
            check_target(out / sub, force=force)
        claim(out)
        staged = stage(out / "data", lambda f: write_all(f, seed=seed, persons=persons))
        written = commit(staged, force=force)
    click.echo(f"synthetic municipality: {len(written)} files in {out / 'data'}")
    failed = 0
    for name in EXAMPLES:
        try:
            spec_path = example_spec(name=name)
        except PfsevalError as exc:
            failed += 1
            click.echo(f"FAILED  {name}: {exc}", err=True)
            continue
        click.echo(f"\n{name} ({spec_path.name})")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # recorded in run.warnings, printed below
                spec = load_spec(spec_path, seed=seed, lang=lang, data_dir=out)
                # two stages: the design is locked (outcome-blind), then the run checks the lock
                run = two_stage(spec, out / f"{name}_design", progress=_progress(quiet))
                if run.design_check:
                    click.echo(f"  design lock: {out / f'{name}_design'} (reproduced by the run)")
                files = write_outputs(run, out / name, force=force)
        except (PfsevalError, OSError) as exc:
            failed += 1
            click.echo(f"FAILED  {spec_path}: {exc}", err=True)
            continue
        for key in ("results", "html", "pdf", "docx", "xlsx"):
            click.echo(f"  {key}: {files[key]}")
        n_fig = sum(k.startswith("figure:") for k in files)
        click.echo(f"  figures: {n_fig} files in {out / name / 'figures'}")
        for iid, est in run.estimates.items():
            click.echo(
                f"  {iid}: {est.value:.4f} [{est.conf_low:.4f}, {est.conf_high:.4f}] (n = {est.n})"
            )
        if run.payment is not None:
            click.echo(f"  payment: {run.payment.total:,.0f} {run.payment.unit}")
        if run.warnings:
            click.echo(f"  {len(run.warnings)} warning(s) (see the appendix):")
            for w in run.warnings:
                click.echo(f"    {w}")
    sys.exit(1 if failed else 0)


@cli.command("design")
@click.argument("spec", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for design.lock.json and design_appendix.html.",
)
@click.option("--seed", type=_SEED, default=None, help="Override the spec's seed.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None, help="Appendix language.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Resolve the spec's data paths against this folder instead of the spec's folder.",
)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def design_cmd(
    spec: Path,
    out: Path,
    seed: int | None,
    lang: str | None,
    data_dir: Path | None,
    force: bool,
) -> None:
    """Outcome-blind design stage: cohorts, matching and balance only; write the lock."""
    from pfseval.batch.design_cli import design_to

    sys.exit(design_to(spec, out, seed=seed, lang=lang, data_dir=data_dir, force=force))


@cli.command("allocate")
@click.argument("scheme", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV file to write, one row per unit (unit, points, weight, score, share, amount).",
)
@click.option(
    "--units",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Units file (default: the scheme's `units`).",
)
@click.option("--audit", "audit", multiple=True, help="Print the audit trail of this unit.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
def allocate_cmd(
    scheme: Path, out: Path, units: Path | None, audit: tuple[str, ...], lang: str
) -> None:
    """Divide an allocation scheme's budget among its units (shares sum exactly to it)."""
    from pfseval.errors import PfsevalError
    from pfseval.payment.allocation import AllocationScheme

    try:
        s = AllocationScheme.from_toml(scheme)
        result = s.allocate(None if units is None else s.read_units(units))
        for u in audit:
            click.echo(result.audit_trail(u, lang=lang))  # type: ignore[arg-type]
    except (PfsevalError, KeyError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    table = result.to_frame()
    table.to_csv(out, index=False, encoding="utf-8")
    click.echo(
        f"{len(table)} units, {table['amount'].sum():,.0f} of {result.budget:,.0f} {s.unit} "
        f"allocated -> {out}"
    )


def _parse_values(values: tuple[str, ...]) -> dict[str, float]:
    from pfseval.errors import ContractError

    out: dict[str, float] = {}
    for v in values:
        key, sep, num = v.partition("=")
        try:
            if not sep or not key:
                raise ValueError
            # "95%" is read as 0.95, so a rate given in percent cannot pay the full allocation
            text = num.strip()
            out[key.strip()] = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ContractError(
                "--value",
                f"{v!r} is not ID=NUMBER. Fix: write e.g. --value suppression_rate=0.329.",
            ) from None
    return out


@cli.command("pay")
@click.argument("contract", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--value",
    "values",
    multiple=True,
    metavar="ID=V",
    help="An indicator value, e.g. --value completion_rate=1.0 or =100% (repeat per indicator).",
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option(
    "--indigo",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the payment as an INDIGO project JSON (outcome payments).",
)
def pay_cmd(contract: Path, values: tuple[str, ...], lang: str, indigo: Path | None) -> None:
    """Apply a contract to published indicator values; print the payment and its audit trail."""
    import json

    from pfseval.errors import PfsevalError
    from pfseval.payment import Contract

    try:
        c = Contract.from_toml(contract)
        res = c.evaluate(_parse_values(values))
    except PfsevalError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(res.audit_trail(lang=lang))  # type: ignore[arg-type]
    if indigo is not None:
        from pfseval.payment.indigo import to_indigo

        indigo.write_text(
            json.dumps(to_indigo(res), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        click.echo(f"INDIGO: {indigo}")


@cli.command("explore")
@click.argument("contract", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="HTML file to write (one self-contained page).",
)
@click.option(
    "--results",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="results.json of a run: start at the estimates and show the payment at the CI bounds.",
)
def explore_cmd(contract: Path, out: Path, results: Path | None) -> None:
    """Write a contract explorer page: a slider per indicator, payment curves, the total."""
    from pfseval.errors import PfsevalError
    from pfseval.payment import Contract
    from pfseval.payment.explorer import estimates_from_results, explorer_html

    try:
        c = Contract.from_toml(contract)
        est = estimates_from_results(results) if results is not None else None
    except PfsevalError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    out.write_text(explorer_html(c, estimates=est), encoding="utf-8")
    click.echo(f"explorer: {out}")


def main() -> None:
    """Entry point of the ``pfseval`` console script."""
    cli(prog_name="pfseval")


if __name__ == "__main__":  # pragma: no cover
    main()
