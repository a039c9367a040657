"""What the pre/post designs declare to the design contract.

The options of :func:`~pfseval.designs.prepost.compare`,
:func:`~pfseval.designs.prepost.paired_proportions`,
:func:`~pfseval.designs.prepost.share_improved` and :func:`~pfseval.designs.prepost.count_total`
with the values they allow, their titles, descriptions and assumptions in Japanese and English,
their diagnostics, and the catalogue entries of their notices, sample-flow reasons and method
descriptions.

This module imports nothing from the design module, so the design can import it without a
cycle.

Examples
--------
>>> from pfseval.designs.contract import get
>>> get("prepost.paired_proportions").title["ja"]
'割合の事前事後比較（同じ人）'
"""

from __future__ import annotations

from dataclasses import replace

from pfseval.designs.contract import (
    COMMON_OPTIONS,
    DesignSpec,
    Diagnostic,
    Option,
    declare_diagnostics,
    register,
)
from pfseval.designs.shared_diagnostics import DF, EXACT, GROUP_SIZES, N_IMPROVED
from pfseval.messages import declare_messages

__all__ = ["COMPARE_DIAGNOSTICS"]

_C = COMMON_OPTIONS

# ---------------------------------------------------------------- messages

declare_messages(
    {
        # -- sample-flow reasons
        "prepost.flow.only_before": {
            "en": "no {after!v} value (only {before!v})",
            "ja": "{after!v}の値がない（{before!v}のみ）",
        },
        "prepost.flow.only_after": {
            "en": "no {before!v} value (only {after!v})",
            "ja": "{before!v}の値がない（{after!v}のみ）",
        },
        "prepost.flow.neither": {
            "en": "neither {before!v} nor {after!v}",
            "ja": "{before!v}と{after!v}のどちらの値もない",
        },
        # -- notices
        "prepost.incomplete_pairs": {
            "en": "{n_only_before} person(s) have only a before value and {n_only_after} only an "
            "after value; they are excluded (see the sample flow). If follow-up is missing for "
            "reasons linked to the outcome, the change is biased.",
            "ja": "事前の値だけの人が{n_only_before}人、事後の値だけの人が{n_only_after}人おり、"
            "分析から除きました（対象者の流れを参照）。追跡できない理由が結果と関係している"
            "場合、変化の推定は偏ります。",
        },
        "prepost.incomplete_pairs_control": {
            "en": "comparison group: {n_only_before} person(s) have only a before value and "
            "{n_only_after} only an after value; they are excluded (see the sample flow). If "
            "follow-up is missing for reasons linked to the outcome, the change is biased.",
            "ja": "比較群：事前の値だけの人が{n_only_before}人、事後の値だけの人が"
            "{n_only_after}人おり、分析から除きました（対象者の流れを参照）。追跡できない理由が"
            "結果と関係している場合、変化の推定は偏ります。",
        },
        "prepost.few_pairs": {
            "en": "only {n_pairs} complete pairs: the interval rests on few people and is wide.",
            "ja": "事前と事後の値がそろった人は{n_pairs}人だけです。信頼区間は少数の人に基づき、"
            "幅が広くなります。",
        },
        "prepost.selected_on_baseline": {
            "en": "participants were selected on their baseline value: part of the change is "
            "regression to the mean, not the programme; give a comparison group (treatment "
            "column) to adjust for it.",
            "ja": "参加者は事前の値に基づいて選ばれています。変化の一部は事業の効果ではなく"
            "平均への回帰です。調整するには比較群（介入の有無を示す列）を指定してください。",
        },
        "prepost.baseline_differs": {
            "en": "participants' baseline differs from the comparison group's by {smd:+.2f} SD: "
            "their own change includes regression to the mean; the difference of mean changes "
            "adjusts for it only if both groups would regress alike (similar baselines).",
            "ja": "参加者の事前の値は比較群と標準偏差の{smd:+.2f}倍異なります。参加者の変化には"
            "平均への回帰が含まれ、変化量の差で調整できるのは両群が同じように回帰する場合"
            "（事前の値が近い場合）だけです。",
        },
        # -- methods
        "prepost.method.paired_t": {
            "en": "mean of after − before with paired t interval",
            "ja": "事後 − 事前の平均、対応のある t 区間",
        },
        "prepost.method.hodges_lehmann_exact": {
            "en": "Hodges–Lehmann estimate of after − before with the exact Wilcoxon "
            "signed-rank interval",
            "ja": "事後 − 事前のホッジス・レーマン推定値、正確なウィルコクソン符号付き順位区間",
        },
        "prepost.method.hodges_lehmann_normal": {
            "en": "Hodges–Lehmann estimate of after − before with the Wilcoxon signed-rank "
            "interval (normal approximation, continuity correction)",
            "ja": "事後 − 事前のホッジス・レーマン推定値、ウィルコクソン符号付き順位区間"
            "（正規近似、連続性補正あり）",
        },
        "prepost.method.difference_in_changes": {
            "en": "difference of mean changes (participants − comparison group), Welch t interval",
            "ja": "変化量の平均の差（参加者 − 比較群）、Welch の t 区間",
        },
        "prepost.method.own_change_treated": {
            "en": "participants: mean of after − before with paired t interval",
            "ja": "参加者：事後 − 事前の平均、対応のある t 区間",
        },
        "prepost.method.own_change_control": {
            "en": "comparison group: mean of after − before with paired t interval",
            "ja": "比較群：事後 − 事前の平均、対応のある t 区間",
        },
        "prepost.method.paired_proportions_exact": {
            "en": "p_after − p_before with Newcombe's paired method-10 interval; McNemar p value "
            "(exact binomial)",
            "ja": "事後の割合 − 事前の割合、Newcombe の対応のある差の区間（方法10）。"
            "McNemar 検定のp値（正確な二項検定）",
        },
        "prepost.method.paired_proportions_chi2": {
            "en": "p_after − p_before with Newcombe's paired method-10 interval; McNemar p value "
            "(chi-squared with continuity correction)",
            "ja": "事後の割合 − 事前の割合、Newcombe の対応のある差の区間（方法10）。"
            "McNemar 検定のp値（連続性補正ありのカイ二乗検定）",
        },
        "prepost.method.paired_proportions_chi2_uncorrected": {
            "en": "p_after − p_before with Newcombe's paired method-10 interval; McNemar p value "
            "(chi-squared without continuity correction)",
            "ja": "事後の割合 − 事前の割合、Newcombe の対応のある差の区間（方法10）。"
            "McNemar 検定のp値（連続性補正なしのカイ二乗検定）",
        },
        "prepost.method.share_improved_decrease": {
            "en": "share improved (after < before) with Wilson interval",
            "ja": "改善者の割合（事後 < 事前）、Wilson 区間",
        },
        "prepost.method.share_improved_increase": {
            "en": "share improved (after > before) with Wilson interval",
            "ja": "改善者の割合（事後 > 事前）、Wilson 区間",
        },
        "prepost.method.share_improved_threshold_decrease": {
            "en": "share improved (after − before ≤ −{threshold}) with Wilson interval",
            "ja": "改善者の割合（事後 − 事前 ≤ −{threshold}）、Wilson 区間",
        },
        "prepost.method.share_improved_threshold_increase": {
            "en": "share improved (after − before ≥ {threshold}) with Wilson interval",
            "ja": "改善者の割合（事後 − 事前 ≥ {threshold}）、Wilson 区間",
        },
        "prepost.method.share_improved_rule": {
            "en": "share improved (user rule) with Wilson interval",
            "ja": "改善者の割合（利用者が定めた基準）、Wilson 区間",
        },
        "prepost.method.total_t_decrease": {
            "en": "total of per-person decreases with n × paired t interval of the mean "
            "per-person change",
            "ja": "一人ひとりの減少量の合計、一人あたりの変化の平均の t 区間 × 人数",
        },
        "prepost.method.total_t_increase": {
            "en": "total of per-person increases with n × paired t interval of the mean "
            "per-person change",
            "ja": "一人ひとりの増加量の合計、一人あたりの変化の平均の t 区間 × 人数",
        },
        "prepost.method.total_poisson_decrease": {
            "en": "total of per-person decreases with the exact Poisson interval for the total",
            "ja": "一人ひとりの減少量の合計、合計に対する正確なポアソン区間",
        },
        "prepost.method.total_poisson_increase": {
            "en": "total of per-person increases with the exact Poisson interval for the total",
            "ja": "一人ひとりの増加量の合計、合計に対する正確なポアソン区間",
        },
        "prepost.method.mean_change_per_person": {
            "en": "mean per-person change with t interval",
            "ja": "一人あたりの変化の平均、t 区間",
        },
    }
)

