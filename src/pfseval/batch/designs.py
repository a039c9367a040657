"""The designs a spec file may name, and how the runner calls each one.

A spec never runs code: ``design = "psm.suppression_rate"`` is looked up here. Each entry names
the function(s) the runner calls, which options hold column names (checked against the data
before any computation), and which arguments the runner supplies itself.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DESIGNS", "RUNNER_SUPPLIED", "DesignEntry", "resolve"]

#: Arguments the runner passes itself; a spec may not set them in ``options``.
RUNNER_SUPPLIED = frozenset(
    {"data", "series", "matched", "level", "seed", "n_jobs", "progress", "label"}
)

#: Options that hold one column name or a list of column names.
COLUMN_OPTIONS = frozenset(
    {
        "outcome",
        "outcomes",
        "exclude",
        "treatment",
        "covariates",
        "id_col",
        "id_column",
        "exact",
        "arm",
        "strata",
        "cluster",
        "before",
        "after",
        "year",
        "numerator",
        "denominator",
        "regressors",
        "followup",
        "followup_years",
        "baseline",
        "baseline_outcome",
    }
)


@dataclass(frozen=True)
class DesignEntry:
    """One design a spec may name.

    Attributes
    ----------
    name
        The name used in spec files (``"proportion.rate"``).
    target
        ``"module:function"`` of the estimator.
    match_target
        For matching designs, ``"module:function"`` of the matching step (its options live
        in the indicator's ``match`` table); ``None`` otherwise.
    title
        Plain-words name of the design, per language.
    assumptions
        The design's assumptions in plain words, per language (shown in the appendix).
    related
        Related estimates (``Estimate.related`` keys) the design always returns and that an
        indicator may pay on instead of the main value (the spec's ``use`` key), e.g.
        ``"additional_count"`` of the historical baseline.
    """

    name: str
    target: str
    title: dict[str, str]
    assumptions: dict[str, str]
    match_target: str | None = None
    related: tuple[str, ...] = ()

    def function(self) -> Callable[..., Any]:
        """Import and return the estimator (raises ImportError when not installed)."""
        return _load(self.target)

    def match_function(self) -> Callable[..., Any] | None:
        return None if self.match_target is None else _load(self.match_target)


def _load(target: str) -> Callable[..., Any]:
    mod, _, fn = target.partition(":")
    return getattr(importlib.import_module(mod), fn)  # type: ignore[no-any-return]


def option_names(fn: Callable[..., Any]) -> tuple[set[str], set[str]]:
    """(all settable keyword names, required ones) of ``fn`` minus runner-supplied ones."""
    params = [
        p
        for p in list(inspect.signature(fn).parameters.values())[1:]  # the first is the data
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in RUNNER_SUPPLIED
    ]
    return {p.name for p in params}, {p.name for p in params if p.default is p.empty}


_PSM_ASSUME = {
    "en": (
        "Participants are compared with non-participants who had similar background values "
        "at the baseline health check (propensity-score matching). This removes differences "
        "in the matched variables only: anything that made people join the programme and "
        "that the health check does not record (motivation, family support) can still bias "
        "the result. Matching quality is shown by the balance table and the Love plot."
    ),
    "ja": (
        "参加者を、ベースライン健診の背景因子が似ている非参加者と比較します（傾向スコア・"
        "マッチング）。調整できるのはマッチングに用いた変数の差だけであり、健診で把握できない"
        "要因（意欲、家族の支援など）による偏りは残り得ます。マッチングの質はバランス表と"
        "Love プロットで示します。"
    ),
}

DESIGNS: dict[str, DesignEntry] = {
    e.name: e
    for e in [
        DesignEntry(
            name="proportion.rate",
            target="pfseval.designs.proportion:rate",
            title={"en": "Share of people (output indicator)", "ja": "割合（アウトプット指標）"},
            assumptions={
                "en": (
                    "The indicator counts what happened among the people in the denominator; "
                    "it is not compared with anyone, so it says nothing about what would have "
                    "happened without the programme. The interval reflects sampling "
                    "variation only (Wilson score interval)."
                ),
                "ja": (
                    "分母の対象者のうち該当した人の割合を数えた指標です。比較対象を置かないため、"
                    "事業がなかった場合との差は示しません。信頼区間は標本変動のみを反映します"
                    "（Wilson スコア法）。"
                ),
            },
        ),
        DesignEntry(
            name="proportion.mean_of_rates",
            target="pfseval.designs.proportion:mean_of_rates",
            title={"en": "Mean of domain rates (output indicator)", "ja": "領域別割合の平均"},
            assumptions={
                "en": (
                    "Each domain rate is counted over the people with data on that domain and "
                    "the indicator is their mean. There is no comparison group. The interval "
                    "comes from resampling people, which keeps the link between a person's "
                    "domains."
                ),
                "ja": (
                    "各領域の割合をその領域のデータがある人で数え、その平均を指標とします。"
                    "比較対象はありません。信頼区間は対象者単位のブートストラップで求め、"
                    "同じ人の領域間の関連を保ちます。"
                ),
            },
        ),
        DesignEntry(
            name="psm.suppression_rate",
            target="pfseval.psm:suppression_rate",
            match_target="pfseval.psm:match",
            related=("reference_rate", "difference"),
            title={
                "en": "Propensity-score matching with regression prediction (Kobe method)",
                "ja": "傾向スコア・マッチングと回帰予測（神戸市方式）",
            },
            assumptions={
                "en": _PSM_ASSUME["en"]
                + " A participant counts as 'suppressed' when the actual eGFR change is better "
                "than the change predicted from the matched controls' regression. With no "
                "programme effect about half of the participants would be 'suppressed', so "
                "the rate must be read against the no-effect reference shown below.",
                "ja": _PSM_ASSUME["ja"]
                + "対照群の回帰式で予測した eGFR 変化より実際の変化が良い参加者を「抑制者」と"
                "数えます。事業の効果がなくても約半数が抑制者になるため、下記の効果なしの"
                "参照値と比べて読む必要があります。",
            },
        ),
        DesignEntry(
            name="psm.att",
            target="pfseval.psm:att",
            match_target="pfseval.psm:match",
            title={
                "en": "Propensity-score matching: effect on the participants (ATT)",
                "ja": "傾向スコア・マッチング：参加者における効果（ATT）",
            },
            assumptions=_PSM_ASSUME,
        ),
        DesignEntry(
            name="rct.compare",
            target="pfseval.rct:compare",
            title={"en": "Randomised comparison", "ja": "ランダム化比較試験"},
            assumptions={
                "en": (
                    "People were assigned to the programme or control at random, so the two "
                    "groups differ only by chance; the difference in outcomes estimates the "
                    "programme's effect. Unequal loss to follow-up between the groups can "
                    "still bias it."
                ),
                "ja": (
                    "対象者を無作為に介入群と対照群に割り付けたため、両群の違いは偶然による"
                    "ものだけで、結果の差が事業の効果を表します。追跡できなかった人の割合が"
                    "群間で異なると偏りが生じ得ます。"
                ),
            },
        ),
        DesignEntry(
            name="prepost.compare",
            target="pfseval.prepost:compare",
            title={"en": "Before/after comparison", "ja": "事前事後比較"},
            assumptions={
                "en": (
                    "The same people are measured before and after. The change includes "
                    "everything else that happened in between (seasons, ageing, regression "
                    "to the mean), so it is not the programme's effect alone."
                ),
                "ja": (
                    "同じ人を事前と事後に測定します。変化には事業以外の影響（季節、加齢、"
                    "平均への回帰など）も含まれるため、事業の効果だけを示すものではありません。"
                ),
            },
        ),
        DesignEntry(
            name="prepost.share_improved",
            target="pfseval.prepost:share_improved",
            title={
                "en": "Share of people improved (before/after)",
                "ja": "改善者の割合（事前事後）",
            },
            assumptions={
                "en": (
                    "The share of people whose value improved by the stated rule. Without a "
                    "comparison group some people improve by chance, so this share is not the "
                    "programme's effect alone."
                ),
                "ja": (
                    "定めた基準で改善した人の割合です。比較対象がないため、偶然改善する人も"
                    "含まれ、事業の効果だけを示すものではありません。"
                ),
            },
        ),
        DesignEntry(
            name="baseline.compare",
            target="pfseval.baseline:compare",
            related=("additional_count", "expected"),
            title={
                "en": "Comparison with past years (historical baseline)",
                "ja": "既存データとの比較",
            },
            assumptions={
                "en": (
                    "The evaluation year is compared with the value expected from past years. "
                    "This assumes that without the programme the past pattern would have "
                    "continued; external changes in the same year bias the comparison unless "
                    "a comparison series adjusts for them."
                ),
                "ja": (
                    "評価年度の値を過去の推移から見込まれる値と比較します。事業がなければ過去の"
                    "傾向が続いたと仮定しており、同じ年に起きた外部の変化は比較系列で調整しない"
                    "限り偏りとなります。"
                ),
            },
        ),
    ]
}


def resolve(name: str) -> DesignEntry | None:
    """The registry entry for a design name, or ``None``."""
    return DESIGNS.get(name)
