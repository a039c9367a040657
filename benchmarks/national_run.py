"""A national-scale Kobe-style evaluation: 30 M health-check records × 2 years, out of core.

1. **Generate** (not timed in the run): a synthetic national extract of ``--persons`` records
   for fiscal 2016 and the follow-up records (about 80% of them) for fiscal 2019, written in
   chunks of ``--chunk`` rows to Parquet (``<data>/2016/part-*.parquet``,
   ``<data>/2019/part-*.parquet``): ids, year, age, sex, municipality code (about 1,700),
   BMI, blood pressure, HbA1c, eGFR, dipstick protein, glucose medication and a ``treated`` flag
   for the programme's participants (about 2,000 people with diabetic-nephropathy risk). Peak
   memory of the generator is one chunk.
2. **Extract** with :func:`pfseval.scale.extract_cohort` (DuckDB, ``--memory-limit``): the two
   years linked on the id (eGFR required at follow-up), the Kobe target filters (age 40–74,
   HbA1c ≥ 6.5% or glucose medication, eGFR 30–89, dipstick ≤ 2+) — only the cohort's analysed
   columns reach pandas.
3. **Match** (:func:`pfseval.psm.match`, logit score, 1:1 nearest neighbour, caliper 0.2) and
   compute the **Kobe suppression rate** (:func:`pfseval.psm.suppression_rate`, B = 2,000).

Time is wall-clock per step; peak memory is the peak resident set size of this process
(``getrusage``: DuckDB runs in it) and of the generator (a child process).

Usage::

    python benchmarks/national_run.py --data /work/bigdata/national     # 30,000,000 persons
    python benchmarks/national_run.py --data /tmp/nat --persons 1000000  # a quick look

Writes ``benchmarks/results/national_run.md`` (or ``--out``). Never commit the data.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import write_report  # noqa: E402  (a script folder, not a package)

N_MUNICIPALITIES = 1700
COVARIATES = ["age", "sex", "bmi", "sbp", "hba1c", "egfr", "urine_protein"]


def _chunk(
    start: int, n: int, seed: int, n_treated_share: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Baseline and follow-up rows of persons ``start .. start + n - 1``."""
    rng = np.random.default_rng([seed, start])
    ids = np.char.add("N", np.char.zfill(np.arange(start, start + n).astype(str), 10))
    age = rng.integers(40, 75, n)
    sex = rng.integers(1, 3, n)
    bmi = np.round(np.clip(rng.normal(23.5, 3.3, n), 15, 45), 1)
    sbp = np.round(np.clip(rng.normal(128 + 0.3 * (age - 55), 16, n), 85, 220))
    hba1c = np.round(np.clip(rng.lognormal(np.log(5.7), 0.12, n), 4.2, 14), 1)
    egfr = np.round(np.clip(rng.normal(92 - 0.6 * (age - 40), 14, n), 8, 140), 1)
    up = rng.choice([0, 1, 2, 3, 4], n, p=[0.82, 0.09, 0.05, 0.03, 0.01])
    med = (rng.random(n) < 0.02 + 0.25 * (hba1c >= 6.5)).astype(np.int64)
    risk = (hba1c >= 6.5) & (egfr >= 30) & (egfr < 90)
    lin = -4.0 + 0.04 * (age - 55) + 0.5 * (hba1c - 6.5) - 0.02 * (egfr - 60)
    p = n_treated_share * np.exp(lin) / (1 + np.exp(lin)) * 40
    treated = (risk & (rng.random(n) < p)).astype(np.int64)
    muni = rng.integers(1, N_MUNICIPALITIES + 1, n)
    base = pd.DataFrame(
        {
            "person_id": ids,
            "fiscal_year": np.full(n, 2016),
            "municipality": np.char.zfill(muni.astype(str), 5),
            "age": age,
            "sex": sex,
            "bmi": bmi,
            "sbp": sbp,
            "hba1c": hba1c,
            "egfr": egfr,
            "urine_protein": up,
            "med_glucose": med,
            "treated": treated,
        }
    )
    follow_up = rng.random(n) < 0.8
    decline = rng.normal(1.2 + 0.03 * (hba1c - 5.7) * 10 - 0.5 * treated, 1.5, n)
    fol = base.loc[follow_up, ["person_id", "sex", "bmi", "sbp", "hba1c"]].copy()
    fol.insert(1, "fiscal_year", 2019)
    fol.insert(2, "age", age[follow_up] + 3)
    fol["egfr"] = np.round(np.clip(egfr - 3 * decline, 5, 150), 1)[follow_up]
    return base, fol