# ---------------------------------------------------------------- diagnostics

# One-group designs count the participants as n_treated (df = n_treated - 1, paired t).
_PAIRS = (*GROUP_SIZES, *DF)

COMPARE_DIAGNOSTICS = (
    *_PAIRS,
    *EXACT,
    *declare_diagnostics(
        Diagnostic("mean_before", "statistic", {"ja": "事前の平均", "en": "mean before"}),
        Diagnostic("mean_after", "statistic", {"ja": "事後の平均", "en": "mean after"}),
        Diagnostic("sd_change", "statistic", {"ja": "変化の標準偏差", "en": "SD of the change"}),
        Diagnostic("n_increased", "people", {"ja": "値が増えた人数", "en": "increased"}),
        Diagnostic("n_decreased", "people", {"ja": "値が減った人数", "en": "decreased"}),
        Diagnostic("n_unchanged", "people", {"ja": "変化なしの人数", "en": "unchanged"}),
        Diagnostic(
            "statistic_v", "statistic", {"ja": "符号付き順位統計量 V", "en": "signed-rank V"}
        ),
        Diagnostic("n_nonzero", "people", {"ja": "変化が0でない人数", "en": "non-zero changes"}),
        Diagnostic("n_zero", "people", {"ja": "変化が0の人数", "en": "zero changes"}),
        Diagnostic("ties", "setting", {"ja": "同順位あり", "en": "ties"}),
        Diagnostic(
            "requested_level", "setting", {"ja": "指定した信頼水準", "en": "requested level"}
        ),
        Diagnostic(
            "mean_change_treated",
            "statistic",
            {"ja": "参加者の変化の平均", "en": "mean change, participants"},
        ),
        Diagnostic(
            "mean_change_control",
            "statistic",
            {"ja": "比較群の変化の平均", "en": "mean change, comparison group"},
        ),
        Diagnostic(
            "baseline_mean_treated",
            "statistic",
            {"ja": "参加者の事前の平均", "en": "baseline mean, participants"},
        ),
        Diagnostic(
            "baseline_mean_control",
            "statistic",
            {"ja": "比較群の事前の平均", "en": "baseline mean, comparison group"},
        ),
        Diagnostic("baseline_smd", "statistic", {"ja": "事前の値の標準化差", "en": "baseline SMD"}),
    ),
)

