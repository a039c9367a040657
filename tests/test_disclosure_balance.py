"""Issue 11: an SMD or variance ratio of a two-valued covariate, with the group's size, gives
back how many people of the group have each value ("3 women among the participants").

The attack: for a 1/2-coded sex covariate, the treated mean is 1 + k/n; the published SMD
and variance ratio (and the control group's statistics) pin k down. The appendix and the
design appendix therefore withhold every statistic of such a variable when a group holds
fewer than min_cell people at one of its values, in the balance table and in the Love plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    from pfseval.batch import load_spec, run_spec
    from pfseval.synthetic import kobe_programme

    d = tmp_path_factory.mktemp("balance_attack")
    (d / "data").mkdir()
    data = kobe_programme(seed=7, n_pool=1500, n_participants=120).data
    treated = data["treated"] == 1
    # five women among the participants, everyone else among them a man
    data.loc[treated, "sex"] = 1
    data.loc[data.index[treated][:5], "sex"] = 2
    data.to_csv(d / "data" / "kobe.csv", index=False)
    spec = (ROOT / "examples/kobe_evaluation/spec.toml").read_text(encoding="utf-8")
    spec = spec.replace("../contracts/kobe.toml", str(ROOT / "examples/contracts/kobe.toml"))
    spec = spec.replace("n_boot = 2000", "n_boot = 100")
    (d / "spec.toml").write_text(spec, encoding="utf-8")
    return run_spec(load_spec(d / "spec.toml")), d


def _balance(doc: Any, ind: str) -> pd.DataFrame:
    from pfseval.report.document import TableBlock

    return next(
        b.frame
        for s in doc.sections
        for b in s.blocks
        if isinstance(b, TableBlock) and b.id == f"{ind}_balance"
    )


def test_small_level_withholds_the_variables_statistics(planted: tuple[Any, Path]) -> None:
    from pfseval.report.document import build_document
    from pfseval.report.i18n import t

    run, _ = planted
    ind = "suppression_rate"
    counts = run.figure_data[ind]["balance_level_counts"]
    # the attack's premise: a handful of women among the analysed participants
    assert 0 < counts["sex"] < 10
    # variables with many people at each value, or with many values, are not affected
    assert counts.get("smoking", 10) >= 10 and "age" not in counts
    doc = build_document(run)
    frame = _balance(doc, ind)
    name = t("variable", "ja") if t("variable", "ja") in frame.columns else frame.columns[0]
    row = frame[frame[name] == "性別"]
    assert len(row) == 1
    assert set(row.iloc[0, 1:]) == {"*"}
    age = frame[frame[name] == "年齢"].iloc[0, 1:]
    assert all(v != "*" for v in age)  # other rows keep their numbers
    # the run's own balance table keeps every value: only the publication withholds them
    bal = run.figure_data[ind]["balance"]
    assert np.isfinite(bal.loc[bal["variable"] == "sex", "smd_before"]).all()


def test_design_appendix_withholds_them_too(planted: tuple[Any, Path]) -> None:
    from pfseval.batch import load_spec
    from pfseval.batch.design_stage import design_record
    from pfseval.report.design_sections import design_document
    from pfseval.report.document import TableBlock

    _, d = planted
    record, figures = design_record(load_spec(d / "spec.toml"))
    doc = design_document(record, figures, lang="ja", min_cell=10)
    (frame,) = [
        b.frame
        for s in doc.sections
        for b in s.blocks
        if isinstance(b, TableBlock) and b.id.startswith("design_balance_")
    ]
    row = frame[frame.iloc[:, 0] == "性別"]
    assert len(row) == 1 and set(row.iloc[0, 1:]) == {"*"}
    assert "*" not in set(frame[frame.iloc[:, 0] == "年齢"].iloc[0, 1:])


def test_level_counts_are_counts_of_people() -> None:
    """Hand check: treated sexes 1,1,2 and controls 1,2,2,2 with one unmatched control."""
    from types import SimpleNamespace

    from pfseval.batch.runner import _two_valued_level_counts

    data = pd.DataFrame(
        {
            "t": [1, 1, 1, 0, 0, 0, 0],
            "sex": [1, 1, 2, 1, 2, 2, 2],
            "age": [50, 60, 70, 55, 65, 75, 80],
            "flag": [0, 0, 0, 0, 0, 0, 0],
        }
    )
    m = SimpleNamespace(
        data=data,
        treatment="t",
        covariates=("sex", "age", "flag"),
        weights=pd.Series([1, 1, 1, 1, 1, 1, 0.0]),
    )
    # groups: treated {1:2, 2:1}; controls {1:1, 2:3}; matched controls {1:1, 2:2}
    assert _two_valued_level_counts(m) == {"sex": 1, "flag": 3}


def test_payment_of_a_small_group_shows_the_amount_but_not_the_value(
    tmp_path: Path,
) -> None:
    """Eight participants: every indicator's estimate is withheld. The payment (the
    contract's result) is still published; the audit trail does not print the values or the
    steps computed from them, and the payments at the CI limits (which invert a proportional
    schedule back to the limit) are withheld."""
    from pfseval.batch import load_spec, run_spec
    from pfseval.report.document import Preformatted, TableBlock, build_document
    from pfseval.synthetic import kobe_programme

    (tmp_path / "data").mkdir()
    kobe_programme(seed=3, n_pool=900, n_participants=8).data.to_csv(
        tmp_path / "data" / "kobe.csv", index=False
    )
    spec = (ROOT / "examples/kobe_evaluation/spec.toml").read_text(encoding="utf-8")
    spec = spec.replace("../contracts/kobe.toml", str(ROOT / "examples/contracts/kobe.toml"))
    spec = spec.replace("n_boot = 2000", "n_boot = 50")
    (tmp_path / "spec.toml").write_text(spec, encoding="utf-8")
    run = run_spec(load_spec(tmp_path / "spec.toml"))
    doc = build_document(run)
    blocks = [b for s in doc.sections for b in s.blocks]
    trail = next(b.text for b in blocks if isinstance(b, Preformatted) and "支払額の計算" in b.text)
    lines = [x for x in trail.splitlines() if x.startswith("  [")]
    assert len(lines) == 3
    for line, comp in zip(lines, run.payment.rows[1:], strict=True):
        assert "（非公開）" in line and "÷" not in line and "≈" not in line
        assert line.endswith(f"{comp['amount_rounded']:,.0f}千円")
    bounds = next(b.frame for b in blocks if isinstance(b, TableBlock) and b.id == "payment_bounds")
    limits = bounds.iloc[:, 2:]
    assert (limits.iloc[1:] == "*").all().all()  # every outcome row and the total
    point = bounds.iloc[:, 1].tolist()
    assert point[-1] == f"{run.payment.total:,.0f}"  # the payment itself is published
