"""Write the small Kobe reference data set (run once; the CSVs are stored).

``python tests/reference/kobe/make_data.py`` writes ``kobe_small.csv`` (people),
``kobe_small_pairs.csv`` (1:2 matched sets without replacement, some sets with one control)
and ``kobe_small_pairs_repl.csv`` (1:1 with replacement: some controls in several sets).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(20261122)
    n_t, n_c = 40, 90
    n = n_t + n_c
    age = rng.integers(40, 75, size=n)
    sex = rng.integers(1, 3, size=n)
    egfr = np.round(rng.normal(70, 12, size=n), 1)
    hba1c = np.round(rng.normal(7.2, 0.8, size=n), 1)
    treated = np.r_[np.ones(n_t, int), np.zeros(n_c, int)]
    years = np.round(rng.uniform(2.8, 3.2, size=n), 2)
    slope = (
        (-0.8 - 0.03 * (age - 60) - 0.2 * (sex == 1) + 0.01 * (egfr - 70) - 0.4 * (hba1c - 7))
        + 0.8 * treated
        + rng.normal(0, 2.0, size=n)
    )
    follow = np.round(egfr + slope * years, 1)
    follow[[3, 11, 27, 45, 60, 99]] = np.nan  # no follow-up record
    improved = np.where(treated == 1, (rng.random(n) < 0.8).astype(float), np.nan)
    ids = [f"K{i:03d}" for i in range(n)]
    pd.DataFrame(
        {
            "person_id": ids,
            "treated": treated,
            "age": age,
            "sex": sex,
            "egfr": egfr,
            "hba1c": hba1c,
            "egfr_follow": follow,
            "followup_years": years,
            "lifestyle_improved": improved,
        }
    ).to_csv(HERE / "kobe_small.csv", index=False)
    # 1:2 without replacement: controls 40.. in order; the last 5 sets get one control only
    c_ids = ids[n_t:]
    c1 = c_ids[:n_t]
    c2: list[str | None] = list(c_ids[n_t : 2 * n_t - 5]) + [None] * 5
    pd.DataFrame({"treated_id": ids[:n_t], "control_id_1": c1, "control_id_2": c2}).to_csv(
        HERE / "kobe_small_pairs.csv", index=False
    )
    # 1:1 with replacement: the first 10 controls serve two sets each
    rep = [c_ids[i % 30] for i in range(n_t)]
    pd.DataFrame({"treated_id": ids[:n_t], "control_id_1": rep}).to_csv(
        HERE / "kobe_small_pairs_repl.csv", index=False
    )
    # the fold of each matched set that suppression_rate(seed=11, k_folds=5) assigns
    from pfseval.designs.psm.kobe import _folds

    pd.DataFrame({"treated_id": ids[:n_t], "fold": _folds(n_t, 5, 11)}).to_csv(
        HERE / "kobe_small_folds.csv", index=False
    )


if __name__ == "__main__":
    main()
