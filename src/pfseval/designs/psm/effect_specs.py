"""What the effects after matching (g-computation) and the weighting estimators declare.

``psm.marginal_effect`` (:func:`pfseval.designs.psm.gcomp.marginal_effect`, on a matched
sample), ``psm.ipw`` and ``psm.aipw`` (:mod:`pfseval.designs.psm.weighting`, on the data):
their options, titles, descriptions and assumptions in Japanese and English, their
diagnostics and the catalogue entries of their method descriptions. Imported by
:mod:`pfseval.designs.psm.specs`; it imports nothing from the design modules.

Examples
--------
>>> from pfseval.designs.contract import get
>>> get("psm.marginal_effect").matching, get("psm.aipw").input
('psm.match', 'data')
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
from pfseval.designs.shared_diagnostics import GROUP_SIZES, OUTCOME, REGRESSION
from pfseval.messages import declare_messages

__all__: list[str] = []

_C = COMMON_OPTIONS

# ---------------------------------------------------------------- messages

# g-computation: the method in every variant (outcome model, with or without covariates,
# participants or non-participants averaged over, one- or two-way clustering, bootstrap or
# not, natural or log scale), composed once here from the same clauses.
_GC_MODEL = {
    "_ls": {"en": "weighted least-squares", "ja": "重み付き最小二乗法"},
    "_logit": {"en": "weighted logistic", "ja": "重み付きロジスティック回帰"},
}
_GC_COVS = {
    "": {
        "en": " outcome model with treatment × ({covariates!v}) on the matched sample",
        "ja": "によるアウトカムモデル（説明変数は処置、{covariates!v}とその交互作用）を"
        "マッチング後のサンプルで推定し、",
    },
    "_nocov": {
        "en": " outcome model with treatment only on the matched sample",
        "ja": "によるアウトカムモデル（説明変数は処置のみ）をマッチング後のサンプルで推定し、",
    },
}
_GC_WHO = {
    "_att": {
        "en": ", predictions averaged over {n_focal} participants (ATT)",
        "ja": "予測値を参加者{n_focal}人について平均（ATT）",
    },
    "_atc": {
        "en": ", predictions averaged over {n_focal} matched non-participants (ATC)",
        "ja": "予測値をマッチングされた非参加者{n_focal}人について平均（ATC）",
    },
}
_GC_VCOV = {
    "": {
        "en": "; delta-method standard error clustered on matched sets ({n_sets} sets)",
        "ja": "；標準誤差はデルタ法（マッチングの組 {n_sets} 組を単位とするクラスター頑健分散）",
    },
    "_cluster2": {
        "en": "; delta-method standard error clustered two-way on matched set and person "
        "({n_sets} sets)",
        "ja": "；標準誤差はデルタ法（マッチングの組 {n_sets} 組と個人の二方向クラスター頑健分散）",
    },
}
_GC_SCALE = {
    "": {"en": "; normal interval", "ja": "；正規近似による信頼区間"},
    "_log": {
        "en": "; normal interval on the log scale",
        "ja": "；対数尺度での正規近似による信頼区間",
    },
}
_GC_BOOT = {
    "": {"en": "", "ja": ""},
    "_bootstrap": {
        "en": "; cluster bootstrap over {n_sets} matched sets ({n_boot} resamples, outcome "
        "model refitted; BCa and percentile intervals in intervals)",
        "ja": "；マッチングの組 {n_sets} 組を単位とするブートストラップ（{n_boot} 回、毎回"
        "アウトカムモデルを推定し直す。BCa 区間とパーセンタイル区間）",
    },
}
declare_messages(
    {
        f"psm.marginal_effect.method{m}{c}{w}{v}{s}{b}": {
            "en": "g-computation: "
            + _GC_MODEL[m]["en"]
            + _GC_COVS[c]["en"]
            + _GC_WHO[w]["en"]
            + _GC_VCOV[v]["en"]
            + _GC_SCALE[s]["en"]
            + _GC_BOOT[b]["en"],
            "ja": "予測値の平均による効果の推定："
            + _GC_MODEL[m]["ja"]
            + _GC_COVS[c]["ja"]
            + _GC_WHO[w]["ja"]
            + _GC_VCOV[v]["ja"]
            + _GC_SCALE[s]["ja"]
            + _GC_BOOT[b]["ja"],
        }
        for m in _GC_MODEL
        for c in _GC_COVS
        for w in _GC_WHO
        for v in _GC_VCOV
        for s in _GC_SCALE
        for b in _GC_BOOT
    }
)

_OUTCOME_MODEL = {
    "_ls": {"en": "least-squares", "ja": "最小二乗法"},
    "_logit": {"en": "logistic", "ja": "ロジスティック回帰"},
}
declare_messages(
    {
        "psm.ipw.method": {
            "en": "inverse probability weighting (ATT odds weights from a logistic propensity "
            "score on {covariates!v}); M-estimation sandwich standard error including the "
            "propensity-score fit; normal interval",
            "ja": "逆確率重み付け（{covariates!v}によるロジスティック回帰の傾向スコアから求めた"
            " ATT のオッズ重み）；標準誤差は傾向スコアの推定を含む推定方程式のサンドイッチ分散；"
            "正規近似による信頼区間",
        },
        **{
            f"psm.aipw.method{m}": {
                "en": "augmented IPW (doubly robust ATT): logistic propensity score and "
                + _OUTCOME_MODEL[m]["en"]
                + " outcome model on the non-participants, both on {covariates!v}; "
                "M-estimation sandwich standard error including both model fits; normal "
                "interval",
                "ja": "拡張逆確率重み付け（AIPW、二重に頑健な ATT）：ロジスティック回帰の傾向"
                "スコアと、非参加者で推定した"
                + _OUTCOME_MODEL[m]["ja"]
                + "のアウトカムモデル（いずれも{covariates!v}による）；標準誤差は両モデルの推定"
                "を含む推定方程式のサンドイッチ分散；正規近似による信頼区間",
            }
            for m in _OUTCOME_MODEL
        },
    }
)

# ---------------------------------------------------------------- diagnostics

_MU = declare_diagnostics(
    Diagnostic(
        "mu_treated",
        "statistic",
        {"ja": "介入ありとした平均アウトカム", "en": "mean outcome with treatment"},
    ),
    Diagnostic(
        "mu_control",
        "statistic",
        {"ja": "介入なしとした平均アウトカム", "en": "mean outcome without treatment"},
    ),
)
GCOMP_DIAGNOSTICS = (
    *_MU,
    *OUTCOME,
    *REGRESSION,
    # declared with the ATT and the Kobe indicator in pfseval.designs.psm.specs (same meaning)
    "vcov",
    "covariates",
    "n_control_rows",
    *declare_diagnostics(
        Diagnostic(
            "estimand_population",
            "setting",
            {"ja": "平均をとる対象（ATT または ATC）", "en": "population averaged over"},
        ),
        Diagnostic(
            "n_focal", "people", {"ja": "予測値を平均した人数", "en": "people averaged over"}
        ),
        Diagnostic(
            "n_treated_rows",
            "people",
            {"ja": "アウトカムモデルの参加者の行数", "en": "participant rows in the model"},
        ),
        Diagnostic(
            "se_scale", "setting", {"ja": "標準誤差の尺度", "en": "scale of the standard error"}
        ),
    ),
)
WEIGHTING_DIAGNOSTICS = (
    *_MU,
    *GROUP_SIZES,
    *declare_diagnostics(
        Diagnostic(
            "control_effective_sample_size",
            "statistic",
            {"ja": "対照の有効サンプルサイズ", "en": "effective sample size, controls"},
            derived_from=("n_control",),
            relation="(sum of control weights)^2 / sum of squared control weights, at most "
            "n_control",
        ),
        Diagnostic(
            "max_control_weight",
            "statistic",
            {"ja": "対照の重みの最大値", "en": "largest control weight"},
        ),
        Diagnostic("outcome_model", "setting", {"ja": "アウトカムモデル", "en": "outcome model"}),
    ),
)

# ---------------------------------------------------------------- designs

_ASSUME = {
    "en": "No unmeasured confounding: given the covariates, taking part is unrelated to the "
    "outcome one would have without the programme; every participant has comparable "
    "non-participants (overlap).",
    "ja": "未測定の交絡がないこと：共変量が同じなら、参加するかどうかは参加しなかった場合の"
    "アウトカムと関係しないこと。また、どの参加者にも比較できる非参加者がいること"
    "（共通範囲）。",
}
_EFFECT = Option(
    "effect",
    "choice",
    choices=("difference", "RD", "RR", "OR"),
    nullable=True,
    label={"ja": "効果の尺度", "en": "effect scale"},
)
_WEIGHTING_OPTIONS = (
    replace(_C["treatment"], required=True),
    replace(_C["outcome"], required=True),
    replace(_C["covariates"], required=True),
    _C["id_col"],
    _C["level"],
    _C["label"],
)

register(
    DesignSpec(
        name="psm.marginal_effect",
        function="pfseval.designs.psm.gcomp:marginal_effect",
        input="matched",
        matching="psm.match",
        options=(
            replace(_C["outcome"], required=True),
            replace(_C["covariates"], nullable=True),
            _EFFECT,
            _C["level"],
            replace(_C["n_boot"], nullable=True),
            _C["seed"],
            _C["n_jobs"],
            _C["progress"],
            _C["label"],
        ),
        title={
            "ja": "マッチング後の周辺効果（予測値の平均による推定）",
            "en": "Marginal effect after matching (g-computation)",
        },
        description={
            "en": "An outcome model with the treatment, the covariates and their interactions "
            "is fitted on the matched sample with the matching weights; every participant's "
            "outcome is predicted with and without the programme and the predictions are "
            "averaged. The effect is their difference (or, for a 0/1 outcome, the risk "
            "difference, risk ratio or odds ratio), with a standard error clustered on "
            "matched sets.",
            "ja": "処置、共変量とその交互作用を含むアウトカムモデルを、マッチングの重みを用いて"
            "マッチング後のサンプルで推定し、参加者ごとに参加した場合と参加しなかった場合の"
            "アウトカムを予測して平均します。効果はその差（0/1 のアウトカムではリスク差、"
            "リスク比またはオッズ比）で、標準誤差はマッチングの組を単位として求めます。",
        },
        assumptions=_ASSUME,
        diagnostics=GCOMP_DIAGNOSTICS,
    )
)

register(
    DesignSpec(
        name="psm.ipw",
        function="pfseval.designs.psm.weighting:ipw",
        input="data",
        options=_WEIGHTING_OPTIONS,
        title={
            "ja": "逆確率重み付けによる効果（ATT）",
            "en": "Effect by inverse probability weighting (ATT)",
        },
        description={
            "en": "A logistic propensity score is fitted on the covariates; non-participants "
            "are weighted by the odds of taking part, so that they resemble the participants. "
            "The effect is the participants' mean minus the weighted mean of the "
            "non-participants, with a standard error that includes the propensity-score fit.",
            "ja": "共変量からロジスティック回帰で傾向スコアを推定し、非参加者を参加のオッズで"
            "重み付けして参加者に似せます。効果は参加者の平均と非参加者の重み付き平均の差で、"
            "標準誤差には傾向スコアの推定による誤差も含めます。",
        },
        assumptions=_ASSUME,
        diagnostics=tuple(d for d in WEIGHTING_DIAGNOSTICS if d != "outcome_model"),
    )
)

register(
    DesignSpec(
        name="psm.aipw",
        function="pfseval.designs.psm.weighting:aipw",
        input="data",
        options=_WEIGHTING_OPTIONS,
        title={
            "ja": "拡張逆確率重み付けによる効果（二重に頑健な ATT）",
            "en": "Effect by augmented inverse probability weighting (doubly robust ATT)",
        },
        description={
            "en": "Inverse probability weighting combined with an outcome model fitted on the "
            "non-participants (least squares, or logistic for a 0/1 outcome). The estimate is "
            "consistent when either the propensity score or the outcome model is right; the "
            "standard error includes both model fits.",
            "ja": "逆確率重み付けに、非参加者で推定したアウトカムモデル（最小二乗法、0/1 の"
            "アウトカムではロジスティック回帰）を組み合わせます。傾向スコアとアウトカム"
            "モデルのどちらかが正しければ推定は一致性を持ちます。標準誤差には両モデルの推定に"
            "よる誤差も含めます。",
        },
        assumptions=_ASSUME,
        diagnostics=(*GROUP_SIZES, "outcome_model"),
    )
)
