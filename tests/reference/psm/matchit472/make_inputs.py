"""Make the input data for make_reference.R (run: python make_inputs.py .).

ties.csv  : every covariate categorical (age group, sex, smoking, insurer), so propensity
            scores take a few dozen distinct values and ties decide the matched sets.
panel.csv : person-years (fiscal years 2016-2018); a person may be a participant in one
            year and a non-participant in another (unit_id = person).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    rng = np.random.default_rng(20261206)

    n = 2000
    age = rng.choice(["40-49", "50-59", "60-69", "70-74"], n, p=[0.2, 0.25, 0.35, 0.2])
    sex = rng.choice(["F", "M"], n)
    smoke = rng.choice(["no", "yes"], n, p=[0.75, 0.25])
    insurer = rng.choice(["A", "B", "C"], n)
    lin = (
        -2.2
        + 0.5 * (age == "60-69")
        + 0.8 * (age == "70-74")
        + 0.4 * (sex == "M")
        + 0.6 * (smoke == "yes")
        - 0.3 * (insurer == "B")
    )
    treat = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "treat": treat,
            "agegrp": age,
            "sex": sex,
            "smoke": smoke,
            "insurer": insurer,
        }
    ).to_csv(out / "ties.csv", index=False)

    persons = 700
    rows = []
    for p in range(1, persons + 1):
        base_age = rng.integers(40, 72)
        male = int(rng.random() < 0.5)
        years = sorted(rng.choice([2016, 2017, 2018], rng.integers(1, 4), replace=False))
        for y in years:
            a = base_age + (y - 2016)
            sbp = round(float(rng.normal(128 + 0.3 * (a - 55) + 4 * male, 12)), 0)
            hba1c = round(float(rng.normal(6.0 + 0.01 * (a - 55), 0.6)), 1)
            lin = -2.0 + 0.04 * (a - 55) + 0.03 * (sbp - 130) + 0.5 * (hba1c - 6)
            rows.append((p, y, a, male, sbp, hba1c, int(rng.random() < 1 / (1 + np.exp(-lin)))))
    panel = pd.DataFrame(rows, columns=["person", "year", "age", "male", "sbp", "hba1c", "treat"])
    panel.insert(0, "id", np.arange(1, len(panel) + 1))
    panel.to_csv(out / "panel.csv", index=False)

    # continuous covariates only (no duplicated rows): Mahalanobis matching without exact ties
    n = 1500
    x = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.4, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.0]])
    lin = -1.6 + 0.7 * x[:, 0] - 0.4 * x[:, 1] + 0.3 * x[:, 2]
    cont = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "treat": (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int),
            "x1": 50 + 10 * x[:, 0],
            "x2": 130 + 15 * x[:, 1],
            "x3": 6 + 0.8 * x[:, 2],
        }
    )
    cont.to_csv(out / "cont.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