PAIRED_PROPORTIONS_DIAGNOSTICS = declare_diagnostics(
    Diagnostic("n_yes_yes", "people", {"ja": "事前あり・事後あり", "en": "yes before, yes after"}),
    Diagnostic("n_yes_no", "people", {"ja": "事前あり・事後なし", "en": "yes before, no after"}),
    Diagnostic("n_no_yes", "people", {"ja": "事前なし・事後あり", "en": "no before, yes after"}),
    Diagnostic("n_no_no", "people", {"ja": "事前なし・事後なし", "en": "no before, no after"}),
    Diagnostic(
        "p_before",
        "proportion",
        {"ja": "事前の割合", "en": "share before"},
        derived_from=("n_yes_yes", "n_yes_no", "n_no_yes", "n_no_no"),
        relation="(n_yes_yes + n_yes_no) / n",
    ),
    Diagnostic(
        "p_after",
        "proportion",
        {"ja": "事後の割合", "en": "share after"},
        derived_from=("n_yes_yes", "n_yes_no", "n_no_yes", "n_no_no"),
        relation="(n_yes_yes + n_no_yes) / n",
    ),
    Diagnostic("n_discordant", "people", {"ja": "回答が変わった人数", "en": "discordant pairs"}),
    Diagnostic("mcnemar_exact", "setting", {"ja": "McNemar 正確検定", "en": "exact McNemar"}),
    Diagnostic(
        "mcnemar_correct",
        "setting",
        {"ja": "McNemar 連続性補正", "en": "McNemar continuity correction"},
    ),
    Diagnostic(
        "mcnemar_statistic", "statistic", {"ja": "McNemar 統計量", "en": "McNemar statistic"}
    ),
    Diagnostic(
        "p_value_asymptotic", "statistic", {"ja": "p値（カイ二乗）", "en": "p-value (chi-squared)"}
    ),
    Diagnostic("p_value_exact", "statistic", {"ja": "p値（正確）", "en": "p-value (exact)"}),
)

