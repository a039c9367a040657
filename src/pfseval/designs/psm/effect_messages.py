"""Message catalogue entries of the effects after matching and the weighting cross-check.

Declared at import (see :mod:`pfseval.messages`); :mod:`pfseval.designs.psm.gcomp` and
:mod:`pfseval.designs.psm.weighting` import this module before they build a notice.
"""

from __future__ import annotations

from pfseval.messages import declare_messages

__all__: list[str] = []

declare_messages(
    {
        "psm.gcomp_missing_outcome": {
            "en": "{n_treated_missing} matched participants and {n_control_missing} matched "
            "controls have no {outcome!v} (or covariate) and are left out of the g-computation; "
            "the remaining matched sets may no longer be balanced",
            "ja": "マッチングされた参加者{n_treated_missing}人と対照{n_control_missing}人は"
            "{outcome!v}（または共変量）がないため予測値による効果の推定から外しました。残りの"
            "マッチングではバランスが崩れている可能性があります。",
        },
        "psm.gcomp_separation": {
            "en": "the logistic outcome model predicts a probability of exactly 0 or 1 for some "
            "people (quasi-separation: a covariate level where everyone, or no one, has the "
            "outcome); the predictions are stable but the ratio scales rest on few people",
            "ja": "ロジスティックのアウトカムモデルが一部の人について確率0または1を予測しています"
            "（準分離：ある共変量の値で全員または誰もアウトカムを持たない）。予測値は安定して"
            "いますが、比の尺度は少数の人に依存しています。",
        },
        "psm.flow.gcomp_no_outcome": {
            "en": "matched but no {outcome!v} (or outcome-model covariates)",
            "ja": "マッチング済みだが{outcome!v}（またはアウトカムモデルの共変量）が欠測",
        },
        "psm.flow.weighting_unusable": {
            "en": "no outcome, covariate or 0/1 treatment",
            "ja": "アウトカム、共変量または0/1の処置が欠測",
        },
        "psm.weighting_disagreement": {
            "en": "the weighting cross-check (AIPW {aipw:.4g}) lies outside the matched "
            "estimate's {level:.0%} confidence interval ({low:.4g} to {high:.4g}); the matched "
            "result depends on the matching choices or on the model. Fix: review balance, the "
            "caliper and the covariates",
            "ja": "重み付け法による確認（AIPW {aipw:.4g}）が、マッチングによる推定値の"
            "{level:.0%}信頼区間（{low:.4g}～{high:.4g}）の外にあります。マッチング結果は"
            "マッチングの設定やモデルに依存しています。バランス、キャリパー、共変量を見直して"
            "ください。",
        },
    }
)
