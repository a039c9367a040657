"""The common result types: Estimate and SampleFlow."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pfseval.result import Estimate, SampleFlow, data_hash, provenance, to_jsonable


def _est(**kw: object) -> Estimate:
    base: dict[str, object] = dict(
        estimand="ATT", value=1.5, conf_low=0.5, conf_high=2.5, level=0.95, method="m", n=10
    )
    base.update(kw)
    return Estimate(**base)  # type: ignore[arg-type]


def test_estimate_is_frozen_and_mappings_read_only() -> None:
    est = _est(diagnostics={"n_treated": 5})
    with pytest.raises(AttributeError):
        est.value = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        est.diagnostics["n_treated"] = 6  # type: ignore[index]


def test_estimate_renderings_share_one_summary() -> None:
    ref = _est(value=0.1234, conf_low=0.05, conf_high=0.2)
    est = _est(
        label="腎機能低下抑制率",
        intervals={"wilson": (0.1, 0.2)},
        related={"reference": ref},
        warnings=("few controls",),
        std_error=0.3,
    )
    text = str(est)
    html = est._repr_html_()
    for key, val in est.summary_rows():
        assert key in text and val in text
        assert val.replace("&", "&amp;") in html or val in html
    assert "腎機能低下抑制率" in html
    assert "few controls" in text
    frame = est.to_frame()
    assert list(frame.index) == ["ATT", "reference"]
    assert frame.loc["reference", "value"] == pytest.approx(0.1234)


def test_estimate_to_dict_is_json_and_hides_draws_by_default() -> None:
    est = _est(draws=np.arange(5.0), diagnostics={"table": pd.DataFrame({"a": [1, 2]})})
    d = est.to_dict()
    json.dumps(d)
    assert "draws" not in d and d["n_draws"] == 5
    assert d["diagnostics"]["table"] == [{"a": 1}, {"a": 2}]
    assert est.to_dict(include_draws=True)["draws"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert est.draws is not None and not est.draws.flags.writeable


def test_private_tables_never_leave_memory() -> None:
    table = pd.DataFrame({"person_id": ["P-SECRET-1"], "predicted": [1.23456]})
    est = _est(private={"per_person": table})
    assert est.private["per_person"] is table
    assert "P-SECRET-1" not in json.dumps(est.to_dict())
    assert "P-SECRET-1" not in str(est) + est._repr_html_() + est.to_frame().to_string()


def test_estimate_rejects_bad_level() -> None:
    with pytest.raises(ValueError, match="level"):
        _est(level=95)


def test_to_jsonable_nan_becomes_none() -> None:
    assert to_jsonable([np.nan, np.inf, np.int64(3)]) == [None, None, 3]


def test_sample_flow_accounts_for_every_record() -> None:
    flow = SampleFlow.start({"intervention": 105, "control": 1000})
    flow = flow.exclude("no follow-up", ["id-A17", "id-B23", "id-C99"], group="intervention")
    flow = flow.exclude("not matched", 800, group="control")
    assert flow.n_analysed("intervention") == 102
    assert flow.n_analysed() == 102 + 200
    frame = flow.to_frame()
    for g, n0 in {"intervention": 105, "control": 1000}.items():
        sub = frame[frame["group"] == g]
        assert sub["n_excluded"].sum() + sub["n_remaining"].iloc[-1] == n0
    # ids are kept for the evaluator but never in the dict / frame
    assert flow.steps[0].ids == ("id-A17", "id-B23", "id-C99")
    assert "id-A17" not in json.dumps(flow.to_dict())


def test_sample_flow_rejects_overdraw_and_unknown_group() -> None:
    with pytest.raises(ValueError, match="more records excluded"):
        SampleFlow.start(3).exclude("x", 4)
    with pytest.raises(ValueError, match="group"):
        SampleFlow.start(3).exclude("x", 1, group="nope")


def test_data_hash_and_provenance() -> None:
    a = pd.DataFrame({"x": [1, 2, 3]})
    b = pd.DataFrame({"x": [1, 2, 4]})
    assert data_hash(a) == data_hash(a.copy()) != data_hash(b)
    p = provenance(seed=7, data=a)
    assert p["seed"] == 7 and p["data_sha256"] == data_hash(a)
    assert p["pfseval"]
