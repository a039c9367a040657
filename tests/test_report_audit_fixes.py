"""Appendix audit fixes: the matching specification table, the run-level warnings section,
the overlap axis labelled by the matching link, and the published audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pfseval.report.document import (
    Bullets,
    Document,
    Preformatted,
    TableBlock,
    build_document,
    display_decimals,
)
from pfseval.report.figures import overlap_axis_label, overlap_plot
from pfseval.report.texts import variable_labels

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Kobe example spec (kobe.toml, value_decimals = 3) in Japanese and English."""
    from pfseval.batch import load_spec, run_spec
    from pfseval.synthetic import kobe_programme

    d = tmp_path_factory.mktemp("audit")
    (d / "data").mkdir()
    kobe_programme(seed=3, n_pool=1200, n_participants=110).data.to_csv(
        d / "data" / "kobe.csv", index=False
    )
    spec = (ROOT / "examples/kobe_evaluation/spec.toml").read_text(encoding="utf-8")
    spec = spec.replace(
        "../contracts/kobe.toml", (ROOT / "examples/contracts/kobe.toml").as_posix()
    )
    spec = spec.replace("n_boot = 2000", "n_boot = 100")
    (d / "spec.toml").write_text(spec, encoding="utf-8")
    return {lang: run_spec(load_spec(d / "spec.toml", lang=lang)) for lang in ("ja", "en")}


def _table(doc: Document, tid: str) -> TableBlock:
    return next(tb for tb in doc.tables() if tb.id == tid)


def _section(doc: Document, start: str) -> Any:
    return next(s for s in doc.sections if s.title.startswith(start))


# ---------------------------------------------------------------- matching specification


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_matching_specification_table(runs: dict[str, Any], lang: str) -> None:
    run = runs[lang]
    doc = build_document(run)
    psm = [ind for ind in run.spec.indicators if ind.match]
    assert psm  # the Kobe suppression rate is matched
    for ind in psm:
        m = dict(ind.match)
        tb = _table(doc, f"{ind.id}_matching")
        cells = dict(zip(tb.frame.iloc[:, 0], tb.frame.iloc[:, 1], strict=True))
        assert len(cells) == 9
        text = " | ".join(map(str, cells.values()))
        assert f"{m.get('ratio', 1)}:1" in cells.values()
        # every covariate of the spec, in order, by its vocabulary label (issue 10)
        names = variable_labels(lang)
        sep = "、" if lang == "ja" else ", "
        assert sep.join(names[v] for v in m["covariates"]) in cells.values()
        # caliper with its scale: the spec matches on the logit (linear.logit)
        assert m["link"] == "linear.logit" and m["caliper"] == 0.2
        scale = "傾向スコアのロジット" if lang == "ja" else "logit of the propensity score"
        cal = "0.2 × 距離の標準偏差" if lang == "ja" else "0.2 × standard deviation"
        assert any(cal in str(v) and scale in str(v) for v in cells.values()), text
        # defaults of psm.match filled in: no replacement, largest first, no exact matching
        assert ("いいえ" if lang == "ja" else "no") in cells.values()
        order = "傾向スコアの大きい参加者から" if lang == "ja" else "highest score first"
        assert order in cells.values()
    # indicators without a matching step have no such table
    others = [ind.id for ind in run.spec.indicators if not ind.match]
    assert others
    assert not any(tb.id == f"{i}_matching" for i in others for tb in doc.tables())


def test_matching_table_reflects_other_options(runs: dict[str, Any]) -> None:
    import dataclasses

    run = runs["en"]
    ind = next(i for i in run.spec.indicators if i.match)
    new = dict(ind.match, link="logit", caliper=None, replace=True, exact=["sex"], ratio=1)
    ind2 = dataclasses.replace(ind, match=new)
    from pfseval.report.document import _match_table

    tb = _match_table(ind2, "en", {})
    assert tb is not None
    cells = dict(zip(tb.frame.iloc[:, 0], tb.frame.iloc[:, 1], strict=True))
    assert cells["Ratio (controls : participant)"] == "1:1"
    assert cells["Caliper"] == "none"
    assert cells["With replacement"] == "yes"
    assert cells["Exact matching on"] == "sex"
    assert cells["Propensity model and distance"] == "logistic regression; match on the score"


# ---------------------------------------------------------------- run-level warnings


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_run_warnings_section(runs: dict[str, Any], lang: str) -> None:
    from pfseval.report.document import _register_counts
    from pfseval.report.texts import render

    run = runs[lang]
    res = run.results()
    hidden = _register_counts(run, res).led.hidden_values()
    notes = res["notices"]
    assert notes  # the example raises matching and extrapolation warnings
    doc = build_document(run)
    sec = _section(doc, "5.")
    items = next(b for b in sec.blocks if isinstance(b, Bullets)).items
    assert len(items) == len(notes)
    m = run.spec.report.min_cell
    labels = {ind.id: ind.label_in(lang) for ind in run.spec.indicators}
    for rec, shown in zip(notes, items, strict=True):
        if rec["indicator"]:  # the indicator it belongs to comes first
            assert shown.startswith(labels[rec["indicator"]])
        # every small count of people is replaced, nothing else
        assert shown.endswith(render(rec, lang, min_cell=m, hidden=hidden))
        small = [k for k, v in rec["counts"].items() if 0 < v < m]
        if small:
            assert f"<{m}" in shown
    assert any(n["code"] == "psm.unmatched_treated" for n in notes)  # the matching step's
    titles = [s.title for s in doc.sections]
    assert titles.index(sec.title) == titles.index(_section(doc, "6.").title) - 1


