"""What the randomised-trial designs declare to the design contract.

The options of :func:`~pfseval.designs.rct.compare` and
:func:`~pfseval.designs.rct.permutation_test` with the values they allow, their titles,
descriptions and assumptions in Japanese and English, their diagnostics, and the catalogue
entries of their notices, sample-flow reasons and method descriptions.

This module imports nothing from the design module, so the design can import it without a
cycle.

Examples
--------
>>> from pfseval.designs.contract import get
>>> get("rct.compare").option_map["measure"].choices
('difference', 'risk_ratio', 'odds_ratio')
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
from pfseval.designs.shared_diagnostics import DF, EXACT, GROUP_SIZES, MEANS, OUTCOME, REGRESSION
from pfseval.messages import declare_messages

__all__ = ["COMPARE_DIAGNOSTICS", "PERMUTATION_DIAGNOSTICS"]

_C = COMMON_OPTIONS

# ---------------------------------------------------------------- messages

declare_messages(
    {
        # -- sample-flow reasons
        "rct.flow.outcome_missing": {
            "en": "outcome missing (lost to follow-up)",
            "ja": "アウトカムが欠測（追跡不能）",
        },
        "rct.flow.covariate_missing": {
            "en": "covariate missing",
            "ja": "調整変数が欠測",
        },
        "rct.flow.period_without_control": {
            "en": "period {period} has no concurrent control group with an outcome "
            "(no randomised comparison)",
            "ja": "期間{period}にはアウトカムのある同時期の対照群がない（無作為化による比較が"
            "できない）",
        },
        "rct.flow.period_without_treated": {
            "en": "period {period} has no concurrent intervention group with an outcome "
            "(no randomised comparison)",
            "ja": "期間{period}にはアウトカムのある同時期の介入群がない（無作為化による比較が"
            "できない）",
        },
        # -- notices
        "rct.covariate_missing": {
            "en": "{n_excluded} people with an outcome but a missing covariate ({covariates!v}) "
            "are left out of the comparison (counted in the sample flow); the estimate covers "
            "complete cases only. Fix: fill in the covariate, or leave it out of covariates "
            "to analyse everyone.",
            "ja": "アウトカムはあるものの調整変数（{covariates!v}）が欠測している{n_excluded}人を"
            "比較から除きました（対象者の流れに記載）。推定値は欠測のない人だけに基づきます。"
            "調整変数を補うか、調整変数から外すと全員を分析できます。",
        },
        "rct.attrition_overall": {
            "en": "{n_missing} of {n_randomised} randomised people ({share:.0%}) have no outcome "
            "(more than {threshold:.0%}); the comparison covers only those followed up and may "
            "be biased.",
            "ja": "無作為に割り付けた{n_randomised}人のうち{n_missing}人（{share:.0%}）の"
            "アウトカムがなく、基準の{threshold:.0%}を超えています。比較は追跡できた人だけに"
            "基づくため、偏りが生じている可能性があります。",
        },
        "rct.attrition_differential": {
            "en": "differential attrition: outcome missing for {share_treated:.1%} of the "
            "intervention arm ({n_missing_treated}/{n_treated}) and {share_control:.1%} of the "
            "control arm ({n_missing_control}/{n_control}), a difference above {threshold:.0%} "
            "points; randomisation no longer guarantees comparable arms.",
            "ja": "脱落率が群間で異なります：アウトカムの欠測は介入群で{share_treated:.1%}"
            "（{n_missing_treated}/{n_treated}人）、対照群で{share_control:.1%}"
            "（{n_missing_control}/{n_control}人）で、差が{threshold:.0%}ポイントを超えて"
            "います。無作為化による群の比較可能性はもはや保証されません。",
        },
        "rct.attrition_differential_in_period": {
            "en": "differential attrition in period {period}: outcome missing for "
            "{share_treated:.1%} of the intervention arm ({n_missing_treated}/{n_treated}) and "
            "{share_control:.1%} of the control arm ({n_missing_control}/{n_control}), a "
            "difference above {threshold:.0%} points; randomisation no longer guarantees "
            "comparable arms.",
            "ja": "期間{period}で脱落率が群間で異なります：アウトカムの欠測は介入群で"
            "{share_treated:.1%}（{n_missing_treated}/{n_treated}人）、対照群で"
            "{share_control:.1%}（{n_missing_control}/{n_control}人）で、差が{threshold:.0%}"
            "ポイントを超えています。無作為化による群の比較可能性はもはや保証されません。",
        },
        "rct.period_without_control": {
            "en": "period {period} has no control group with an outcome (e.g. the waitlist "
            "group being served); its {n_records} records are excluded from the comparison "
            "and shown in the sample flow.",
            "ja": "期間{period}にはアウトカムのある対照群がありません（待機群への実施期間など）。"
            "この期間の{n_records}件は比較から除き、対象者の流れに示しました。",
        },
        "rct.period_without_treated": {
            "en": "period {period} has no intervention group with an outcome; its {n_records} "
            "records are excluded from the comparison and shown in the sample flow.",
            "ja": "期間{period}にはアウトカムのある介入群がありません。この期間の{n_records}件は"
            "比較から除き、対象者の流れに示しました。",
        },
        "rct.id_in_several_periods": {
            "en": "{n_people} {id_col!v} value(s) appear in more than one analysed period "
            "(e.g. {examples!p}); the combined interval treats periods as independent samples "
            "and may be too narrow.",
            "ja": "{n_people}人の{id_col!v}が複数の分析期間に現れます（例：{examples!p}）。"
            "期間を統合した信頼区間は各期間を独立な標本として扱うため、狭すぎる可能性が"
            "あります。",
        },
        "rct.haldane_correction": {
            "en": "a zero cell in the 2×2 table: 0.5 was added to every cell (Haldane "
            "correction) to compute the ratio and its interval; treat the estimate with "
            "caution.",
            "ja": "2×2表に度数0のセルがあるため、すべてのセルに0.5を加えて（ホールデン補正）比と"
            "その信頼区間を計算しました。推定値の解釈には注意が必要です。",
        },
        "rct.treatment_varies_within_clusters": {
            "en": "the treatment varies within {clusters_mixed} of {clusters} clusters; a "
            "cluster-randomised trial assigns whole clusters. Check the treatment and cluster "
            "columns.",
            "ja": "{clusters}クラスターのうち{clusters_mixed}クラスターで、クラスター内に介入群と"
            "対照群が混在しています。クラスター無作為化試験ではクラスター単位で割り付けるため、"
            "介入の列とクラスターの列を確認してください。",
        },
        "rct.few_clusters": {
            "en": "only {clusters} clusters (fewer than {threshold}): cluster-robust intervals "
            "are approximate; small-sample corrections are applied, and the randomisation test "
            "(rct.permutation_test with cluster) is advisable.",
            "ja": "クラスター数が{clusters}と少ないため（{threshold}未満）、クラスター頑健な"
            "信頼区間は近似です。小標本補正を適用していますが、無作為化検定"
            "（クラスター単位の並べ替え検定）も確認することを勧めます。",
        },
        "rct.treatment_varies_within_clusters_in_period": {
            "en": "period {period}: the treatment varies within {clusters_mixed} of {clusters} "
            "clusters; a cluster-randomised trial assigns whole clusters. Check the treatment "
            "and cluster columns.",
            "ja": "期間{period}：{clusters}クラスターのうち{clusters_mixed}クラスターで、"
            "クラスター内に介入群と対照群が混在しています。介入の列とクラスターの列を確認して"
            "ください。",
        },
        "rct.few_clusters_in_period": {
            "en": "period {period}: only {clusters} clusters (fewer than {threshold}): "
            "cluster-robust intervals are approximate; small-sample corrections are applied.",
            "ja": "期間{period}：クラスター数が{clusters}と少ないため（{threshold}未満）、"
            "クラスター頑健な信頼区間は近似です（小標本補正を適用）。",
        },
        "rct.few_assignments": {
            "en": "only {assignments} possible assignments: the smallest attainable two-sided "
            "p-value is about {min_p:.3g}, so the test cannot reach the {alpha:.3g} level and "
            "the interval is unbounded.",
            "ja": "可能な割付けが{assignments}通りしかないため、両側p値は約{min_p:.3g}より"
            "小さくなりません。有意水準{alpha:.3g}には届かず、信頼区間は有界になりません。",
        },
        # -- methods
        "rct.method.welch": {
            "en": "difference in means (intervention − control), Welch t interval",
            "ja": "平均値の差（介入群 − 対照群）、Welch の t 区間",
        },
        "rct.method.newcombe": {
            "en": "risk difference (intervention − control), Newcombe hybrid-score interval; "
            "p-value from the two-sample score (chi-square) test",
            "ja": "割合の差（介入群 − 対照群）、Newcombe のハイブリッド・スコア区間。p値は"
            "2標本スコア検定（カイ二乗検定）",
        },
        "rct.method.risk_ratio": {
            "en": "risk ratio (intervention / control), Wald interval on the log scale",
            "ja": "リスク比（介入群 / 対照群）、対数尺度の Wald 区間",
        },
        "rct.method.risk_ratio_haldane": {
            "en": "risk ratio (intervention / control), Wald interval on the log scale with "
            "0.5 added to every cell",
            "ja": "リスク比（介入群 / 対照群）、すべてのセルに0.5を加えた対数尺度の Wald 区間",
        },
        "rct.method.odds_ratio": {
            "en": "odds ratio (intervention / control), Wald interval on the log scale",
            "ja": "オッズ比（介入群 / 対照群）、対数尺度の Wald 区間",
        },
        "rct.method.odds_ratio_haldane": {
            "en": "odds ratio (intervention / control), Wald interval on the log scale with "
            "0.5 added to every cell",
            "ja": "オッズ比（介入群 / 対照群）、すべてのセルに0.5を加えた対数尺度の Wald 区間",
        },
        "rct.method.mh_risk_ratio": {
            "en": "Mantel–Haenszel risk ratio (intervention / control) over {strata} strata, "
            "Wald interval on the log scale (Greenland–Robins variance)",
            "ja": "{strata}層の マンテル・ヘンツェルのリスク比（介入群 / 対照群）、対数尺度の"
            " Wald 区間（グリーンランド・ロビンスの分散）",
        },
        "rct.method.mh_odds_ratio": {
            "en": "Mantel–Haenszel odds ratio (intervention / control) over {strata} strata, "
            "Wald interval on the log scale (Robins–Breslow–Greenland variance)",
            "ja": "{strata}層の マンテル・ヘンツェルのオッズ比（介入群 / 対照群）、対数尺度の"
            " Wald 区間（ロビンス・ブレスロー・グリーンランドの分散）",
        },
        "rct.method.lin_hc2": {
            "en": "difference (intervention − control): OLS of the outcome on treatment × the "
            "centred adjustment variables {adjusted_for!v} (Lin 2013), HC2 robust SE, "
            "t({df}) interval",
            "ja": "差（介入群 − 対照群）：アウトカムを介入と中心化した調整変数（{adjusted_for!v}）"
            "およびその交互作用で回帰（OLS、Lin 2013）、HC2 頑健標準誤差、t({df}) 区間",
        },
        "rct.method.ols_cr2": {
            "en": "difference (intervention − control): OLS on treatment, cluster-robust CR2 SE "
            "(bias-reduced), t interval with Bell–McCaffrey df ({df}); {clusters} clusters",
            "ja": "差（介入群 − 対照群）：介入の有無で回帰（OLS）、クラスター頑健な CR2 標準誤差"
            "（バイアス補正）、ベル・マカフリーの自由度（{df}）による t 区間。"
            "クラスター数{clusters}",
        },
        "rct.method.lin_cr2": {
            "en": "difference (intervention − control): OLS of the outcome on treatment × the "
            "centred adjustment variables {adjusted_for!v} (Lin 2013), cluster-robust CR2 SE "
            "(bias-reduced), t interval with Bell–McCaffrey df ({df}); {clusters} clusters",
            "ja": "差（介入群 − 対照群）：アウトカムを介入と中心化した調整変数（{adjusted_for!v}）"
            "およびその交互作用で回帰（OLS、Lin 2013）、クラスター頑健な CR2 標準誤差"
            "（バイアス補正）、ベル・マカフリーの自由度（{df}）による t 区間。"
            "クラスター数{clusters}",
        },
        "rct.method.ols_cr1": {
            "en": "difference (intervention − control): OLS on treatment, cluster-robust CR1 "
            "SE, t({df}) interval; {clusters} clusters",
            "ja": "差（介入群 − 対照群）：介入の有無で回帰（OLS）、クラスター頑健な CR1 標準誤差、"
            "t({df}) 区間。クラスター数{clusters}",
        },
        "rct.method.lin_cr1": {
            "en": "difference (intervention − control): OLS of the outcome on treatment × the "
            "centred adjustment variables {adjusted_for!v} (Lin 2013), cluster-robust CR1 SE, "
            "t({df}) interval; {clusters} clusters",
            "ja": "差（介入群 − 対照群）：アウトカムを介入と中心化した調整変数（{adjusted_for!v}）"
            "およびその交互作用で回帰（OLS、Lin 2013）、クラスター頑健な CR1 標準誤差、"
            "t({df}) 区間。クラスター数{clusters}",
        },
        "rct.method.periods": {
            "en": "waitlist / staggered design: per-period estimates combined with weights "
            "proportional to analysed people per period; t interval with Satterthwaite df "
            "({df})",
            "ja": "待機群・段階導入デザイン：期間ごとの推定値を各期間の分析対象者数に比例する"
            "重みで統合、サタースウェイトの自由度（{df}）による t 区間",
        },
        "rct.method.periods_normal": {
            "en": "waitlist / staggered design: per-period estimates combined with weights "
            "proportional to analysed people per period; normal interval",
            "ja": "待機群・段階導入デザイン：期間ごとの推定値を各期間の分析対象者数に比例する"
            "重みで統合、正規近似の区間",
        },
        "rct.method.permutation_exact": {
            "en": "randomisation test of the (stratum-weighted) difference in means, "
            "re-drawing the assignment as the trial drew it (exact: all {assignments} "
            "assignments enumerated); interval by inverting the test under a constant "
            "additive effect",
            "ja": "平均値の差（層別の場合は層の大きさで重み付け）の無作為化検定：試験と同じ方法で"
            "割付けを引き直す（正確検定：{assignments}通りの割付けをすべて列挙）。区間は一定の"
            "加法的効果を仮定して検定を反転して求める",
        },
        "rct.method.permutation_monte_carlo": {
            "en": "randomisation test of the (stratum-weighted) difference in means, "
            "re-drawing the assignment as the trial drew it (Monte Carlo: {n_perm} seeded "
            "re-randomisations of {assignments} possible); interval by inverting the test "
            "under a constant additive effect",
            "ja": "平均値の差（層別の場合は層の大きさで重み付け）の無作為化検定：試験と同じ方法で"
            "割付けを引き直す（モンテカルロ法：可能な{assignments}通りから乱数シード付きで"
            "{n_perm}回）。区間は一定の加法的効果を仮定して検定を反転して求める",
        },
    }
)

# ---------------------------------------------------------------- diagnostics

_ARM_DIAGNOSTICS = declare_diagnostics(
    Diagnostic("outcome_type", "setting", {"ja": "アウトカムの種類", "en": "outcome type"}),
    Diagnostic("sd_treated", "statistic", {"ja": "介入群の標準偏差", "en": "SD, treated"}),
    Diagnostic("sd_control", "statistic", {"ja": "対照群の標準偏差", "en": "SD, controls"}),
    Diagnostic(
        "n_randomised_treated",
        "people",
        {"ja": "介入群に割り付けた人数", "en": "randomised, treated"},
    ),
    Diagnostic(
        "n_randomised_control",
        "people",
        {"ja": "対照群に割り付けた人数", "en": "randomised, controls"},
    ),
    Diagnostic(
        "n_missing_outcome_treated",
        "people",
        {"ja": "アウトカム欠測（介入群）", "en": "outcome missing, treated"},
    ),
    Diagnostic(
        "n_missing_outcome_control",
        "people",
        {"ja": "アウトカム欠測（対照群）", "en": "outcome missing, controls"},
    ),
    Diagnostic(
        "attrition_treated",
        "proportion",
        {"ja": "脱落率（介入群）", "en": "attrition, treated"},
        derived_from=("n_missing_outcome_treated", "n_randomised_treated"),
        relation="n_missing_outcome_treated / n_randomised_treated",
    ),
    Diagnostic(
        "attrition_control",
        "proportion",
        {"ja": "脱落率（対照群）", "en": "attrition, controls"},
        derived_from=("n_missing_outcome_control", "n_randomised_control"),
        relation="n_missing_outcome_control / n_randomised_control",
    ),
    Diagnostic(
        "attrition_by_period",
        "table",
        {"ja": "期間別の割付け人数と欠測", "en": "randomised and missing, by period"},
    ),
)

_ARM_DIAGNOSTICS = (*GROUP_SIZES, *OUTCOME, *MEANS, *_ARM_DIAGNOSTICS)

COMPARE_DIAGNOSTICS = (
    *_ARM_DIAGNOSTICS,
    *DF,
    *REGRESSION,
    *declare_diagnostics(
        Diagnostic(
            "n_events_treated", "people", {"ja": "介入群の該当者数", "en": "events, treated"}
        ),
        Diagnostic(
            "n_events_control", "people", {"ja": "対照群の該当者数", "en": "events, controls"}
        ),
        Diagnostic(
            "risk_treated",
            "proportion",
            {"ja": "介入群の割合", "en": "risk, treated"},
            derived_from=("n_events_treated", "n_treated"),
            relation="n_events_treated / n_treated",
        ),
        Diagnostic(
            "risk_control",
            "proportion",
            {"ja": "対照群の割合", "en": "risk, controls"},
            derived_from=("n_events_control", "n_control"),
            relation="n_events_control / n_control",
        ),
        Diagnostic(
            "wilson_treated",
            "table",
            {"ja": "介入群の割合の Wilson 区間", "en": "Wilson interval, treated"},
        ),
        Diagnostic(
            "wilson_control",
            "table",
            {"ja": "対照群の割合の Wilson 区間", "en": "Wilson interval, controls"},
        ),
        Diagnostic(
            "haldane_correction", "setting", {"ja": "ホールデン補正", "en": "Haldane correction"}
        ),
        Diagnostic(
            "log_std_error", "statistic", {"ja": "対数尺度の標準誤差", "en": "SE on the log scale"}
        ),
        Diagnostic("n_strata", "count", {"ja": "層の数", "en": "strata"}),
        Diagnostic("stratum_sizes", "table", {"ja": "層別の人数", "en": "people per stratum"}),
        Diagnostic("n_coefficients", "count", {"ja": "係数の数", "en": "coefficients (number)"}),
        Diagnostic(
            "n_clusters_treated", "count", {"ja": "介入群のクラスター数", "en": "clusters, treated"}
        ),
        Diagnostic(
            "n_clusters_control",
            "count",
            {"ja": "対照群のクラスター数", "en": "clusters, controls"},
        ),
        Diagnostic(
            "n_clusters_mixed",
            "count",
            {"ja": "介入群と対照群が混在するクラスター数", "en": "clusters with both arms"},
        ),
        Diagnostic(
            "cluster_size_min", "people", {"ja": "最小クラスターの人数", "en": "smallest cluster"}
        ),
        Diagnostic(
            "cluster_size_max", "people", {"ja": "最大クラスターの人数", "en": "largest cluster"}
        ),
        Diagnostic(
            "df_bell_mccaffrey",
            "statistic",
            {"ja": "ベル・マカフリーの自由度", "en": "Bell–McCaffrey df"},
        ),
        Diagnostic("n_periods", "count", {"ja": "期間の数", "en": "periods"}),
        Diagnostic("period_weights", "table", {"ja": "期間の重み", "en": "period weights"}),
    ),
)

PERMUTATION_DIAGNOSTICS = (
    *_ARM_DIAGNOSTICS,
    *EXACT,
    *declare_diagnostics(
        Diagnostic(
            "n_assignments", "count", {"ja": "可能な割付けの数", "en": "possible assignments"}
        ),
        Diagnostic("n_perm_used", "count", {"ja": "用いた割付けの数", "en": "assignments used"}),
        Diagnostic("units", "setting", {"ja": "割付けの単位", "en": "assignment units"}),
        Diagnostic("n_units", "count", {"ja": "割付け単位の数", "en": "assignment units (number)"}),
        Diagnostic("alternative", "setting", {"ja": "対立仮説", "en": "alternative"}),
        Diagnostic(
            "min_attainable_p",
            "statistic",
            {"ja": "到達可能な最小のp値", "en": "smallest attainable p-value"},
        ),
        Diagnostic(
            "p_value_mc_se",
            "statistic",
            {"ja": "p値のモンテカルロ標準誤差", "en": "Monte Carlo SE of the p-value"},
        ),
    ),
)

# ---------------------------------------------------------------- options and specs

_TREATMENT = replace(_C["treatment"], required=True)
_OUTCOME = replace(_C["outcome"], required=True)
_STRATA = Option(
    "strata", "column", nullable=True, label={"ja": "層（ブロック）の列", "en": "strata column"}
)
_CLUSTER = Option(
    "cluster", "column", nullable=True, label={"ja": "クラスターの列", "en": "cluster column"}
)

_ASSUME = {
    "en": (
        "People were assigned to the programme or control at random, so the two groups "
        "differ only by chance; the difference in outcomes estimates the programme's effect. "
        "Unequal loss to follow-up between the groups can still bias it."
    ),
    "ja": (
        "対象者を無作為に介入群と対照群に割り付けたため、両群の違いは偶然によるものだけで、"
        "結果の差が事業の効果を表します。追跡できなかった人の割合が群間で異なると偏りが"
        "生じ得ます。"
    ),
}

register(
    DesignSpec(
        name="rct.compare",
        function="pfseval.designs.rct:compare",
        input="data",
        options=(
            _OUTCOME,
            _TREATMENT,
            replace(_C["covariates"], nullable=True),
            _STRATA,
            _CLUSTER,
            Option(
                "period",
                "column",
                nullable=True,
                label={"ja": "期間の列（待機群・段階導入）", "en": "period column"},
            ),
            Option(
                "measure",
                "choice",
                choices=("difference", "risk_ratio", "odds_ratio"),
                label={"ja": "効果の尺度", "en": "effect measure"},
            ),
            Option(
                "outcome_type",
                "choice",
                choices=("auto", "continuous", "binary"),
                label={"ja": "アウトカムの種類", "en": "outcome type"},
            ),
            Option(
                "cluster_se",
                "choice",
                choices=("CR2", "CR1"),
                label={"ja": "クラスター頑健分散", "en": "cluster-robust variance"},
            ),
            _C["level"],
            _C["id_col"],
            _C["label"],
        ),
        title={"en": "Randomised comparison", "ja": "ランダム化比較試験"},
        description={
            "en": "The outcome of the intervention group minus that of the control group: "
            "difference in means with Welch's interval, or for a yes/no outcome the risk "
            "difference (Newcombe) or a risk or odds ratio; adjusted for baseline covariates "
            "or strata by Lin's regression with robust standard errors, and for cluster "
            "randomisation with cluster-robust (CR2) standard errors.",
            "ja": "介入群と対照群のアウトカムの差です。平均値の差（Welch の区間）、はい・いいえの"
            "アウトカムでは割合の差（Newcombe の区間）またはリスク比・オッズ比を示します。"
            "ベースラインの共変量や層は Lin の回帰と頑健標準誤差で、クラスター無作為化は"
            "クラスター頑健（CR2）標準誤差で扱います。",
        },
        assumptions=_ASSUME,
        diagnostics=COMPARE_DIAGNOSTICS,
    )
)

register(
    DesignSpec(
        name="rct.permutation_test",
        function="pfseval.designs.rct:permutation_test",
        input="data",
        options=(
            _OUTCOME,
            _TREATMENT,
            _STRATA,
            _CLUSTER,
            Option(
                "n_perm",
                "int",
                low=1,
                high=10_000_000,
                label={"ja": "再割付けの回数", "en": "re-randomisations"},
            ),
            _C["seed"],
            Option(
                "statistic",
                "choice",
                choices=("difference",),
                label={"ja": "検定統計量", "en": "test statistic"},
            ),
            Option(
                "alternative",
                "choice",
                choices=("two-sided", "greater", "less"),
                label={"ja": "対立仮説", "en": "alternative"},
            ),
            _C["level"],
            _C["id_col"],
            _C["label"],
        ),
        title={
            "en": "Randomisation test (randomised trial)",
            "ja": "無作為化検定（ランダム化比較試験）",
        },
        description={
            "en": "Tests whether the programme had any effect by re-drawing the random "
            "assignment the way the trial drew it (within strata, whole clusters) and asking "
            "how often a difference as large as the observed one arises by chance; the "
            "interval collects the constant effects the test does not reject.",
            "ja": "試験と同じ方法（層内で、クラスター単位で）割付けを引き直し、観察された差と"
            "同じ大きさの差が偶然に生じる頻度から、事業の効果の有無を検定します。信頼区間は、"
            "検定で棄却されない一定の効果の範囲です。",
        },
        assumptions={
            "en": _ASSUME["en"]
            + " The test needs no model of the outcome; the interval assumes the same effect "
            "for everyone.",
            "ja": _ASSUME["ja"]
            + "検定はアウトカムの分布を仮定しませんが、信頼区間は全員に同じ効果があると仮定"
            "します。",
        },
        diagnostics=PERMUTATION_DIAGNOSTICS,
    )
)
