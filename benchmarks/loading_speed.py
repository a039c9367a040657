"""Speed and peak memory of reading a health-check extract: pfseval against pandas, one run.

Generates one synthetic extract (default 1,000,000 rows, the 16 columns of a typical 特定健診
export: zero-padded ids, year, age, sex, body measures, blood pressure, HbA1c, creatinine,
eGFR, dipstick, questionnaire flags, insurer code) and writes it three ways: UTF-8 CSV with
English headers, CP932 CSV with Japanese headers and text codes (男/女, ＋/−) as Japanese systems
export, and Parquet. Then, each in a fresh process (so that peak memory is that step's own),
``--repeat`` runs of each, alternating:

- ``pfseval.io.read_checkups`` (parse, map headers, convert, validate every value);
- ``pandas.read_csv`` with its default type inference (no validation; ``encoding="cp932"`` for
  the CP932 file). It reads the zero-padded ids and insurer codes as integers
  (``000000001`` → 1), which is cheaper but loses them;
- ``pandas.read_csv`` with ``dtype=str`` for those two columns: the same content as pfseval
  returns (ids and codes as text, the rest as numbers), still without validation;
- ``pandas.read_parquet`` (the Parquet file stores the ids as text already).

Time is wall-clock seconds and CPU seconds (user + system of the child, all threads, imports
excluded: pyarrow's modules are loaded before the clock starts, as in a process that reads
several files); peak memory is the child's peak resident set size (``VmHWM``), imports
included, and "added" is that peak minus the resident size just before the read. Ratios are
pfseval / pandas on the same file in the same run.

Usage::

    python benchmarks/loading_speed.py                   # 1,000,000 rows
    python benchmarks/loading_speed.py --rows 100000 --repeat 1

Writes ``benchmarks/results/loading_speed.md`` (or ``--out``); the data go to a temporary
folder (or ``--data``) and are deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import write_report  # noqa: E402  (a script folder, not a package)

JA = {
    "person_id": "受診者ID",
    "fiscal_year": "年度",
    "age": "年齢",
    "sex": "性別",
    "height": "身長",
    "weight": "体重",
    "bmi": "ＢＭＩ",
    "sbp": "収縮期血圧",
    "dbp": "拡張期血圧",
    "hba1c": "ＨｂＡ１ｃ",
    "creatinine": "血清クレアチニン",
    "egfr": "ｅＧＦＲ",
    "urine_protein": "尿蛋白",
    "med_bp": "服薬1（血圧）",
    "smoking": "喫煙",
    "insurer_code": "保険者番号",
}


def extract(rows: int, seed: int, *, year: int = 2019) -> pd.DataFrame:
    """A plausible extract (every value inside the vocabulary's ranges, ~3% missing labs)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(40, 75, rows)
    sex = rng.integers(1, 3, rows)
    height = np.round(np.where(sex == 1, 168.0, 155.0) + rng.normal(0, 6, rows), 1)
    bmi_true = np.clip(rng.normal(23.5, 3.2, rows), 16, 40)
    weight = np.round(bmi_true * (height / 100) ** 2, 1)
    bmi = np.round(weight / (height / 100) ** 2, 1)
    sbp = np.round(np.clip(rng.normal(128, 16, rows), 90, 200))
    dbp = np.round(np.clip(sbp * 0.62 + rng.normal(0, 6, rows), 50, sbp - 10))
    hba1c = np.round(np.clip(rng.normal(5.8, 0.7, rows), 4.3, 12.0), 1)
    egfr = np.round(np.clip(rng.normal(75, 15, rows), 15, 130), 1)
    creat = np.round(np.clip(70 / egfr * np.where(sex == 1, 1.0, 0.75), 0.3, 4.0), 2)
    miss = rng.random(rows) < 0.03
    return pd.DataFrame(
        {
            "person_id": np.char.zfill(np.arange(1, rows + 1).astype(str), 9),
            "fiscal_year": np.full(rows, year),
            "age": age,
            "sex": sex,
            "height": height,
            "weight": weight,
            "bmi": bmi,
            "sbp": sbp,
            "dbp": dbp,
            "hba1c": np.where(miss, np.nan, hba1c),
            "creatinine": np.where(miss, np.nan, creat),
            "egfr": np.where(miss, np.nan, egfr),
            "urine_protein": rng.choice([0, 1, 2, 3, 4], rows, p=[0.8, 0.1, 0.06, 0.03, 0.01]),
            "med_bp": rng.integers(0, 2, rows),
            "smoking": rng.integers(0, 2, rows),
            "insurer_code": np.where(rng.random(rows) < 0.5, "00123456", "00654321"),
        }
    )


def write_files(df: pd.DataFrame, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv_utf8": folder / "kenshin_utf8.csv",
        "csv_cp932": folder / "kenshin_cp932.csv",
        "parquet": folder / "kenshin.parquet",
    }
    df.to_csv(paths["csv_utf8"], index=False, encoding="utf-8")
    ja = df.rename(columns=JA)
    ja["性別"] = np.where(df["sex"] == 1, "男", "女")
    ja["尿蛋白"] = df["urine_protein"].map({0: "−", 1: "±", 2: "＋", 3: "2+", 4: "3+"})
    ja.to_csv(paths["csv_cp932"], index=False, encoding="cp932")
    df.to_parquet(paths["parquet"], index=False)
    return paths


CHILD = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
what, path = sys.argv[1], sys.argv[2]
import pandas as pd
def status_mb(key):
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith(key)) / 1024
rss_mb = lambda: status_mb("VmRSS:")
if what == "pfseval":
    from pfseval.io import read_checkups
    import pyarrow.compute, pyarrow.csv, pyarrow.parquet  # loaded once per process, not per file
    fn = lambda: read_checkups(path)
