"""The appendix's sensitivity annex for the Kobe example: tipping point and E-value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pfseval.report import build_document
from pfseval.report.document import TableBlock
from pfseval.report.sensitivity import sensitivity_section
from pfseval.sensitivity import kobe_evalue, kobe_tipping_point

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> object:
    from pfseval.batch import load_spec, run_spec
    from pfseval.synthetic import kobe_programme

    d = tmp_path_factory.mktemp("sens")
    (d / "data").mkdir()
    kobe_programme(seed=3, n_pool=1200, n_participants=110).data.to_csv(
        d / "data" / "kobe.csv", index=False
    )
    spec = (ROOT / "examples" / "kobe_evaluation" / "spec.toml").read_text(encoding="utf-8")
    spec = spec.replace(
        "../contracts/kobe.toml", (ROOT / "examples/contracts/kobe.toml").as_posix()
    )
    spec = spec.replace("n_boot = 2000", "n_boot = 200")
    (d / "spec.toml").write_text(spec, encoding="utf-8")
    return run_spec(load_spec(d / "spec.toml"))


def _annex(doc: object) -> object:
    return doc.sections[-1]  # type: ignore[attr-defined]


def _en(run: object) -> object:
    sp = run.spec  # type: ignore[attr-defined]
    return replace(run, spec=replace(sp, report=replace(sp.report, lang="en")))  # type: ignore[type-var]


def test_run_has_the_kobe_sensitivity(run: object) -> None:
    sens = run.sensitivity  # type: ignore[attr-defined]
    assert set(sens) == {"suppression_rate"}
    est = run.estimates["suppression_rate"]  # type: ignore[attr-defined]
    tp = kobe_tipping_point(est)
    assert sens["suppression_rate"].tipping.delta_significance == tp.delta_significance
    assert sens["suppression_rate"].evalue == kobe_evalue(est)
    # the run's contract pays on the rate: the payment at δ = 0 is the run's payment
    table = sens["suppression_rate"].tipping.table
    assert table["total"].iloc[0] == pytest.approx(run.payment.total)  # type: ignore[attr-defined]


def test_results_json_carries_the_sensitivity(run: object) -> None:
    # the evaluator's record holds what the annex shows: tipping point and E-value per
    # Kobe indicator, as the analysis returned them
    import json

    from pfseval.batch import results_json

    doc = json.loads(results_json(run))  # type: ignore[arg-type]
    sens = run.sensitivity["suppression_rate"]  # type: ignore[attr-defined]
    rec = doc["sensitivity"]["suppression_rate"]
    assert set(doc["sensitivity"]) == {"suppression_rate"}
    assert rec["delta_significance"] == pytest.approx(sens.tipping.delta_significance)
    assert rec["evalue"]["point"] == pytest.approx(sens.evalue.point)
    assert len(rec["table"]) == len(sens.tipping.table)


def test_japanese_annex(run: object) -> None:
    doc = build_document(run)  # type: ignore[arg-type]
    annex = _annex(doc)
    assert annex.title.startswith("付録A 感度分析")
    text = "\n".join(getattr(b, "text", "") for b in annex.blocks)
    assert "E値" in text and "腎機能低下抑制率" in text
    table = next(b for b in annex.blocks if isinstance(b, TableBlock))
    assert table.frame.columns[0] == "δ（年あたり）"
    assert table.frame.iloc[0, 0] == "0.00"  # starts unshifted
    # no individual values: δ on the 0.1 grid only
    assert all(round(float(x) * 10, 6).is_integer() for x in table.frame.iloc[:, 0])


def test_english_annex(run: object) -> None:
    run_en = _en(run)
    annex = sensitivity_section(
        {k: v.to_dict() for k, v in run_en.sensitivity.items()},  # type: ignore[attr-defined]
        run_en.spec,  # type: ignore[attr-defined]
        {k: e.n for k, e in run_en.estimates.items()},  # type: ignore[attr-defined]
    )
    assert annex is not None and annex.title.startswith("Annex A. Sensitivity analysis")
    text = "\n".join(getattr(b, "text", "") for b in annex.blocks)
    assert "E-value" in text and "no-effect reference" in text
    tp = run.sensitivity["suppression_rate"].tipping  # type: ignore[attr-defined]
    if tp.delta_significance:
        assert f"declined {tp.delta_significance:g} per year less" in text


def test_no_annex_without_kobe_indicator(run: object) -> None:
    assert sensitivity_section({}, run.spec, {}) is None  # type: ignore[attr-defined]