def test_run_warnings_redaction_by_hand(runs: dict[str, Any]) -> None:
    """Disclosure control replaces counts of people (a notice's counts) and only them: a
    matching ratio of 3 stays 3, a small count becomes <10, a hidden value is withheld."""
    import dataclasses

    from pfseval.errors import PfsevalWarning
    from pfseval.messages import Notice, declare_messages

    declare_messages(
        {
            "test.partial": {
                "en": "{n_partial} treated units received fewer than {ratio} controls",
                "ja": "{n_partial}人の参加者は対照が{ratio}人未満でした。",
            },
            "test.range": {
                "en": "{n_outside} participants have age outside {range!p}",
                "ja": "{n_outside}人の参加者の年齢が範囲{range!p}の外です。",
            },
        },
        replace=True,
    )
    notes = (
        Notice("test.partial", counts={"n_partial": 47}, params={"ratio": 3}),
        Notice("test.partial", counts={"n_partial": 4}, params={"ratio": 3}),
        Notice(
            "test.range",
            counts={"n_outside": 12},
            params={"range": "46 to 71"},
            category=PfsevalWarning,
        ),
    )
    run = runs["en"]
    quiet = dataclasses.replace(
        run,
        notices=notes,
        estimates={k: e.with_updates(notices=()) for k, e in run.estimates.items()},
        payment=None,
    )
    items = next(
        b for b in _section(build_document(quiet), "5.").blocks if isinstance(b, Bullets)
    ).items
    assert items == (
        "47 treated units received fewer than 3 controls",
        "<10 treated units received fewer than 3 controls",
        "12 participants have age outside (withheld)",
    )


def test_run_without_warnings_says_so(runs: dict[str, Any]) -> None:
    import dataclasses

    run = runs["en"]
    quiet = dataclasses.replace(
        run,
        notices=(),
        estimates={k: e.with_updates(notices=()) for k, e in run.estimates.items()},
        payment=None,
    )
    doc = build_document(quiet)
    sec = _section(doc, "5.")
    assert not any(isinstance(b, Bullets) for b in sec.blocks)
    assert any(getattr(b, "text", "") == "No warnings." for b in sec.blocks)


# ---------------------------------------------------------------- overlap axis


@pytest.mark.parametrize(
    ("link", "ja", "en"),
    [
        ("logit", "傾向スコア", "propensity score"),
        (
            "linear.logit",
            "傾向スコアのロジット（線形予測子）",
            "logit of the propensity score (linear predictor)",
        ),
        ("probit", "傾向スコア", "propensity score"),
        ("linear.probit", "プロビットの線形予測子", "probit linear predictor"),
    ],
)
def test_overlap_axis_label_follows_the_link(link: str, ja: str, en: str) -> None:
    assert overlap_axis_label(link, lang="ja") == ja
    assert overlap_axis_label(link, lang="en") == en
    fig = overlap_plot({"x": [0.0, 1.0], "treated": [1.0, 1.0]}, lang="en", link=link)
    assert fig.axes[0].get_xlabel() == en


def test_document_passes_the_link_to_the_overlap_plot(
    runs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pfseval.report import figures

    seen: list[str] = []
    real = figures.overlap_plot

    def spy(ov: Any, *, lang: str = "ja", link: str = "logit") -> Any:
        seen.append(link)
        return real(ov, lang=lang, link=link)

    monkeypatch.setattr(figures, "overlap_plot", spy)
    build_document(runs["en"])
    assert seen == ["linear.logit"]


# ---------------------------------------------------------------- published audit trail


def test_published_trail_with_contract_precision(runs: dict[str, Any]) -> None:
    run = runs["ja"]
    doc = build_document(run)
    trail = next(b.text for s in doc.sections for b in s.blocks if isinstance(b, Preformatted))
    # kobe.toml reads indicators at 3 decimals: the trail is exact and shows only those
    assert "≈" not in trail and "小数第3位に四捨五入" in trail
    for ind, est in run.estimates.items():
        shown = f"{round(est.value + 1e-12, 3):.3f}".rstrip("0").rstrip(".")
        assert f"{shown} ÷" in trail, (ind, shown)
    # the estimate table shows the same value as a percentage with one decimal
    assert display_decimals("suppression_rate", 0.5) == 3
    assert display_decimals("ATT", 1234.5) == 0