SHARE_DIAGNOSTICS = N_IMPROVED + declare_diagnostics(
    Diagnostic(
        "rule",
        "setting",
        {"ja": "改善の基準（Δ = 事後 − 事前）", "en": "improvement rule (Δ = after − before)"},
    ),
)

TOTAL_DIAGNOSTICS = N_IMPROVED + declare_diagnostics(
    Diagnostic("direction", "setting", {"ja": "改善の向き", "en": "direction"}),
    Diagnostic("n_worsened", "people", {"ja": "悪化した人数", "en": "worsened"}),
    Diagnostic("gross_improvement", "statistic", {"ja": "改善量の合計", "en": "gross improvement"}),
    Diagnostic("gross_worsening", "statistic", {"ja": "悪化量の合計", "en": "gross worsening"}),
)

# ---------------------------------------------------------------- options and specs

_BEFORE = Option("before", "column", required=True, label={"ja": "事前の値の列", "en": "before"})
_AFTER = Option("after", "column", required=True, label={"ja": "事後の値の列", "en": "after"})
_STRICT = Option(
    "strict", "bool", label={"ja": "欠測を誤りとする", "en": "missing values are errors"}
)
_DIRECTION = Option(
    "direction",
    "choice",
    choices=("decrease", "increase"),
    label={"ja": "改善の向き", "en": "direction of improvement"},
)
_TAIL = (_STRICT, _C["id_col"], _C["label"])

_ASSUME = {
    "en": (
        "The same people are measured before and after. The change includes everything else "
        "that happened in between (seasons, ageing, regression to the mean), so it is not the "
        "programme's effect alone."
    ),
    "ja": (
        "同じ人を事前と事後に測定します。変化には事業以外の影響（季節、加齢、平均への回帰など）"
        "も含まれるため、事業の効果だけを示すものではありません。"
    ),
}

register(
    DesignSpec(
        name="prepost.compare",
        function="pfseval.designs.prepost:compare",
        input="data",
        options=(
            _BEFORE,
            _AFTER,
            _C["level"],
            Option(
                "method",
                "choice",
                choices=("t", "wilcoxon"),
                label={"ja": "推定方法", "en": "method"},
            ),
            replace(_C["treatment"], nullable=True),
            Option(
                "selected_on_baseline",
                "bool",
                label={"ja": "事前の値で選ばれた参加者", "en": "selected on the baseline"},
            ),
            *_TAIL,
        ),
        title={"en": "Before/after comparison", "ja": "事前事後比較"},
        description={
            "en": "The mean change from before to after in the same people (paired t "
            "interval), or the Hodges–Lehmann median change with the signed-rank interval; "
            "with a comparison group measured at the same times, the difference of the two "
            "groups' mean changes (Welch interval).",
            "ja": "同じ人の事前から事後への変化の平均（対応のある t 区間）、またはホッジス・"
            "レーマン推定による変化の中央値（符号付き順位区間）です。同じ時期に測定した比較群"
            "があれば、両群の変化の平均の差（Welch の区間）を示します。",
        },
        assumptions=_ASSUME,
        diagnostics=COMPARE_DIAGNOSTICS,
    )
)

