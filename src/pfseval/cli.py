"""The ``pfseval`` command line. Commands only parse arguments, call the library and print."""

from __future__ import annotations

import sys
from pathlib import Path

import click


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
@click.option("--seed", type=int, default=20240401, show_default=True, help="Random seed.")
@click.option(
    "--persons",
    type=int,
    default=20000,
    show_default=True,
    help="Persons in the synthetic municipality.",
)
def synth_cmd(out: Path, seed: int, persons: int) -> None:
    """Generate a synthetic municipality and the datasets for the four designs."""
    from pfseval.synthetic import write_all

    written = write_all(out, seed=seed, persons=persons)
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

    report = check_file(file, mapping=mapping)
    click.echo(report.to_text())
    sys.exit(0 if report.ok else 1)


@cli.command("demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pfseval-demo"),
    show_default=True,
    help="Output folder.",
)
@click.option("--seed", type=int, default=20240401, show_default=True)
def demo_cmd(out: Path, seed: int) -> None:
    """Generate a synthetic municipality and run the example evaluation end to end."""
    from pfseval.synthetic import write_all

    written = write_all(out / "data", seed=seed, persons=20000)
    click.echo(f"synthetic municipality written to {out / 'data'}:")
    for name, path in written.items():
        click.echo(f"  {name}: {path}")


def main() -> None:
    """Entry point of the ``pfseval`` console script."""
    cli(prog_name="pfseval")


if __name__ == "__main__":  # pragma: no cover
    main()
