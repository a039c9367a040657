"""The common result types: Estimate and SampleFlow."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pfseval.errors import SmallSampleWarning
from pfseval.messages import Message, Notice, declare_messages
from pfseval.result import Estimate, SampleFlow, data_hash, provenance, to_jsonable

declare_messages(
    {
        "test.few_controls": {
            "ja": "対照が少ない参加者が{n_few}人います。",
            "en": "{n_few} participants have few controls.",
        },
        "test.not_matched": {"ja": "マッチしなかった", "en": "not matched"},
    },
    replace=True,
)
FEW = Notice("test.few_controls", category=SmallSampleWarning, counts={"n_few": 12})


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
        notices=(FEW,),
        std_error=0.3,
    )
    text = str(est)
    html = est._repr_html_()
    for key, val in est.summary_rows():
        assert key in text and val in text
        assert val.replace("&", "&amp;") in html or val in html
    assert "腎機能低下抑制率" in html
    assert "12 participants have few controls." in text
    assert est.warnings == ("12 participants have few controls.",)
    record = est.to_dict()["notices"][0]
    assert record["code"] == "test.few_controls" and record["counts"] == {"n_few": 12}
    assert record["text"]["ja"] == "対照が少ない参加者が12人います。"
    assert record["category"] == "SmallSampleWarning"
    assert Notice.from_dict(record) == FEW
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
    flow = SampleFlow.start({"treated": 105, "control": 1000})
    flow = flow.exclude(
        Message("flow.no_followup"), ["id-A17", "id-B23", "id-C99"], group="treated"
    )
    flow = flow.exclude(Message("test.not_matched"), 800, group="control")
    assert flow.n_analysed("treated") == 102
    assert flow.n_analysed() == 102 + 200
    for lang, names in {
        "en": ("Intervention group", "Control group"),
        "ja": ("介入群", "対照群"),
    }.items():
        frame = flow.to_frame(lang)  # type: ignore[arg-type]
        for g, n0 in zip(names, (105, 1000), strict=True):
            sub = frame[frame["group"] == g]
            assert sub["n_excluded"].sum() + sub["n_remaining"].iloc[-1] == n0
    assert "除外：追跡時の健診データなし" in set(flow.to_frame("ja")["description"])
    assert flow.to_dict()["steps"][0]["reason"]["code"] == "flow.no_followup"
    # ids are kept for the evaluator but never in the dict / frame
    assert flow.steps[0].ids == ("id-A17", "id-B23", "id-C99")
    assert "id-A17" not in json.dumps(flow.to_dict())


def test_sample_flow_rejects_overdraw_and_unknown_group() -> None:
    with pytest.raises(ValueError, match="more records excluded"):
        SampleFlow.start(3).exclude(Message("flow.no_followup"), 4)
    with pytest.raises(ValueError, match="group"):
        SampleFlow.start(3).exclude(Message("flow.no_followup"), 1, group="nope")
    with pytest.raises(TypeError, match="Message"):
        SampleFlow.start(3).exclude("an English sentence", 1)  # type: ignore[arg-type]


def test_results_pickle() -> None:
    import pickle

    flow = SampleFlow.start({"treated": 5}).exclude(Message("flow.no_followup"), 1, group="treated")
    est = _est(notices=(FEW,), sample_flow=flow, diagnostics={"n_treated": 4})
    back = pickle.loads(pickle.dumps(est))
    assert back.notices == (FEW,) and back.sample_flow == flow
    assert back.to_dict() == est.to_dict()


def test_data_hash_and_provenance() -> None:
    a = pd.DataFrame({"x": [1, 2, 3]})
    b = pd.DataFrame({"x": [1, 2, 4]})
    assert data_hash(a) == data_hash(a.copy()) != data_hash(b)
    p = provenance(seed=7, data=a)
    assert p["seed"] == 7 and p["data_sha256"] == data_hash(a)
    assert p["pfseval"]


def test_data_hash_of_arrow_text_is_its_content() -> None:
    # Arrow-backed text is hashed from its bytes, not cell by cell: the same cells in other
    # chunks hash the same; a missing cell, an empty cell and a moved boundary do not
    import pyarrow as pa

    ids = pd.Series(["a", "bb", None, "ccc"], dtype="str")
    a = pd.DataFrame({"id": ids, "x": [1, 2, 3, 4]})
    chunked = pd.arrays.ArrowStringArray(
        pa.chunked_array([pa.array(["a", "bb"]), pa.array([None, "ccc"])])
    )
    assert data_hash(a) == data_hash(a.copy()) == data_hash(a.assign(id=chunked))
    for other in (["a", "bb", "", "ccc"], ["a", "b", "b", "ccc"], ["a", "bb", None, "cc"]):
        assert data_hash(a) != data_hash(a.assign(id=pd.Series(other, dtype="str")))
    only_text = a[["id"]]
    assert data_hash(only_text) != data_hash(only_text.set_axis([9, 8, 7, 6]))
    assert data_hash(only_text.iloc[1:]) == data_hash(only_text.iloc[1:].copy())
