"""Speed of propensity-score fit + 1:1 caliper matching: pfseval against R's glm + MatchIt.

One run on the same simulated pool (default 1,000,000 people, ~1% treated, 10 covariates),
every timing the median of ``--repeat`` runs (default 3):

- pfseval: :func:`pfseval.psm.fit_propensity` (IRLS as ``glm.fit``), the matching step alone
  (:func:`pfseval.psm.nearest_match`, MatchIt 4.7.2's search, 1:1, caliper 0.2 SD of the
  score), and the whole :func:`pfseval.psm.match` (validation, fit, matching, balance table,
  sample flow);
- R (``benchmarks/psm_speed.R`` through ``Rscript``, when available), once with MatchIt
  4.7.2 (``--r-lib``: a library where it was built from source) and once with the MatchIt of
  the system library (Debian's 4.5.1): ``glm``, ``matchit(method = "nearest", distance = <the
  glm score>, caliper = 0.2)`` (the matching step) and the whole ``matchit(f, method =
  "nearest", caliper = 0.2)`` (its own glm, matching, weights), in the same run.

Peak memory is the peak resident set size of the Python process (``getrusage``) and the
Python-level peak of the fit + match step (``tracemalloc``).

Usage::

    python benchmarks/psm_speed.py --r-lib /work/rlib           # 1,000,000 rows, R 4.7.2 + 4.5.1
    python benchmarks/psm_speed.py --rows 100000 --no-r --repeat 1
    python benchmarks/psm_speed.py --rows 10000000 --no-r --out benchmarks/results/psm_speed_10m.md

Writes ``benchmarks/results/psm_speed.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfseval import __version__
from pfseval.psm import fit_propensity, match, nearest_match

COVS = ["age", "sex", "bmi", "sbp", "dbp", "hba1c", "fpg", "egfr", "urine_protein", "smoking"]
HERE = Path(__file__).resolve().parent


def simulate(rows: int, seed: int) -> pd.DataFrame:
    """A candidate pool with ~1% participants selected on the 10 covariates."""
    rng = np.random.default_rng(seed)
    age = rng.integers(40, 75, rows)
    sex = rng.integers(1, 3, rows)
    bmi = rng.normal(24, 3.5, rows).round(1)
    sbp = rng.normal(130, 16, rows).round()
    dbp = (0.6 * sbp + rng.normal(0, 8, rows)).round()
    hba1c = rng.normal(6.4, 0.9, rows).round(1)
    fpg = (20 * hba1c + rng.normal(0, 12, rows)).round()
    egfr = rng.normal(72 - 0.3 * (age - 55), 14, rows).round(1)
    up = rng.choice(5, rows, p=[0.7, 0.12, 0.1, 0.05, 0.03])
    smoking = (rng.random(rows) < 0.2).astype(int)
    lin = (
        -5.4
        - 0.02 * (age - 60)
        + 0.1 * (sex == 1)
        + 0.05 * (bmi - 24)
        + 0.01 * (sbp - 130)
        + 0.5 * (hba1c - 6.4)
        + 0.004 * (fpg - 128)
        - 0.02 * (egfr - 70)
        + 0.3 * up
        - 0.2 * smoking
    )
    treat = (rng.random(rows) < 1 / (1 + np.exp(-lin))).astype(int)
    return pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "treat": treat,
            "age": age,
            "sex": sex,
            "bmi": bmi,
            "sbp": sbp,
            "dbp": dbp,
            "hba1c": hba1c,
            "fpg": fpg,
            "egfr": egfr,
            "urine_protein": up,
            "smoking": smoking,
        }
    )


def _fit_and_match(data: pd.DataFrame, caliper: float) -> tuple[Any, np.ndarray, float, float]:
    t = data["treat"].to_numpy() == 1
    t0 = time.perf_counter()
    model = fit_propensity(data, treatment="treat", covariates=COVS)
    t1 = time.perf_counter()
    score = model.score.to_numpy()
    width = caliper * float(np.std(score, ddof=1))
    mm = nearest_match(score, t, caliper_width=width, order=np.argsort(-score[t], kind="stable"))
    t2 = time.perf_counter()
    return model, mm, t1 - t0, t2 - t1


def run_python(data: pd.DataFrame, caliper: float, repeat: int) -> dict[str, Any]:
    fits, matches, fulls = [], [], []
    for _ in range(repeat):
        model, mm, fit_s, match_s = _fit_and_match(data, caliper)
        fits.append(fit_s)
        matches.append(match_s)
    tracemalloc.start()  # one more run only for memory (tracing slows Python code down)
    _fit_and_match(data, caliper)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    score = model.score.to_numpy()
    for _ in range(repeat):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t3 = time.perf_counter()
            m = match(data, treatment="treat", covariates=COVS, id_col="id", caliper=caliper)
            fulls.append(time.perf_counter() - t3)
    assert np.array_equal(m.pairs["control_id_1"].isna().to_numpy(), mm[:, 0] < 0)
    fit_med, match_med = float(np.median(fits)), float(np.median(matches))
    return {
        "fit": fit_med,
        "match": match_med,
        "fit_match": float(np.median(np.add(fits, matches))),
        "match_full": float(np.median(fulls)),
        "match_full_all": fulls,
        "matched": int((mm[:, 0] >= 0).sum()),
        "matched_full": m.n_matched_treated,
        "traced_peak_mb": traced_peak / 2**20,
        "score": score,
        "iterations": model.iterations,
    }


def run_r(
    csv: Path, caliper: float, out_scores: Path, r_lib: str | None, repeat: int
) -> dict[str, Any] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("R_LIBS", "R_LIBS_USER")}
    if r_lib:
        env["R_LIBS"] = r_lib
    proc = subprocess.run(
        [rscript, str(HERE / "psm_speed.R"), str(csv), str(caliper), str(out_scores), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not line:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        return None
    res: dict[str, Any] = json.loads(line[-1])
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--caliper", type=float, default=0.2)
    ap.add_argument("--no-r", action="store_true", help="skip the R comparison")
    ap.add_argument("--r-lib", default=None, help="R library with MatchIt (sets R_LIBS)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "psm_speed.md")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing (medians)")
    args = ap.parse_args(argv)

    data = simulate(args.rows, args.seed)
    n1 = int(data["treat"].sum())
    py = run_python(data, args.caliper, args.repeat)
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_r:
            csv = Path(tmp) / "pool.csv"
            data.to_csv(csv, index=False)
            libs = {"4.7.2": args.r_lib, "system": None} if args.r_lib else {"system": None}
            for lib in libs.values():
                r = run_r(csv, args.caliper, Path(tmp) / "scores.csv", lib, args.repeat)
                if r is not None:
                    r_scores = pd.read_csv(Path(tmp) / "scores.csv")["score"].to_numpy()
                    r["score_max_abs_diff"] = float(np.max(np.abs(r_scores - py["score"])))
                    runs[r["matchit"]] = r
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    cmd = "python benchmarks/psm_speed.py" + (
        f" --rows {args.rows}" if args.rows != 1_000_000 else ""
    )
    if args.r_lib and not args.no_r:
        cmd += f" --r-lib {args.r_lib}"
    if args.repeat != 3:
        cmd += f" --repeat {args.repeat}"
    if args.out != HERE / "results" / "psm_speed.md":
        cmd += f" --out {args.out}"
    versions = sorted(runs, reverse=True)  # 4.7.2 first, then 4.5.1
    head = " | ".join(f"MatchIt {v} (s) | {v} / pfseval" for v in versions)
    lines = [
        "# Propensity-score fit + 1:1 caliper matching: pfseval vs R glm + MatchIt",
        "",
        f"Command: `{cmd}{' --no-r' if args.no_r else ''}`",
        "",
        f"pfseval {__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}; machine: {platform.machine()}, {_cpu()}, "
        f"{os.cpu_count()} cores (other processes of the session may run beside it, so "
        f"timings carry noise); wall-clock seconds, medians of {args.repeat} runs, pfseval and R "
        "in the same run.",
        "",
        f"Pool: {args.rows:,} rows, {n1:,} treated ({n1 / args.rows:.2%}), 10 numeric "
        f"covariates; logistic score; greedy 1:1 nearest neighbour, largest score first, "
        f"caliper {args.caliper} SD of the score, without replacement.",
        "",
        f"| step | pfseval (s) | {head} |" if versions else "| step | pfseval (s) |",
        "| --- | ---: |" + " ---: | ---: |" * len(versions),
    ]

    def row(name: str, p: float, key: str) -> str:
        cells = [f"{p:.2f}"]
        for v in versions:
            rv = runs[v].get(key)
            cells += [f"{rv:.2f}", f"{rv / p:.1f}×"] if rv is not None else ["–", "–"]
        return f"| {name} | " + " | ".join(cells) + " |"

    for r in runs.values():
        r["fit_match"] = float(r["glm"]) + float(r["match"])
    lines.append(row("score fit (IRLS / `glm`)", py["fit"], "glm"))
    lines.append(row("matching step", py["match"], "match"))
    lines.append(row("fit + matching", py["fit_match"], "fit_match"))
    lines.append(
        row(
            "**whole `psm.match()` vs whole `matchit()`** (fit, matching, weights; pfseval "
            "adds checks, balance table, flow)",
            py["match_full"],
            "full",
        )
    )
    all_full = ", ".join(f"{x:.2f}" for x in py["match_full_all"])
    lines += [
        "",
        f"- Whole `psm.match()` runs: {all_full} s.",
        f"- Treated matched: pfseval {py['matched']:,} (whole `match()`: "
        f"{py['matched_full']:,})"
        + "".join(f", MatchIt {v} {runs[v]['matched']:,}" for v in versions)
        + ".",
        f"- IRLS iterations on the full pool: {py['iterations']} (logit pools of 200,000 rows "
        "or more start from a fit on every 20th row; glm's stopping rule).",
        f"- Peak memory: whole Python process {peak_rss_mb:,.0f} MB (max RSS, includes the "
        f"simulated data and the full `match()`); Python allocations during fit + matching "
        f"{py['traced_peak_mb']:,.0f} MB (tracemalloc).",
    ]
    for v in versions:
        r = runs[v]
        lines.append(
            f"- R: {r['r_version']}, MatchIt {v} (reference BLAS). Largest |score difference| "
            f"pfseval vs R glm: {r['score_max_abs_diff']:.1e}."
        )
    if versions:
        lines.append(
            "- MatchIt 4.5.1 truncates score differences to integers and sends ties left, so "
            "its matched sets can differ from 4.7.2's (see `tests/reference/psm/README.md`); "
            "pfseval follows 4.7.2."
        )
    else:
        lines.append("- R was not run (`--no-r` or no `Rscript`).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _cpu() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
