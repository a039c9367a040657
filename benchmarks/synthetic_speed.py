"""Time :func:`pfseval.synthetic.population` at about 1,000,000 person-years (health checks).

Usage::

    python benchmarks/synthetic_speed.py [--person-years 1000000] [--repeats 3] [--seed 1]
                                         [--out benchmarks/results/synthetic_speed.md]

The number of persons is chosen from a small calibration run (rows per person), then the
full generation is timed ``--repeats`` times (wall clock, single process). Also times the
design generators at their coverage-simulation sizes. Writes a markdown table to ``--out``.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pfseval.synthetic import (
    kobe_programme,
    population,
    prepost_questionnaire,
    randomised_trial,
    screening_series,
)


def _time(fn: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--person-years", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "synthetic_speed.md"
    )
    args = ap.parse_args(argv)

    calib = population(persons=20_000, seed=args.seed)
    per_person = len(calib) / 20_000
    persons = round(args.person_years / per_person)
    times, pop = _time(lambda: population(persons=persons, seed=args.seed), args.repeats)

    design_rows = []
    for label, fn in [
        ("kobe_programme(n_pool=2000)", lambda: kobe_programme(seed=1, n_pool=2000)),
        ("kobe_programme(n_pool=5000)", lambda: kobe_programme(seed=1)),
        ("randomised_trial(n_per_arm=1000)", lambda: randomised_trial(seed=1, n_per_arm=1000)),
        (
            "randomised_trial(cluster=True, n_per_arm=1000)",
            lambda: randomised_trial(seed=1, n_per_arm=1000, cluster=True),
        ),
        ("prepost_questionnaire(n=2000)", lambda: prepost_questionnaire(seed=1, n=2000)),
        ("screening_series(n_municipalities=40)", lambda: screening_series(seed=1)),
    ]:
        t, _ = _time(fn, 50)
        design_rows.append((label, 1000 * float(np.median(t))))

    lines = [
        "# Synthetic data generation speed",
        "",
        f"Command: `python benchmarks/synthetic_speed.py --person-years {args.person_years} "
        f"--repeats {args.repeats} --seed {args.seed}`",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, numpy "
        f"{np.__version__}; single process, shared 2-core host (other jobs running).",
        "",
        "## population()",
        "",
        "| persons | person-years (rows) | columns | runs (s) | best (s) |",
        "| ---: | ---: | ---: | --- | ---: |",
        f"| {persons:,} | {len(pop):,} | {pop.shape[1]} | "
        f"{', '.join(f'{t:.2f}' for t in times)} | {min(times):.2f} |",
        "",
        "Target (issue 2): 1,000,000 person-years in under 10 s.",
        "",
        "## Design generators (median of 50 calls)",
        "",
        "| call | ms |",
        "| --- | ---: |",
        *[f"| `{label}` | {ms:.1f} |" for label, ms in design_rows],
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
