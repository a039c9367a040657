"""Disclosure control under attack: every planted size in every design, and the solver's time.

The test suite (``tests/test_disclosure_documents.py``) plants groups of 1, 2, 3, 5 and 9 people
in every person-level design, each design with a few of the sizes, to stay fast. This sweep
plants every size in every design that accepts it (a design refusing a size, e.g. a paired
comparison of one person, is skipped and listed), builds the whole document's publication and
reports, per spec: the counts hidden, the values withheld, the hidden counts a reader can narrow
(must be none beyond ``Decision.best``) and the seconds ``sdc.protect`` took.

Usage::

    python benchmarks/disclosure_sweep.py

Writes ``benchmarks/results/disclosure_sweep.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _report import write_report  # noqa: E402  (a script folder, not a package)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "disclosure_sweep.md")
    args = ap.parse_args()

    import test_disclosure_documents as attack
    from pfseval.batch import load_spec, run_spec
    from pfseval.errors import PfsevalError
    from pfseval.report.document import _register_counts

    every = {d: (o, fam, attack.SMALL) for d, (o, fam, _) in attack.DESIGNS.items()}
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        attack._data(np.random.default_rng(7)).to_csv(d / "people.csv", index=False)
        for _ in range(40):  # drop the (design, size) pairs a design refuses, one by one
            attack.DESIGNS.clear()
            attack.DESIGNS.update(every)
            (d / "spec.toml").write_text(attack._spec(), encoding="utf-8")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run = run_spec(load_spec(d / "spec.toml"))
                break
            except PfsevalError as exc:
                design = next(x for x in every if f"design '{x}'" in str(exc))
                k = next(k for k in every[design][2] if f"{every[design][1]}{k}'" in str(exc))
                skipped.append(f"{design} n={k}")
                o, fam, sizes = every[design]
                every[design] = (o, fam, tuple(x for x in sizes if x != k))
        t0 = time.perf_counter()
        led = _register_counts(run, run.results()).led
        seconds = time.perf_counter() - t0
    s = led.summary()
    dec = led.decision
    lines = [
        "# Disclosure control: every planted size in every design",
        "",
        f"Indicators: {len(run.spec.indicators)}; skipped (design refuses): "
        + (", ".join(skipped) or "none"),
        "",
        "| counts <10 | further counts * | values * | small-group items | narrowed below best "
        "| exact exposures | protect (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {s['primary']} | {s['secondary']} | {s['values_withheld']} | {s['small_group']} "
        f"| {len(dec.exposed)} | {s['exact']} | {seconds:.1f} |",
        "",
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