register(
    DesignSpec(
        name="prepost.paired_proportions",
        function="pfseval.designs.prepost:paired_proportions",
        input="data",
        options=(
            _BEFORE,
            _AFTER,
            _C["level"],
            Option(
                "mcnemar",
                "choice",
                choices=("auto", "exact", "asymptotic"),
                label={"ja": "McNemar 検定の方法", "en": "McNemar test"},
            ),
            Option(
                "correct",
                "bool",
                label={"ja": "連続性補正", "en": "continuity correction"},
            ),
            *_TAIL,
        ),
        title={
            "en": "Share before and after (same people)",
            "ja": "割合の事前事後比較（同じ人）",
        },
        description={
            "en": "For a yes/no item asked before and after (e.g. an exercise habit), the "
            "share answering yes after minus the share before, in the same people, with "
            "Newcombe's interval for paired proportions and McNemar's test.",
            "ja": "事前と事後に尋ねた「はい・いいえ」の項目（運動習慣の有無など）について、"
            "同じ人の事後の「はい」の割合から事前の割合を引いた差を、対応のある割合の差に対する"
            " Newcombe の区間と McNemar 検定とともに示します。",
        },
        assumptions=_ASSUME,
        diagnostics=PAIRED_PROPORTIONS_DIAGNOSTICS,
    )
)

register(
    DesignSpec(
        name="prepost.share_improved",
        function="pfseval.designs.prepost:share_improved",
        input="data",
        options=(
            _BEFORE,
            _AFTER,
            Option(
                "threshold",
                "float",
                low=0,
                low_open=True,
                nullable=True,
                label={"ja": "改善とみなす変化の大きさ", "en": "improvement threshold"},
            ),
            _DIRECTION,
            Option("rule", "any", nullable=True, label={"ja": "改善の基準", "en": "rule"}),
            _C["level"],
            *_TAIL,
        ),
        title={
            "en": "Share of people improved (before/after)",
            "ja": "改善者の割合（事前事後）",
        },
        description={
            "en": "The share of people whose value improved from before to after by a stated "
            "rule (any improvement, or at least a threshold), with the Wilson interval.",
            "ja": "定めた基準（わずかでも改善、または一定以上の改善）で事前から事後に改善した"
            "人の割合を、Wilson の区間とともに示します。",
        },
        assumptions={
            "en": (
                "The share of people whose value improved by the stated rule. Without a "
                "comparison group some people improve by chance, so this share is not the "
                "programme's effect alone."
            ),
            "ja": (
                "定めた基準で改善した人の割合です。比較対象がないため、偶然改善する人も含まれ、"
                "事業の効果だけを示すものではありません。"
            ),
        },
        diagnostics=SHARE_DIAGNOSTICS,
    )
)

register(
    DesignSpec(
        name="prepost.count_total",
        function="pfseval.designs.prepost:count_total",
        input="data",
        options=(
            _BEFORE,
            _AFTER,
            _DIRECTION,
            Option(
                "method",
                "choice",
                choices=("t", "poisson"),
                label={"ja": "区間の方法", "en": "interval method"},
            ),
            _C["level"],
            *_TAIL,
        ),
        title={
            "en": "Total change in counts (before/after)",
            "ja": "件数の変化の合計（事前事後）",
        },
        description={
            "en": "The total over people of the change in a count from before to after (e.g. "
            "the number of medicines reduced), with an interval from the mean change per "
            "person (t) or an exact Poisson interval.",
            "ja": "事前から事後への件数の変化（減らせた薬の数など）を全員について合計した値を、"
            "一人あたりの変化の平均に基づく区間（t）または正確なポアソン区間とともに示します。",
        },
        assumptions=_ASSUME,
        diagnostics=TOTAL_DIAGNOSTICS,
    )
)
