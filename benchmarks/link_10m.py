"""Read, validate and link two yearly extracts of 10 M rows each: time and peak memory.

Writes a baseline (fiscal 2016) and a follow-up (fiscal 2019, 80% of the people, shuffled)
extract of ``--rows`` records each with the 16 columns of ``loading_speed.py`` (in chunks, by a
child process), then in a fresh process: :func:`pfseval.io.read_checkups` on both (every value
validated) and :func:`pfseval.io.link_years`. Peak memory is that process's peak resident set
size (``VmHWM``, imports included).

Usage::

    python benchmarks/link_10m.py --data /work/bigdata/link10m            # CSV, 10,000,000 rows
    python benchmarks/link_10m.py --data /tmp/l --rows 1000000 --format parquet

Writes ``benchmarks/results/link_10m.md`` (or ``--out``). Never commit the data.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import write_report  # noqa: E402  (a script folder, not a package)
from loading_speed import extract  # noqa: E402


def generate(folder: Path, rows: int, fmt: str, chunk: int = 1_000_000) -> float:
    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for year, name in ((2016, "base"), (2019, "follow")):
        path = folder / f"{name}.{fmt}"
        parts = []
        for i, start in enumerate(range(0, rows, chunk)):
            df = extract(min(chunk, rows - start), 100 * year + i, year=year)
            df["person_id"] = np.char.zfill(np.arange(start, start + len(df)).astype(str), 9)
            if year == 2019:
                df = df.loc[rng.random(len(df)) < 0.8].sample(frac=1.0, random_state=i)
            if fmt == "csv":
                df.to_csv(path, mode="w" if i == 0 else "a", header=i == 0, index=False)
            else:
                parts.append(df)
        if fmt == "parquet":
            import pandas as pd

            pd.concat(parts, ignore_index=True).to_parquet(path, index=False)
    return time.perf_counter() - t0


CHILD = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
from pfseval.io import link_years, read_checkups
def peak_mb():  # this process's own peak (ru_maxrss keeps the parent's at fork)
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) / 1024
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
base = read_checkups(sys.argv[1])
fol = read_checkups(sys.argv[2])
t1 = time.perf_counter()
linked = link_years(base, fol, require=("egfr",))
t2 = time.perf_counter()
print(json.dumps({"read": t1 - t0, "link": t2 - t1, "cpu": cpu() - c0,
                  "rows": len(base), "follow": len(fol),
                  "linked": linked.sample_flow.n_analysed(),
                  "peak_mb": peak_mb()}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--skip-generate", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "link_10m.md")
    args = ap.parse_args()
    gen = None if args.skip_generate else generate(args.data, args.rows, args.format)
    base, fol = args.data / f"base.{args.format}", args.data / f"follow.{args.format}"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(base), str(fol)],
        check=True,
        capture_output=True,
        text=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    mb = (base.stat().st_size + fol.stat().st_size) / 1e6
    lines = [
        "# Reading, validating and linking two yearly extracts",
        "",
        f"Command: `python benchmarks/link_10m.py --data {args.data} --rows {args.rows} "
        f"--format {args.format}"
        + (f" --out {args.out}" if args.out != HERE / "results" / "link_10m.md" else "")
        + "`"
        + (f" (data written in {gen:.0f} s, not timed)." if gen is not None else "."),
        "",
        f"Python {platform.python_version()}, {platform.machine()}, 24 GB machine shared with "
        "other processes of the session (2 cores); one fresh process.",
        "",
        "| quantity | value |",
        "| --- | ---: |",
        f"| files ({args.format}) | {mb:,.0f} MB |",
        f"| baseline / follow-up records | {r['rows']:,} / {r['follow']:,} |",
        f"| linked (with follow-up eGFR) | {r['linked']:,} |",
        f"| read + validate both files | {r['read']:.1f} s |",
        f"| link_years | {r['link']:.1f} s |",
        f"| CPU seconds (all threads) | {r['cpu']:.1f} |",
        f"| **peak memory** | **{r['peak_mb']:,.0f} MB** |",
        "",
        "Target (issue 15): 10 M rows read, validated and linked in ≤ 6 GB.",
        "",
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
