"""Check the workbench's sample sizes and the allocation's speed by simulation.

1. ``participants_needed``: for a grid of true rates and tier thresholds, the number of
   participants it returns is checked with ``--n-sim`` simulated studies each: the share of
   studies whose 95% Wilson interval (``pfseval.inference.wilson``) contains no threshold must
   reach the requested probability (0.8), and at two thirds of that number it must not.
2. ``assess``: its exact expected payment and provider-loss probability against a simulation.
3. ``AllocationScheme.allocate`` on 1,571 insurers (the number of long-term-care insurers) with
   eight scoring tables, and the sum of the amounts.

Run ``python benchmarks/workbench_sample_size.py --n-sim 20000``; it writes
``benchmarks/results/workbench_sample_size.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pfseval.inference import wilson
from pfseval.payment.allocation import AllocationScheme
from pfseval.payment.workbench import assess, draft_contract, participants_needed

OUT = Path(__file__).resolve().parent / "results" / "workbench_sample_size.md"
ROOT = Path(__file__).resolve().parents[1]


def decided_share(n: int, p: float, t: float, n_sim: int, rng: np.random.Generator) -> float:
    xs = rng.binomial(n, p, n_sim)
    # one Wilson interval per distinct count (the same function the tests use)
    bounds = {int(x): wilson(int(x), n) for x in np.unique(xs)}
    return float(np.mean([not (bounds[int(x)][0] < t < bounds[int(x)][1]) for x in xs]))


def _markdown(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-sim", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = []
    for p, t in [
        (0.3, 0.2),
        (0.5, 0.4),
        (0.6, 0.5),
        (0.7, 0.5),
        (0.8, 0.7),
        (0.35, 0.25),
        (0.9, 0.8),
        (0.55, 0.4),
    ]:
        n = participants_needed(true_rate=p, thresholds=[t], prob=0.8)
        share = decided_share(n, p, t, args.n_sim, rng)
        small = decided_share(int(n * 2 / 3), p, t, args.n_sim, rng)
        rows.append(
            {
                "true rate": p,
                "threshold": t,
                "n needed": n,
                "P(decided) at n": round(share, 4),
                "P(decided) at 2n/3": round(small, 4),
            }
        )
    tab = pd.DataFrame(rows)
    se = np.sqrt(0.8 * 0.2 / args.n_sim)

    c = draft_contract(
        service_cost=20000, return_rate=0.2, fixed_share=0.4, indicator="r", label="R", target=0.6
    )
    a = assess(c, service_cost=20000, true_rate=0.55, n=100)
    sim = c.payments((rng.binomial(100, 0.55, args.n_sim) / 100)[:, None]).total
    arow = (
        a.expected_payment,
        float(sim.mean()),
        float(sim.std() / np.sqrt(args.n_sim)),
        a.prob_provider_loss,
        float(np.mean(sim < 20000)),
    )

    scheme = AllocationScheme.from_toml(ROOT / "examples/allocation/r8_municipalities.toml")
    base = scheme.read_units()
    big = pd.concat([base] * 40, ignore_index=True).iloc[:1571].copy()
    big["unit"] = [f"I{i:04d}" for i in range(len(big))]
    noise = rng.normal(0, 0.01, (len(big), 3))
    for j, col in enumerate(["activity_1", "activity_2", "activity_3"]):
        big[col] = (big[col] + noise[:, j]).clip(0, 1)
    t0 = time.perf_counter()
    res = scheme.allocate(big)
    secs = time.perf_counter() - t0

    lines = [
        "# Workbench sample sizes and allocation speed",
        "",
        f"Command: `python benchmarks/workbench_sample_size.py --n-sim {args.n_sim}` "
        f"(seed {args.seed}).",
        "",
        "## participants_needed (95% Wilson interval, probability 0.8)",
        "",
        f"Each row: {args.n_sim} simulated studies at the returned n and at two thirds of it. "
        f"Monte Carlo SE of a share near 0.8: {se:.4f}.",
        "",
        _markdown(tab),
        "",
        f"Every share at n ≥ 0.8 − 3 SE: {bool((tab['P(decided) at n'] >= 0.8 - 3 * se).all())}; "
        f"every share at 2n/3 < 0.8: {bool((tab['P(decided) at 2n/3'] < 0.8).all())}.",
        "",
        "## assess (exact) against simulation",
        "",
        "Draft: cost 20,000, return 20%, fixed 40%, target 0.6; true rate 0.55, n = 100.",
        "",
        f"- expected payment: exact {arow[0]:.3f}, simulated {arow[1]:.3f} (SE {arow[2]:.3f})",
        f"- P(provider loss): exact {arow[3]:.4f}, simulated {arow[4]:.4f}",
        "",
        "## allocate: 1,571 insurers, eight scoring tables",
        "",
        f"- {secs:.3f} s; amounts sum to {res.table['amount'].sum():,.0f} of "
        f"{float(scheme.budget):,.0f} {scheme.unit}",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
