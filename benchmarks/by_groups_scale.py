"""Per-group (``by``) appendices for many groups: time of the run, of the disclosure decision
and of every published file, against the number of groups.

A synthetic person-level cohort with ``--groups`` municipalities (sizes log-normal, median
about 150, a few under 10) and a completion flag; one ``proportion.rate`` indicator with
``by = "municipality"``. For each number of groups, in this process (imports excluded):

- ``run``: :func:`pfseval.batch.run_spec` (the whole-cohort estimate and one per group);
- ``decision``: the document's disclosure decision (``report.document._register_counts``:
  every count, rate and interval registered, then :func:`pfseval.sdc.protect`);
- ``files``: :func:`pfseval.batch.write_outputs` (HTML, PDF, DOCX, XLSX, JSON; the decision
  again inside).

``--full-search G`` also times the decision with the solver's quick route switched off (the
search that starts from everything hidden, which the solver falls back on) for the smallest
sizes, to show what the quick route saves; its result is checked to be as safe.

Usage::

    python benchmarks/by_groups_scale.py                        # 100, 300, 1,700 groups
    python benchmarks/by_groups_scale.py --groups 100 --full-search 100

Writes ``benchmarks/results/by_groups_scale.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import write_report  # noqa: E402  (a script folder, not a package)


def _write(folder: Path, groups: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    sizes = np.maximum(1, rng.lognormal(5, 1.2, groups).astype(int))
    muni = np.repeat([f"{28000 + i:05d}" for i in range(groups)], sizes)
    n = len(muni)
    pd.DataFrame(
        {
            "person_id": [f"P{i:08d}" for i in range(n)],
            "municipality": muni,
            "completed": (rng.random(n) < 0.6).astype(int),
        }
    ).to_csv(folder / "people.csv", index=False)
    (folder / "spec.toml").write_text(
        '[evaluation]\ntitle = "by scale"\nseed = 11\n\n[data.people]\npath = "people.csv"\n\n'
        '[[indicators]]\nid = "completion"\ndesign = "proportion.rate"\ndata = "people"\n'
        'by = "municipality"\noptions = { outcome = "completed" }\n\n[report]\nlang = "ja"\n',
        encoding="utf-8",
    )
    return n


def _decision(run: object) -> tuple[float, dict[str, int]]:
    from pfseval.report.document import _register_counts

    t0 = time.perf_counter()
    led = _register_counts(run, run.results()).led  # type: ignore[attr-defined]
    secs = time.perf_counter() - t0
    s = led.summary()
    return secs, {k: int(s[k]) for k in ("primary", "secondary", "values_withheld", "exact")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--groups", type=int, nargs="+", default=[100, 300, 1700])
    ap.add_argument("--full-search", type=int, nargs="*", default=[100])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "by_groups_scale.md")
    args = ap.parse_args()

    import pfseval.sdc.suppress as suppress
    from pfseval import __version__
    from pfseval.batch import load_spec, run_spec, write_outputs

    warnings.simplefilter("ignore")
    rows = []
    for g in args.groups:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            people = _write(folder, g, args.seed)
            t0 = time.perf_counter()
            run = run_spec(load_spec(folder / "spec.toml"))
            t_run = time.perf_counter() - t0
            t_dec, counts = _decision(run)
            t0 = time.perf_counter()
            write_outputs(run, folder / "out")
            t_files = time.perf_counter() - t0
            full = ""
            if g in args.full_search:
                quick = suppress._fit_from_published
                suppress._fit_from_published = lambda *a, **k: None  # type: ignore[assignment]
                try:
                    t_full, full_counts = _decision(run)
                finally:
                    suppress._fit_from_published = quick  # type: ignore[assignment]
                assert full_counts["exact"] == counts["exact"] == 0
                full = (
                    f"{t_full:.1f} s ({full_counts['secondary']} counts, "
                    f"{full_counts['values_withheld']} values)"
                )
            rows.append((g, people, t_run, t_dec, t_files, counts, full))
            print(rows[-1], flush=True)
    lines = [
        "# Per-group appendices for many groups",
        "",
        f"Command: `python benchmarks/by_groups_scale.py --groups {' '.join(map(str, args.groups))}"
        f" --full-search {' '.join(map(str, args.full_search))}`",
        "",
        f"pfseval {__version__}, Python {platform.python_version()}, {platform.machine()}; "
        "2 cores; wall-clock seconds, one run each.",
        "",
        "| groups | people | run (s) | disclosure decision (s) | every file written (s) | "
        "counts `<10` | counts `*` | values `*` | decision without the quick route |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for g, people, t_run, t_dec, t_files, c, full in rows:
        lines.append(
            f"| {g:,} | {people:,} | {t_run:.1f} | {t_dec:.1f} | {t_files:.1f} | {c['primary']} | "
            f"{c['secondary']} | {c['values_withheld']} | {full or '–'} |"
        )
    lines += [
        "",
        "Counts `<10` are the small counts (group sizes, completers and non-completers under 10);"
        " counts and values `*` are hidden so that none of them can be narrowed (the auditor "
        "leaves each its whole range 1–9, or the widest its own parts allow). The quick route "
        "starts from everything published and hides around the small counts; without it the "
        "solver starts from everything hidden and publishes back item by item.",
        "",
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
