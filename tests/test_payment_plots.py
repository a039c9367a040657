"""The payment-curve plot (the payment notebook is executed by tests/test_notebooks.py)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from pfseval.payment import Contract, payment_curve
from pfseval.result import Estimate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "contracts"


def test_payment_curve_traces_the_schedule_and_marks_the_estimate() -> None:
    c = Contract.from_toml(EXAMPLES / "kobe.toml")
    est = Estimate(estimand="suppression_rate", value=0.329, conf_low=0.23, conf_high=0.445)
    fig = payment_curve(c, "suppression_rate", estimate=est)
    ax = fig.axes[0]
    curve = ax.lines[0]
    x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    # the curve is the rounded schedule: floor(min(x / 0.8, 1) × 7,860)
    expected = np.floor(np.clip(x / 0.8, 0, 1) * 7860 + 1e-9)
    assert np.array_equal(y, expected)
    assert y.max() == 7860 and x.max() > 0.8
    marked = {
        (round(float(a), 3), float(b))
        for ln in ax.lines[1:]
        for a, b in zip(np.atleast_1d(ln.get_xdata()), np.atleast_1d(ln.get_ydata()), strict=True)
    }
    # point estimate and both CI limits with their payments (3,232; 2,259; 4,372)
    assert {(0.329, 3232.0), (0.23, 2259.0), (0.445, 4372.0)} <= marked
    plt.close(fig)


def test_payment_curve_step_schedule_and_existing_axes() -> None:
    c = Contract.from_toml(EXAMPLES / "cancer_screening.toml")
    fig, ax = plt.subplots()
    out = payment_curve(c, 0, estimate=0.16, ax=ax)
    assert out is fig
    y = np.asarray(ax.lines[0].get_ydata())
    assert set(np.unique(y)) == {0.0, 500.0, 1200.0, 2000.0, 2500.0}
    plt.close(fig)
    with pytest.raises(KeyError):
        payment_curve(c, "nope")
