"""Coverage of the Kobe suppression-rate intervals on synthetic studies with a known truth.

Each study draws a Kobe-style pool (``pfseval.synthetic.kobe_programme``), matches 1:1 on the
propensity score, runs :func:`pfseval.psm.suppression_rate` and records whether each interval
of the difference (participants − no-effect reference) covers the truth
``Φ(effect/σ) − 0.5``, and whether the intervals of the rate cover ``Φ(effect/σ)``.

Usage::

    python benchmarks/kobe_coverage.py --studies 1000 --n-boot 500 --effect 1.0 --jobs 2

Writes ``benchmarks/results/kobe_coverage.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kobe_common import match_kobe

from pfseval.designs.psm.kobe import suppression_rate
from pfseval.synthetic import kobe_programme

INTERVALS = ("bootstrap", "bootstrap_basic", "bootstrap_bc", "normal")


def _extra(draws: np.ndarray, est: float, level: float) -> dict[str, tuple[float, float]]:
    """Bias-corrected percentile and normal (bootstrap SE) intervals, for comparison."""
    d = draws[np.isfinite(draws)]
    z = stats.norm.ppf(0.5 + level / 2)
    frac = np.clip((np.sum(d < est) + 0.5 * np.sum(d == est)) / d.size, 1e-6, 1 - 1e-6)
    z0 = stats.norm.ppf(frac)
    lo, hi = np.quantile(d, stats.norm.cdf([2 * z0 - z, 2 * z0 + z]))
    se = d.std(ddof=1)
    return {"bootstrap_bc": (float(lo), float(hi)), "normal": (est - z * se, est + z * se)}


def one_study(seed: int, *, n_boot: int, effect: float, n_pool: int, n_participants: int) -> dict:
    ds = kobe_programme(seed=seed, n_pool=n_pool, n_participants=n_participants, effect=effect)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matched, how = match_kobe(ds.data)
        est = suppression_rate(
            matched,
            outcome="egfr_follow",
            baseline="egfr",
            followup_years="followup_years",
            denominator="lifestyle_improved",
            n_boot=n_boot,
            seed=seed,
        )
    truth_rate = ds.truth["suppression_rate_true"]
    truth_diff = truth_rate - ds.truth["suppression_reference_true"]
    out: dict = {"how": how, "rate": est.value, "diff": est.related["difference"].value}
    out["ref"] = est.related["reference_rate"].value
    out["n_den"] = est.n
    out["n_ctrl"] = est.diagnostics["n_controls_used"]
    for name, rel, truth in (
        ("rate", est, truth_rate),
        ("diff", est.related["difference"], truth_diff),
    ):
        ivs = dict(rel.intervals)
        assert rel.draws is not None
        ivs["bootstrap_bc"] = _extra(rel.draws, rel.value, rel.level)["bootstrap_bc"]
        for k, (lo, hi) in ivs.items():
            out[f"{name}:{k}:cover"] = bool(lo <= truth <= hi)
            out[f"{name}:{k}:width"] = hi - lo
            out[f"{name}:{k}:miss_low"] = bool(truth < lo)
    out["truth_rate"] = truth_rate
    out["truth_diff"] = truth_diff
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=1000)
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--effect", type=float, default=1.0)
    ap.add_argument("--n-pool", type=int, default=5000)
    ap.add_argument("--n-participants", type=int, default=105)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed0", type=int, default=20260000)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "kobe_coverage.md"
    )
    args = ap.parse_args(argv)

    from joblib import Parallel, delayed

    t0 = time.perf_counter()
    res = Parallel(n_jobs=args.jobs)(
        delayed(one_study)(
            args.seed0 + i,
            n_boot=args.n_boot,
            effect=args.effect,
            n_pool=args.n_pool,
            n_participants=args.n_participants,
        )
        for i in range(args.studies)
    )
    secs = time.perf_counter() - t0
    S = len(res)
    mc = 1.96 * np.sqrt(0.95 * 0.05 / S)
    lines = [
        "# Kobe suppression rate: coverage of 95% intervals",
        "",
        f"Command: `python benchmarks/kobe_coverage.py --studies {S} --n-boot {args.n_boot} "
        f"--effect {args.effect:g} --n-pool {args.n_pool} --n-participants "
        f"{args.n_participants} --jobs {args.jobs} --seed0 {args.seed0}`  ",
        f"Studies: {S}; matching: {res[0]['how']}; wall time {secs:.0f} s.  ",
        f"Truth: rate Φ(effect/σ) = {res[0]['truth_rate']:.4f}; difference = "
        f"{res[0]['truth_diff']:.4f}. Monte-Carlo ±{mc:.3f} around 0.95 (95%).  ",
        f"Mean estimates: rate {np.mean([r['rate'] for r in res]):.4f}, reference "
        f"{np.mean([r['ref'] for r in res]):.4f}, difference {np.mean([r['diff'] for r in res]):.4f}; "
        f"mean denominator {np.mean([r['n_den'] for r in res]):.1f}, mean controls "
        f"{np.mean([r['n_ctrl'] for r in res]):.1f}.",
        "",
        "| quantity | interval | coverage | interval above truth¹ | mean width |",
        "| --- | --- | --- | --- | --- |",
    ]
    for q in ("diff", "rate"):
        names = [k.split(":")[1] for k in res[0] if k.startswith(f"{q}:") and k.endswith(":cover")]
        for k in names:
            cov = np.mean([r[f"{q}:{k}:cover"] for r in res])
            low = np.mean([r[f"{q}:{k}:miss_low"] for r in res])
            wid = np.mean([r[f"{q}:{k}:width"] for r in res])
            lines.append(f"| {q} | {k} | {cov:.3f} | {low:.3f} | {wid:.3f} |")
    lines += [
        "",
        "¹ share of studies whose interval lies entirely above the truth; the rest of the misses"
        " lie entirely below it.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
