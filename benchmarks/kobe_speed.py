"""Speed of the whole Kobe indicator: matching + suppression rate with B = 2000.

Usage::

    python benchmarks/kobe_speed.py --n-pool 100000 --n-participants 1000 --n-boot 2000 --jobs 1

Writes ``benchmarks/results/kobe_speed.md`` (or ``--out``). Target (issue 3): under 15 s for a
100,000-row pool, matching included.

Pool-size mode (issue 15: the rate step must cost the same for any pool size)::

    python benchmarks/kobe_speed.py --pool-sizes 10000 1000000 --n-boot 2000

matches once on the smallest pool, then embeds the *same* matched sample in pools of each size
(the extra rows are unmatched controls, copies of the pool's unmatched controls with new ids,
counted in the matching flow), and times ``suppression_rate`` alone (matching excluded). The
estimates must be identical; the ratio of the times is the pool-size cost. Writes
``benchmarks/results/kobe_pool_size.md``. Target: ratio ≤ 1.2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kobe_common import COVARIATES, match_kobe

from pfseval.designs.psm.kobe import suppression_rate
from pfseval.messages import Message
from pfseval.result import SampleFlow
from pfseval.synthetic import kobe_programme


def padded(matched, n_pool: int):  # type: ignore[no-untyped-def]
    """The same matched sample inside a pool of ``n_pool`` rows (extra unmatched controls)."""
    import numpy as np
    import pandas as pd

    data = matched.data
    pad = n_pool - len(data)
    if pad <= 0:
        return matched
    w = matched.weights.to_numpy()
    spare = np.flatnonzero((w == 0) & (data[matched.treatment].to_numpy() == 0))
    rows = np.random.default_rng(0).choice(spare, size=pad, replace=True)
    extra = data.iloc[rows].copy()
    extra[matched.id_col] = [f"PAD{i:07d}" for i in range(pad)]
    new_ids = pd.Index(extra[matched.id_col], name=matched.weights.index.name)
    flow = matched.sample_flow
    n_input = dict(flow.n_input)
    n_input["control"] += pad
    flow = SampleFlow(n_input=n_input, steps=flow.steps, labels=flow.labels).exclude(
        Message("psm.flow.not_selected"), pad, group="control"
    )
    return dataclasses.replace(
        matched,
        data=pd.concat([data, extra], ignore_index=True),
        distance=pd.concat([matched.distance, pd.Series(0.0, index=new_ids)]),
        weights=pd.concat([matched.weights, pd.Series(0.0, index=new_ids)]),
        subclass=pd.concat(
            [matched.subclass, pd.Series(pd.NA, index=new_ids, dtype=matched.subclass.dtype)]
        ),
        sample_flow=flow,
    )


def rate_step(matched, n_boot: int, jobs: int):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est = suppression_rate(
            matched,
            outcome="egfr_follow",
            baseline="egfr",
            followup_years="followup_years",
            denominator="lifestyle_improved",
            n_boot=n_boot,
            seed=1,
            n_jobs=jobs,
        )
        return time.perf_counter() - t0, est


def pool_sizes(args: argparse.Namespace) -> int:
    sizes = sorted(args.pool_sizes)
    ds = kobe_programme(seed=1, n_pool=sizes[0], n_participants=args.n_participants)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base, how = match_kobe(ds.data, COVARIATES)
    times: dict[int, list[float]] = {}
    results = {}
    for size in sizes:
        m = padded(base, size)
        rate_step(m, args.n_boot, args.jobs)  # warm-up (imports, caches)
        times[size] = []
        for _ in range(args.repeats):
            t, est = rate_step(m, args.n_boot, args.jobs)
            times[size].append(t)
        results[size] = est
    ref = results[sizes[0]]
    same = all(
        (e.value, e.conf_low, e.conf_high) == (ref.value, ref.conf_low, ref.conf_high)
        for e in results.values()
    )
    best = {s: min(t) for s, t in times.items()}
    ratio = best[sizes[-1]] / best[sizes[0]]
    cmd = " ".join(str(s) for s in sizes)
    lines = [
        "# Kobe indicator: cost of the rate step by pool size",
        "",
        f"Command: `python benchmarks/kobe_speed.py --pool-sizes {cmd} --n-participants "
        f"{args.n_participants} --n-boot {args.n_boot} --jobs {args.jobs} --repeats "
        f"{args.repeats}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs (shared with other "
        f"jobs), Python {platform.python_version()}.  ",
        f"Matching (excluded from the times): {how} on the {sizes[0]:,}-row pool; the same "
        "matched sample is embedded in each larger pool (extra unmatched controls).  ",
        f"{ref.diagnostics['n_matched_sets']} matched sets, "
        f"{ref.diagnostics['n_controls_used']} controls in the regression, {ref.n} "
        f"participants in the denominator, B = {args.n_boot}.",
        "",
        "| pool rows | suppression_rate, best of runs (s) | all runs (s) |",
        "| --- | --- | --- |",
    ]
    for size in sizes:
        runs = ", ".join(f"{t:.2f}" for t in times[size])
        lines.append(f"| {size:,} | {best[size]:.2f} | {runs} |")
    lines += [
        "",
        f"Ratio largest / smallest pool: **{ratio:.2f}×** (target ≤ 1.2×). Estimates identical "
        f"in every pool: {same} (rate {ref.value:.4f} [{ref.conf_low:.4f}, "
        f"{ref.conf_high:.4f}]).",
    ]
    out = args.out if args.out_given else args.out.parent / "kobe_pool_size.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-pool", type=int, default=100_000)
    ap.add_argument("--n-participants", type=int, default=1000)
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--pool-sizes",
        type=int,
        nargs="+",
        default=None,
        help="time the rate step alone with the same matched sets in pools of these sizes",
    )
    args = ap.parse_args(argv)
    args.out_given = args.out is not None
    if args.out is None:
        args.out = Path(__file__).parent / "results" / "kobe_speed.md"
    if args.pool_sizes:
        return pool_sizes(args)

    ds = kobe_programme(seed=1, n_pool=args.n_pool, n_participants=args.n_participants)
    rows = []
    for _ in range(args.repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            matched, how = match_kobe(ds.data, COVARIATES)
            t_match = time.perf_counter() - t0
        t_rate, est = rate_step(matched, args.n_boot, args.jobs)
        rows.append((t_match, t_rate, t_match + t_rate))
    best = min(rows, key=lambda r: r[2])
    lines = [
        "# Kobe indicator: speed",
        "",
        f"Command: `python benchmarks/kobe_speed.py --n-pool {args.n_pool} --n-participants "
        f"{args.n_participants} --n-boot {args.n_boot} --jobs {args.jobs} --repeats "
        f"{args.repeats}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs (shared with other "
        f"jobs), Python {platform.python_version()}.  ",
        f"Matching: {how}; {len(est.private['per_control'])} controls in the regression, "
        f"{est.n} participants in the denominator, {len(est.diagnostics['regressors'])} "
        "regressors.",
        "",
        "| run | matching (s) | suppression rate incl. bootstrap (s) | total (s) |",
        "| --- | --- | --- | --- |",
    ]
    for i, (a, b, c) in enumerate(rows, 1):
        lines.append(f"| {i} | {a:.2f} | {b:.2f} | {c:.2f} |")
    lines += [
        "",
        f"Best total: **{best[2]:.2f} s** (target < 15 s). Result: rate {est.value:.3f} "
        f"[{est.conf_low:.3f}, {est.conf_high:.3f}], reference "
        f"{est.related['reference_rate'].value:.3f}, difference "
        f"{est.related['difference'].value:.3f}.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