elif what in ("pandas_csv", "pandas_csv_ids"):
    enc = "cp932" if "cp932" in path else "utf-8"
    ids = ["受診者ID", "保険者番号"] if enc == "cp932" else ["person_id", "insurer_code"]
    kw = {"dtype": dict.fromkeys(ids, str)} if what == "pandas_csv_ids" else {}
    fn = lambda: pd.read_csv(path, encoding=enc, **kw)
else:
    fn = lambda: pd.read_parquet(path)
base_mb = rss_mb()
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
df = fn()
wall = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
sys_s = r1.ru_stime - r0.ru_stime  # the kernel's share: mostly first touches of fresh memory
peak = status_mb("VmHWM:")  # this process's own peak (ru_maxrss keeps the parent's at fork)
print(json.dumps({"wall": wall, "cpu": cpu, "sys": sys_s, "rows": len(df), "peak_mb": peak,
                  "added_mb": peak - base_mb}))
"""


# Touches 1.5 GB and exits. Run before each measured process, so that every run starts from
# the same state of the machine's memory: freed a moment ago, still backed by the host.
# Without it a run's speed depends on the run before: this virtual machine hands memory left
# free for a while back to its host (a two-second pause before a read is enough: both tools
# then read two to five times slower), and each first touch of such memory is a slow fault. A
# process that needs more memory than the one before it freed can get some of that memory.
SETTLE = "import numpy as np; np.ones(3 << 26)"


def _once(what: str, path: Path, *, settle: bool = True) -> dict[str, Any]:
    if settle:
        subprocess.run([sys.executable, "-c", SETTLE], check=True)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(path)], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure(
    what: list[str], path: Path, repeat: int, *, settle: bool = True
) -> list[dict[str, Any]]:
    """``repeat`` rounds of one fresh run of each tool in ``what`` (pfseval first), in turn: a
    slow spell of the machine falls on all of them. Returns each tool's medians and minima,
    with every run's wall time (in order) for the paired ratios."""
    runs: dict[str, list[dict[str, Any]]] = {w: [] for w in what}
    for _ in range(repeat):
        for w in what:
            runs[w].append(_once(w, path, settle=settle))
    keys = ("wall", "cpu", "sys", "peak_mb", "added_mb", "rows")
    summary = []
    for w in what:
        r = runs[w]
        out: dict[str, Any] = {k: statistics.median(x[k] for x in r) for k in keys}
        out["min_wall"] = min(x["wall"] for x in r)
        out["walls"] = [x["wall"] for x in r]
        summary.append(out)
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument(
        "--no-settle",
        dest="settle",
        action="store_false",
        help="skip the 1.5 GB touch before each run (see SETTLE)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "loading_speed.md")
    args = ap.parse_args()

    folder = args.data or Path(tempfile.mkdtemp(prefix="pfseval-loading-"))
    t0 = time.perf_counter()
    paths = write_files(extract(args.rows, args.seed), folder)  # the frame is freed here
    gen = time.perf_counter() - t0
    ids = "dtype={'person_id': str, 'insurer_code': str}"
    ids_ja = "dtype={'受診者ID': str, '保険者番号': str}"
    cases = [
        ("CSV UTF-8", paths["csv_utf8"], [
            ("pandas_csv", "`pandas.read_csv` (ids as integers)"),
            ("pandas_csv_ids", f"`pandas.read_csv({ids})`"),
        ]),
        ("CSV CP932 (Japanese headers, text codes)", paths["csv_cp932"], [
            ("pandas_csv", "`pandas.read_csv(encoding='cp932')` (ids as integers)"),
            ("pandas_csv_ids", f"`pandas.read_csv(encoding='cp932', {ids_ja})`"),
        ]),
        ("Parquet", paths["parquet"], [("pandas_parquet", "`pandas.read_parquet`")]),
    ]  # fmt: skip
    rows = []
    for label, path, refs in cases:
        ours, *theirs = measure(
            ["pfseval", *(w for w, _ in refs)], path, args.repeat, settle=args.settle
        )
        for (_, name), t in zip(refs, theirs, strict=True):
            rows.append((label, path.stat().st_size / 1e6, ours, t, name))
        print(label, ours, theirs, flush=True)
    if not args.keep and args.data is None:
        shutil.rmtree(folder)

    from pfseval import __version__

    lines = [
        "# Loading speed: pfseval.io.read_checkups against pandas",
        "",
        f"Command: `python benchmarks/loading_speed.py --rows {args.rows} --repeat "
        f"{args.repeat}{'' if args.settle else ' --no-settle'}` (data written in {gen:.0f} s, "
        "not timed).",
        "",
        f"pfseval {__version__}, pandas {pd.__version__}, "
        f"pyarrow {__import__('pyarrow').__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; 2 cores; {args.repeat} rounds of one fresh process of each tool, "
        "pfseval first.",
        "",
        "pfseval parses, maps Japanese headers, converts text codes and validates every value "
        "(ranges, codes, duplicates, BP order, BMI consistency); pandas only parses.",
        "",
        "Each CSV is compared with two pandas reads. With its default type inference pandas "
        "reads the zero-padded ids and insurer codes as integers (`000000001` becomes 1): "
        "cheaper, but the ids are lost. Told to read those two columns as text, pandas returns "
        "the same content as pfseval. Both ratios are shown.",
        "",
        "On this virtual machine memory left free for a while is handed back to the host, and "
        "touching it again is slow (system time). "
        + (
            "Each run is therefore preceded by a process that touches 1.5 GB and exits, so "
            "that every run starts from the same state: memory freed a moment ago. "
            if args.settle
            else "Runs were not settled (--no-settle): a run's time depends on the run before. "
        )
        + "Three ratios are shown: of the medians, of the fastest runs, and the median of "
        "each pfseval run's time over that of the pandas run of the same round.",
        "",
        "| file | MB | rows | pfseval wall s (fastest) | pfseval CPU s (of which system) "
        "| pfseval peak MB (added) | pandas | pandas wall s (fastest) | pandas CPU s (of which "
        "system) | pandas peak MB (added) | wall ratio: medians | fastest | paired | CPU "
        "ratio | peak ratio | added-memory ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | "
        "---: | ---: | ---: | ---: |",
    ]
    for label, mb, o, t, name in rows:
        paired = [a / b for a, b in zip(o["walls"], t["walls"], strict=True)]
        lines.append(
            f"| {label} | {mb:.0f} | {int(o['rows']):,} | {o['wall']:.2f} ({o['min_wall']:.2f}) "
            f"| {o['cpu']:.2f} ({o['sys']:.2f}) | {o['peak_mb']:.0f} ({o['added_mb']:.0f}) | "
            f"{name} | {t['wall']:.2f} ({t['min_wall']:.2f}) | {t['cpu']:.2f} ({t['sys']:.2f}) "
            f"| {t['peak_mb']:.0f} ({t['added_mb']:.0f}) | {o['wall'] / t['wall']:.2f} | "
            f"{o['min_wall'] / t['min_wall']:.2f} | {statistics.median(paired):.2f} | "
            f"{o['cpu'] / t['cpu']:.2f} | {o['peak_mb'] / t['peak_mb']:.2f} | "
            f"{o['added_mb'] / t['added_mb']:.2f} |"
        )
    lines += ["", "Every run's wall seconds, in order (pfseval | pandas):", ""]
    for label, _mb, o, t, name in rows:
        ours = ", ".join(f"{w:.2f}" for w in o["walls"])
        theirs = ", ".join(f"{w:.2f}" for w in t["walls"])
        lines.append(f"- {label}, {name}: {ours} | {theirs}")
    lines += [
        "",
        "Targets (issue 15): CSV ≤ 1.5× `read_csv` time and ≤ 1.3× its peak memory; Parquet ≤ 2× "
        "`read_parquet`. The issue does not say which `read_csv` call; both are shown above.",
        "",
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