def generate(folder: Path, persons: int, chunk: int, seed: int) -> dict[str, float]:
    t0 = time.perf_counter()
    for year in ("2016", "2019"):
        (folder / year).mkdir(parents=True, exist_ok=True)
    for i, start in enumerate(range(0, persons, chunk)):
        base, fol = _chunk(start, min(chunk, persons - start), seed, 0.0025)
        base.to_parquet(folder / "2016" / f"part-{i:04d}.parquet", index=False)
        fol.to_parquet(folder / "2019" / f"part-{i:04d}.parquet", index=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 1e9
    return {"seconds": time.perf_counter() - t0, "peak_mb": peak, "gb": size}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(folder: Path, memory_limit: str, threads: int, n_boot: int) -> dict[str, float]:
    from pfseval import psm
    from pfseval.batch.spec import Filter
    from pfseval.scale import extract_cohort

    steps: dict[str, float] = {}
    t0, c0 = time.perf_counter(), _cpu()
    cohort = extract_cohort(
        folder / "2016" / "*.parquet",
        followup=folder / "2019" / "*.parquet",
        require=("egfr",),
        where=[
            Filter("age", "between", [40, 74], reason="aged outside 40-74"),
            Filter(
                "",
                "any",
                any_of=(Filter("hba1c", ">=", 6.5), Filter("med_glucose", "==", 1)),
                reason="no diabetes",
            ),
            Filter("egfr", "between", [30, 89.9], reason="eGFR outside 30-89"),
            Filter("urine_protein", "<=", 2, reason="dipstick 2+ or more"),
            Filter("egfr_follow", "not_missing", reason="no follow-up eGFR"),
        ],
        columns=["person_id", "treated", *COVARIATES, "egfr_follow", "followup_years"],
        memory_limit=memory_limit,
        threads=threads,
        temp_directory=folder / "duckdb_tmp",
    )
    steps["extract_seconds"] = time.perf_counter() - t0
    steps["extract_cpu"] = _cpu() - c0
    steps["records_per_year"] = cohort.n_records
    steps["cohort_rows"] = len(cohort.data)
    steps["participants"] = int(cohort.data["treated"].sum())
    steps["peak_after_extract_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data = cohort.data.assign(
        **{c: cohort.data[c].astype(float) for c in ("age", "sex", "urine_protein", "treated")}
    )
    t0, c0 = time.perf_counter(), _cpu()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matched = psm.match(
            data,
            treatment="treated",
            covariates=COVARIATES,
            id_col="person_id",
            caliper=0.2,
            seed=1,
        )
        steps["match_seconds"] = time.perf_counter() - t0
        steps["match_cpu"] = _cpu() - c0
        t0, c0 = time.perf_counter(), _cpu()
        rate = psm.suppression_rate(
            matched,
            outcome="egfr_follow",
            baseline="egfr",
            followup_years="followup_years",
            n_boot=n_boot,
            seed=1,
        )
    steps["kobe_seconds"] = time.perf_counter() - t0
    steps["kobe_cpu"] = _cpu() - c0
    steps["rate"] = rate.value
    steps["conf_low"] = rate.conf_low
    steps["conf_high"] = rate.conf_high
    steps["n_rate"] = rate.n
    steps["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--persons", type=int, default=30_000_000)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--memory-limit", default="6GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--skip-generate", action="store_true")
    ap.add_argument(
        "--generated", default="", help="the generation figures (JSON) of an earlier call"
    )
    ap.add_argument("--step", choices=["generate", "all"], default="all")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "national_run.md")
    args = ap.parse_args()
    if args.step == "generate":
        print(json.dumps(generate(args.data, args.persons, args.chunk, args.seed)))
        return
    gen: dict[str, float] = json.loads(args.generated) if args.generated else {}
    if not args.skip_generate:
        out = subprocess.run(
            [sys.executable, __file__, "--step", "generate", "--data", str(args.data),
             "--persons", str(args.persons), "--chunk", str(args.chunk), "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        gen = json.loads(out.stdout.strip().splitlines()[-1])
        print("generated", gen, flush=True)
    t0, c0 = time.perf_counter(), _cpu()
    res = run(args.data, args.memory_limit, args.threads, args.n_boot)
    total, total_cpu = time.perf_counter() - t0, _cpu() - c0
    print(res, flush=True)

    import duckdb

    from pfseval import __version__

    cmd = (
        f"python benchmarks/national_run.py --data {args.data} --persons {args.persons} "
        f"--memory-limit {args.memory_limit} --threads {args.threads} --n-boot {args.n_boot}"
    )
    lines = [
        "# National-scale run: Kobe-style evaluation on 2 × 30 M records, out of core",
        "",
        f"Command: `{cmd}`",
        "",
        f"pfseval {__version__}, duckdb {duckdb.__version__}, pandas {pd.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}, 24 GB machine shared with other "
        "jobs (2 cores; wall-clock times depend on their load, CPU seconds less so). One run.",
        "",
    ]
    if gen:
        lines += [
            f"Generation (not part of the run): {args.persons:,} baseline records + follow-up "
            f"records in chunks of {args.chunk:,} → {gen['gb']:.2f} GB of Parquet in "
            f"{gen['seconds']:.0f} s, peak memory {gen['peak_mb']:.0f} MB.",
            "",
        ]
    lines += [
        "| step | result |",
        "| --- | --- |",
        f"| baseline records read (and linked, validated) | {res['records_per_year']:,} |",
        f"| DuckDB extract: validation, linkage, filters, flow counts | "
        f"{res['extract_seconds']:.1f} s ({res['extract_cpu']:.1f} s CPU) |",
        f"| cohort rows reaching pandas | {res['cohort_rows']:,} "
        f"({res['participants']:,} participants) |",
        f"| peak memory after the extract | {res['peak_after_extract_mb']:,.0f} MB |",
        f"| `psm.match` (logit, 1:1, caliper 0.2) | {res['match_seconds']:.1f} s "
        f"({res['match_cpu']:.1f} s CPU) |",
        f"| `psm.suppression_rate` (B = {args.n_boot}) | {res['kobe_seconds']:.1f} s "
        f"({res['kobe_cpu']:.1f} s CPU) |",
        f"| suppression rate [95% CI] | {res['rate']:.3f} [{res['conf_low']:.3f}, "
        f"{res['conf_high']:.3f}] (n = {res['n_rate']:,}) |",
        f"| **whole run** | **{total:.1f} s** ({total_cpu:.1f} s CPU, all threads) |",
        f"| **peak memory (process, DuckDB included)** | **{res['peak_mb']:,.0f} MB** |",
        "",
        "Target (issue 15): time and peak memory recorded, under 24 GB.",
        "",
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
