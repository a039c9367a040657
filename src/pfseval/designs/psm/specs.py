"""What the propensity-score designs declare to the design contract.

One place for the matching step (``psm.match``) and the two estimators that take its result
(``psm.att``, ``psm.suppression_rate``): their options with the values they allow, their titles,
descriptions and assumptions in Japanese and English, their diagnostics, and the message
catalogue entries of their notices, sample-flow reasons and method descriptions.

This module imports nothing from the design modules, so they can import it (to make sure the
catalogue is filled before they build a message) without an import cycle.

Examples
--------
>>> from pfseval.designs.contract import get
>>> get("psm.suppression_rate").matching
'psm.match'
>>> get("psm.match").option_map["ratio"].stage
'match'
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
from pfseval.designs.shared_diagnostics import (
    BOOTSTRAP,
    DF,
    GROUP_SIZES,
    MEANS,
    N_DENOMINATOR,
    OUTCOME,
    REGRESSION,
)
from pfseval.messages import declare_messages

__all__ = ["CI_CHOICES"]

#: The intervals :func:`~pfseval.designs.psm.kobe.suppression_rate` offers (its ``ci`` option).
CI_CHOICES: tuple[str, ...] = (
    "bootstrap",
    "bootstrap_percentile",
    "bootstrap_basic",
    "bootstrap_normal",
    "wilson",
    "clopper_pearson",
)

_C = COMMON_OPTIONS

# ---------------------------------------------------------------- messages

declare_messages(
    {
        # -- matching: notices
        "psm.balance_inadequate": {
            "en": "covariate balance after matching is inadequate: |SMD| > {threshold} for "
            "{covariates!v}",
            "ja": "マッチング後も{covariates!v}の標準化差の絶対値が{threshold}を超えており、"
            "群間のバランスが十分ではありません。",
        },
        "psm.few_matched_treated": {
            "en": "only {n_matched_treated} treated units were matched (fewer than {minimum}); "
            "estimates will be imprecise",
            "ja": "マッチングできた参加者は{n_matched_treated}人で、{minimum}人に満たないため、"
            "推定の精度は低くなります。",
        },
        "psm.unmatched_treated": {
            "en": "{n_unmatched} of {n_treated} treated units were not matched (the sample flow "
            "gives the reasons); the ATT refers to the matched treated only",
            "ja": "参加者{n_treated}人のうち{n_unmatched}人は対照が見つからず、マッチングから"
            "外れました（理由はサンプルフローに示します）。効果はマッチングできた参加者に"
            "ついての値です。",
        },
        "psm.partially_matched": {
            "en": "{n_partially_matched} treated units received fewer than {ratio} controls",
            "ja": "{n_partially_matched}人の参加者は、対照が予定の{ratio}人に満たないまま"
            "マッチングされました。",
        },
        "psm.unmatched_controls": {
            "en": "{n_unmatched} of {n_control} controls were not matched (the sample flow "
            "gives the reasons); the ATC refers to the matched controls only",
            "ja": "対照{n_control}人のうち{n_unmatched}人は参加者が見つからず、マッチングから"
            "外れました（理由はサンプルフローに示します）。効果はマッチングできた対照について"
            "の値です。",
        },
        "psm.partially_matched_controls": {
            "en": "{n_partially_matched} controls received fewer than {ratio} participants",
            "ja": "{n_partially_matched}人の対照は、参加者が予定の{ratio}人に満たないまま"
            "マッチングされました。",
        },
        # -- matching: sample-flow reasons
        "psm.flow.missing_covariates": {
            "en": "missing covariate values ({covariates!v})",
            "ja": "共変量（{covariates!v}）が欠測",
        },
        "psm.flow.discarded": {
            "en": "outside common support (discarded)",
            "ja": "傾向スコアの共通範囲外（除外）",
        },
        "psm.flow.no_control_in_stratum": {
            "en": "no match: no control in its exact-matching stratum",
            "ja": "マッチングなし：完全一致させる層に対照がいない",
        },
        "psm.flow.no_control": {
            "en": "no match: no control",
            "ja": "マッチングなし：対照がいない",
        },
        "psm.flow.outside_caliper": {
            "en": "no match: no control within the caliper",
            "ja": "マッチングなし：キャリパー内に対照がいない",
        },
        "psm.flow.controls_used_up": {
            "en": "no match: all suitable controls were already matched",
            "ja": "マッチングなし：適合する対照はすべて他の参加者に割り当て済み",
        },
        "psm.flow.not_selected": {
            "en": "not selected as a match",
            "ja": "対照として選ばれなかった",
        },
        # -- ATT
        "psm.att_missing_outcome": {
            "en": "{n_treated_missing} matched treated and {n_control_missing} matched controls "
            "have no {outcome!v} and are left out of the ATT; the remaining matched sets may "
            "no longer be balanced",
            "ja": "マッチングされた参加者{n_treated_missing}人と対照{n_control_missing}人は"
            "{outcome!v}がないため効果の推定から外しました。残りのマッチングではバランスが"
            "崩れている可能性があります。",
        },
        "psm.flow.no_outcome": {
            "en": "matched but no {outcome!v} (or covariates)",
            "ja": "マッチング済みだが{outcome!v}（または調整変数）が欠測",
        },
        # -- Kobe indicator: notices
        "kobe.few_controls": {
            "en": "the prediction regression is fitted on only {n_controls} matched controls "
            "with follow-up for {n_regressors} regressors (fewer than {minimum}: at least "
            "{per_regressor} per regressor and {minimum_all} in all); predictions are "
            "imprecise.",
            "ja": "予測の回帰式は、追跡値のあるマッチング対照{n_controls}人から{n_regressors}個の"
            "説明変数で推定されています。必要な人数（説明変数1個あたり{per_regressor}人、"
            "全体で{minimum_all}人以上、つまり{minimum}人）に満たないため、予測は不正確です。",
        },
        "kobe.small_denominator": {
            "en": "only {n_denominator} participants are in the denominator (fewer than "
            "{minimum}); the rate is imprecise, read its confidence interval.",
            "ja": "分母の参加者は{n_denominator}人で{minimum}人に満たないため、率は不正確です。"
            "信頼区間とあわせて読んでください。",
        },
        "kobe.extrapolated": {
            # the range sits outside brackets: withheld, each end is itself "（非公開）"
            "en": "{n_outside} participant(s) in the denominator have {covariate!v} outside "
            "the range of the controls used in the regression, {low!p} to {high!p}; their "
            "predictions are extrapolated.",
            "ja": "分母の参加者のうち{n_outside}人は、{covariate!v}が回帰に用いた対照の範囲"
            "{low!p}～{high!p}の外にあり、その予測値は外挿です。",
        },
        "kobe.unseen_level": {
            "en": "{n_unseen} participant(s) in the denominator have a level of {covariate!v} "
            "({levels!p}) that no control used in the regression has; they are predicted at "
            "the reference level.",
            "ja": "分母の参加者のうち{n_unseen}人は、回帰に用いた対照にない{covariate!v}の値"
            "（{levels!p}）を持つため、基準の値として予測しました。",
        },
        "kobe.no_followup": {
            "en": "{n_no_followup} of {n_participants} matched participants have no follow-up "
            "value of {outcome!v} and are left out of the rate (matched controls without "
            "follow-up: {n_controls_no_followup} of {n_controls}).",
            "ja": "マッチングされた参加者{n_participants}人のうち{n_no_followup}人は"
            "{outcome!v}の追跡値がなく、率の計算から外しました（追跡値のない対照："
            "{n_controls}人中{n_controls_no_followup}人）。",
        },
        "kobe.failed_replicates": {
            "en": "{n_failed} of {n_boot} bootstrap replicates had no participant in the "
            "denominator and were ignored in the intervals.",
            "ja": "ブートストラップ {n_boot} 回のうち {n_failed} 回は分母に参加者がおらず、"
            "区間の計算から除きました。",
        },
        # -- Kobe indicator: sample-flow reasons
        "kobe.flow.no_matched_control": {
            "en": "no matched control",
            "ja": "マッチングされた対照がいない",
        },
        "kobe.flow.no_followup": {
            "en": "no follow-up value of {outcome!v}",
            "ja": "{outcome!v}の追跡値がない",
        },
        "kobe.flow.outside_denominator": {
            "en": "outside the denominator subset ({denominator!v} = 1)",
            "ja": "分母の対象外（{denominator!v}が1でない）",
        },
        "kobe.flow.outside_given_subset": {
            "en": "outside the given denominator subset",
            "ja": "指定された分母の対象外",
        },
        "kobe.flow.not_matched": {
            "en": "not matched to a participant",
            "ja": "参加者とマッチングされなかった",
        },
        "kobe.difference_method_newcombe": {
            "en": "participants' rate − no-effect reference rate; interval: Newcombe hybrid "
            "score (ignores the shared regression)",
            "ja": "参加者の率 − 効果なしの参照値；区間：Newcombe のハイブリッド・スコア法"
            "（共通の回帰式による誤差は含まない）",
        },
    }
)

# The Kobe indicator's methods name the change definition and the interval in words. Each
# (change, interval, bootstrap) combination is a catalogue entry composed once here from the
# clauses below, so the design picks a code (``kobe.method.<change>.<ci>[.no_bootstrap]``) and
# the Japanese text never shows an option's identifier.
_KOBE_CI = {
    "bootstrap_percentile": {
        "en": "bootstrap percentile",
        "ja": "ブートストラップ・パーセンタイル法",
    },
    "bootstrap_basic": {
        "en": "bootstrap basic (reverse percentile)",
        "ja": "ブートストラップ基本法（逆パーセンタイル）",
    },
    "bootstrap_normal": {
        "en": "normal with the bootstrap standard error",
        "ja": "ブートストラップ標準誤差による正規近似",
    },
    "wilson": {"en": "Wilson score on the count", "ja": "人数に基づく Wilson スコア法"},
    "clopper_pearson": {
        "en": "Clopper–Pearson exact on the count",
        "ja": "人数に基づく Clopper–Pearson 正確法",
    },
}
_KOBE_CHANGE = {
    "absolute_per_year": {
        "en": "({outcome!v} − {baseline!v}) / follow-up years",
        "ja": "（{outcome!v} − {baseline!v}）÷ 追跡年数",
    },
    "absolute": {"en": "{outcome!v} − {baseline!v}", "ja": "{outcome!v} − {baseline!v}"},
    "relative": {
        "en": "({outcome!v} − {baseline!v}) / {baseline!v}",
        "ja": "（{outcome!v} − {baseline!v}）÷ {baseline!v}",
    },
    "given": {"en": "the change column {outcome!v}", "ja": "変化量の列{outcome!v}"},
}
_KOBE_BOOT = {
    "": {
        "en": "{n_boot} bootstrap replicates resampling matched sets and refitting the regression.",
        "ja": "マッチングの組を単位とし回帰を推定し直すブートストラップ {n_boot} 回。",
    },
    ".no_bootstrap": {"en": "no bootstrap.", "ja": "ブートストラップなし。"},
}
_KOBE_RULE = {
    "en": ("Kobe suppression rate: OLS of the change [", "] on {covariates!v} fitted on "
           "{n_controls} matched controls with follow-up; a participant is suppressed when the "
           "actual decline is strictly smaller than predicted. Interval: ", "; "),
    "ja": ("神戸市方式の抑制率：追跡値のあるマッチング対照{n_controls}人で変化量［",
           "］を{covariates!v}に OLS 回帰し、実際の低下が予測より小さい参加者を抑制者と"
           "します。区間：", "；"),
}  # fmt: skip
declare_messages(
    {
        f"kobe.method.{change}.{ci}{boot}": {
            lang: _KOBE_RULE[lang][0]
            + _KOBE_CHANGE[change][lang]
            + _KOBE_RULE[lang][1]
            + _KOBE_CI[ci][lang]
            + _KOBE_RULE[lang][2]
            + _KOBE_BOOT[boot][lang]
            for lang in ("ja", "en")
        }
        for change in _KOBE_CHANGE
        for ci in _KOBE_CI
        for boot in _KOBE_BOOT
    }
)
declare_messages(
    {
        f"kobe.reference_method.{ci}": {
            "en": "no-effect reference: the same rule applied to the {n_controls} controls "
            "with {k_folds}-fold cross-fitted predictions (folds by matched set); interval: "
            + _KOBE_CI[ci]["en"],
            "ja": "効果なしの参照値：対照{n_controls}人に同じ基準を当てはめた値（予測は"
            "マッチングの組単位の {k_folds} 分割交差推定）；区間：" + _KOBE_CI[ci]["ja"],
        }
        for ci in ("bootstrap_percentile", "bootstrap_basic", "bootstrap_normal", "wilson")
    }
)
declare_messages(
    {
        f"kobe.difference_method.{ci}": {
            "en": "participants' rate − no-effect reference rate; interval: "
            + _KOBE_CI[ci]["en"]
            + " (both rates recomputed in each bootstrap replicate)",
            "ja": "参加者の率 − 効果なしの参照値；区間："
            + _KOBE_CI[ci]["ja"]
            + "（ブートストラップの各回で両方の率を計算し直す）",
        }
        for ci in ("bootstrap_percentile", "bootstrap_basic", "bootstrap_normal")
    }
)

# The ATT's method in four variants (with or without covariates, with or without the cluster
# bootstrap). The variants are catalogue entries composed once here from the same clauses, so
# the design picks a code and never assembles a sentence.
_ATT_WHAT = {
    "": {
        "en": "matched difference in means (ATT)",
        "ja": "マッチング後の平均の差（ATT）",
    },
    "_adjusted": {
        "en": "regression-adjusted ATT (adjusted for {covariates!v})",
        "ja": "回帰調整した ATT（調整変数：{covariates!v}）",
    },
}
_ATT_HOW = {
    "en": ": weighted least squares on the matched sample with MatchIt weights; {vcov} "
    "standard error; t interval with {df} residual df",
    "ja": "：MatchIt の重みを用いた重み付き最小二乗法；標準誤差は {vcov}；残差自由度 {df} の "
    "t 分布による信頼区間",
}
_ATT_BOOT = {
    "": {"en": "", "ja": ""},
    "_bootstrap": {
        "en": "; cluster bootstrap over {n_sets} matched sets ({n_boot} resamples, percentile)",
        "ja": "；マッチングの組 {n_sets} 組を単位とするブートストラップ（{n_boot} 回、"
        "パーセンタイル区間）",
    },
}
declare_messages(
    {
        f"psm.att.method{what}{boot}": {
            lang: _ATT_WHAT[what][lang] + _ATT_HOW[lang] + _ATT_BOOT[boot][lang]
            for lang in ("ja", "en")
        }
        for what in _ATT_WHAT
        for boot in _ATT_BOOT
    }
)

# ---------------------------------------------------------------- diagnostics

ATT_DIAGNOSTICS = (
    *GROUP_SIZES,
    *DF,
    *OUTCOME,
    *MEANS,
    *REGRESSION,
    *declare_diagnostics(
        Diagnostic("vcov", "setting", {"ja": "分散の推定法", "en": "variance estimator"}),
        Diagnostic("covariates", "setting", {"ja": "調整変数", "en": "covariates"}),
    ),
)

MATCH_DIAGNOSTICS = declare_diagnostics(
    Diagnostic("n_treated_input", "people", {"ja": "介入群（入力）", "en": "treated, input"}),
    Diagnostic("n_control_input", "people", {"ja": "対照候補（入力）", "en": "controls, input"}),
    Diagnostic(
        "n_matched_treated", "people", {"ja": "マッチングされた参加者", "en": "treated matched"}
    ),
    Diagnostic(
        "n_matched_control", "people", {"ja": "マッチングされた対照", "en": "controls matched"}
    ),
    Diagnostic(
        "n_unmatched_treated",
        "people",
        {"ja": "マッチングされなかった参加者", "en": "treated not matched"},
    ),
    Diagnostic(
        "n_partially_matched_treated",
        "people",
        {"ja": "対照が予定数に満たない参加者", "en": "treated with fewer controls than the ratio"},
    ),
    Diagnostic("n_discarded", "people", {"ja": "共通範囲外で除外", "en": "discarded"}),
    Diagnostic(
        "caliper_width", "setting", {"ja": "キャリパー幅（距離の尺度）", "en": "caliper width"}
    ),
    Diagnostic(
        "unmatched_by_reason",
        "table",
        {"ja": "マッチングされなかった理由別の人数", "en": "not matched, by reason"},
    ),
    Diagnostic(
        "max_abs_smd_after",
        "statistic",
        {"ja": "マッチング後の標準化差の最大値", "en": "largest |SMD| after matching"},
    ),
    Diagnostic("label", "setting", {"ja": "名称", "en": "label"}),
)

KOBE_DIAGNOSTICS = (
    *N_DENOMINATOR,
    *BOOTSTRAP,
    *declare_diagnostics(
        Diagnostic("n_suppressed", "people", {"ja": "抑制者数", "en": "suppressed"}),
        Diagnostic(
            "n_participants_matched",
            "people",
            {"ja": "マッチングされた参加者", "en": "participants matched"},
        ),
        Diagnostic(
            "n_participants_without_followup",
            "people",
            {"ja": "追跡値のない参加者", "en": "participants without follow-up"},
        ),
        Diagnostic(
            "n_participants_outside_denominator",
            "people",
            {"ja": "分母の対象外の参加者", "en": "participants outside the denominator"},
        ),
        Diagnostic(
            "n_controls_used",
            "people",
            {"ja": "回帰に用いた対照", "en": "controls in the regression"},
        ),
        Diagnostic(
            "n_control_rows",
            "count",
            {"ja": "回帰の対照の行数（重複を含む）", "en": "control rows (with repeats)"},
            derived_from=("n_controls_used",),
            relation="n_controls_used counted once per matched set",
        ),
        Diagnostic("n_matched_sets", "count", {"ja": "マッチングの組数", "en": "matched sets"}),
        Diagnostic(
            "regression_r_squared",
            "statistic",
            {"ja": "予測回帰の決定係数", "en": "R² of the prediction regression"},
        ),
        Diagnostic(
            "regression_coefficients",
            "table",
            {"ja": "予測回帰の係数", "en": "prediction regression coefficients"},
        ),
        Diagnostic("regressors", "setting", {"ja": "説明変数", "en": "regressors"}),
        Diagnostic("change", "setting", {"ja": "変化の定義", "en": "change"}),
        Diagnostic(
            "denominator",
            "setting",
            {"ja": "分母の対象を示す列（なしは全員）", "en": "denominator subset (None = all)"},
        ),
        Diagnostic(
            "n_ties", "people", {"ja": "予測と同値の人数", "en": "ties with the prediction"}
        ),
        Diagnostic(
            "tie_tolerance",
            "setting",
            {
                "ja": "予測と同値とみなす相対差（同値は抑制者に数えない）",
                "en": "relative tie tolerance (a tie is not suppressed)",
            },
        ),
        Diagnostic(
            "reference_n_suppressed",
            "people",
            {"ja": "参照値の抑制者数（対照）", "en": "suppressed controls (reference)"},
        ),
        Diagnostic("k_folds", "setting", {"ja": "交差推定の分割数", "en": "cross-fitting folds"}),
        Diagnostic("fold_sizes", "table", {"ja": "各分割の対照数", "en": "controls per fold"}),
        Diagnostic(
            "bootstrap_bandwidth_participants",
            "setting",
            {"ja": "平滑化の幅（参加者）", "en": "smoothing bandwidth, participants"},
        ),
        Diagnostic(
            "bootstrap_bandwidth_controls",
            "setting",
            {"ja": "平滑化の幅（対照）", "en": "smoothing bandwidth, controls"},
        ),
    ),
)

# ---------------------------------------------------------------- options

_N_BOOT_OPTIONAL = replace(_C["n_boot"], nullable=True)

MATCH_OPTIONS: tuple[Option, ...] = tuple(
    replace(o, stage="match")
    for o in (
        replace(_C["treatment"], required=True),
        replace(_C["covariates"], required=True),
        _C["id_col"],
        Option(
            "ratio",
            "int",
            low=1,
            high=100,
            also=("float",),  # an average with min_controls / max_controls
            label={"ja": "参加者1人あたりの対照数", "en": "controls per participant"},
        ),
        Option(
            "caliper",
            "float",
            low=0,
            low_open=True,
            nullable=True,
            also=("mapping",),  # per variable: {"distance": 0.2, "age": 5}
            label={"ja": "キャリパー（標準偏差単位）", "en": "caliper (SDs of the distance)"},
        ),
        Option(
            "std_caliper",
            "bool",
            also=("mapping",),
            label={"ja": "キャリパーを標準偏差単位とする", "en": "calipers in SDs"},
        ),
        Option(
            "reuse_max",
            "int",
            low=1,
            nullable=True,
            label={"ja": "対照1人の最大使用回数", "en": "times a control may be used"},
        ),
        Option(
            "antiexact",
            "columns",
            nullable=True,
            label={"ja": "異なる値を要求する変数", "en": "anti-exact columns"},
        ),
        Option(
            "unit_id",
            "column",
            nullable=True,
            label={"ja": "同一人物を示す列", "en": "person behind several records"},
        ),
        Option(
            "estimand",
            "choice",
            choices=("ATT", "ATC"),
            label={"ja": "推定対象", "en": "estimand"},
        ),
        Option(
            "method",
            "choice",
            choices=("nearest", "optimal"),
            label={"ja": "マッチングの方法", "en": "matching method"},
        ),
        Option(
            "min_controls",
            "int",
            low=1,
            nullable=True,
            label={"ja": "可変比の最小対照数", "en": "fewest controls (variable ratio)"},
        ),
        Option(
            "max_controls",
            "int",
            low=1,
            nullable=True,
            label={"ja": "可変比の最大対照数", "en": "most controls (variable ratio)"},
        ),
        Option(
            "ties",
            "choice",
            choices=("matchit", "left"),
            label={"ja": "同点の扱い", "en": "tie rule"},
        ),
        Option(
            "mahvars",
            "columns",
            nullable=True,
            label={"ja": "マハラノビス距離の変数", "en": "Mahalanobis variables"},
        ),
        Option(
            "link",
            "choice",
            choices=("logit", "linear.logit", "probit", "linear.probit"),
            label={"ja": "リンク関数", "en": "link"},
        ),
        Option("replace", "bool", label={"ja": "復元マッチング", "en": "with replacement"}),
        Option(
            "exact",
            "columns",
            nullable=True,
            label={"ja": "完全一致させる変数", "en": "exact-matching columns"},
        ),
        Option(
            "order",
            "choice",
            choices=("largest", "smallest", "random", "data", "closest", "farthest"),
            nullable=True,  # MatchIt's default for the estimand and distance
            label={"ja": "マッチングの順序", "en": "matching order"},
        ),
        _C["seed"],
        # "glm", "mahalanobis", "robust_mahalanobis", a score column, or (in Python) an array
        Option("distance", "column", also=("any",), label={"ja": "距離", "en": "distance"}),
        Option(
            "discard",
            "choice",
            choices=("none", "both", "control", "treated"),
            label={"ja": "共通範囲外の除外", "en": "common-support discarding"},
        ),
        Option(
            "missing",
            "choice",
            choices=("error", "exclude"),
            label={"ja": "共変量の欠測", "en": "missing covariates"},
        ),
        _C["label"],
    )
)

_PSM_TITLE_ATT = {
    "en": "Propensity-score matching: effect on the participants (ATT)",
    "ja": "傾向スコア・マッチング：参加者における効果（ATT）",
}

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

register(
    DesignSpec(
        name="psm.match",
        function="pfseval.designs.psm.matching:match",
        input="data",
        options=MATCH_OPTIONS,
        title={"en": "Propensity-score matching", "ja": "傾向スコア・マッチング"},
        description={
            "en": "Greedy nearest-neighbour matching on the propensity score from a logistic "
            '(or probit) model, as MatchIt\'s method = "nearest" for the ATT. No outcome is '
            "used: balance can be checked before any effect is estimated.",
            "ja": "ロジスティック（またはプロビット）モデルによる傾向スコアで、近い順に対照を"
            '選ぶマッチング（MatchIt の method = "nearest"、ATT）です。アウトカムは使わない'
            "ため、効果を推定する前にバランスを確認できます。",
        },
        assumptions=_PSM_ASSUME,
        diagnostics=MATCH_DIAGNOSTICS,
        figures=("love_plot", "overlap"),
    )
)

register(
    DesignSpec(
        name="psm.att",
        function="pfseval.designs.psm.effects:att",
        input="matched",
        matching="psm.match",
        options=(
            replace(_C["outcome"], required=True),
            replace(_C["covariates"], nullable=True),
            _C["level"],
            Option(
                "vcov",
                "choice",
                choices=("cluster", "HC0", "HC1", "HC2", "HC3"),
                label={"ja": "分散の推定法", "en": "variance estimator"},
            ),
            _N_BOOT_OPTIONAL,
            _C["seed"],
            _C["n_jobs"],
            _C["progress"],
            _C["label"],
        ),
        title=_PSM_TITLE_ATT,
        description={
            "en": "The difference in the outcome between matched participants and their "
            "controls (weighted least squares with the matching weights, optionally adjusted "
            "for covariates), with a standard error clustered on matched sets.",
            "ja": "マッチングした参加者と対照のアウトカムの差（マッチングの重みによる重み付き"
            "最小二乗法、必要に応じて共変量で調整）を、マッチングの組を単位とした標準誤差と"
            "ともに示します。",
        },
        assumptions=_PSM_ASSUME,
        diagnostics=(*ATT_DIAGNOSTICS, *MATCH_DIAGNOSTICS),
        figures=("love_plot", "overlap"),
    )
)

register(
    DesignSpec(
        name="psm.suppression_rate",
        function="pfseval.designs.psm.kobe:suppression_rate",
        input="matched",
        matching="psm.match",
        options=(
            replace(_C["outcome"], required=True),
            Option(
                "baseline",
                "column",
                nullable=True,
                label={"ja": "ベースライン値の列", "en": "baseline column"},
            ),
            Option(
                "followup_years",
                "column",
                also=("float",),
                low=0,
                low_open=True,
                nullable=True,
                label={"ja": "追跡年数", "en": "follow-up years"},
            ),
            Option(
                "change",
                "choice",
                choices=("absolute_per_year", "relative", "absolute"),
                label={"ja": "変化の定義", "en": "change"},
            ),
            replace(_C["covariates"], nullable=True),
            Option(
                "denominator",
                "column",
                also=("any",),
                nullable=True,
                label={"ja": "分母の対象（0/1 列）", "en": "denominator subset (0/1 column)"},
            ),
            _C["level"],
            Option("ci", "choice", choices=CI_CHOICES, label={"ja": "信頼区間", "en": "interval"}),
            _C["n_boot"],
            Option(
                "k_folds",
                "int",
                low=2,
                high=100,
                label={"ja": "交差推定の分割数", "en": "cross-fitting folds"},
            ),
            _C["seed"],
            _C["n_jobs"],
            _C["progress"],
            _C["label"],
        ),
        title={
            "en": "Propensity-score matching with regression prediction (Kobe method)",
            "ja": "傾向スコア・マッチングと回帰予測（神戸市方式）",
        },
        description={
            "en": "On the matched controls, the change of the outcome is regressed on baseline "
            "values; each participant's change is predicted from theirs, and the indicator is "
            "the share of participants whose actual decline is smaller than predicted, with a "
            "bootstrap interval and a no-effect reference rate.",
            "ja": "マッチングした対照でアウトカムの変化をベースライン値に回帰し、参加者ごとに"
            "変化を予測します。実際の低下が予測より小さい参加者の割合を指標とし、"
            "ブートストラップによる信頼区間と効果なしの参照値を示します。",
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
        diagnostics=KOBE_DIAGNOSTICS,
        figures=("love_plot", "overlap", "suppression_plot"),
        related=("reference_rate", "difference"),
    )
)

# The effects after matching by g-computation and the weighting estimators (issue 13).
from pfseval.designs.psm import effect_specs as effect_specs  # noqa: E402
