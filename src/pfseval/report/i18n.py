"""Fixed words of the appendix in Japanese and English."""

from __future__ import annotations

__all__ = ["STRINGS", "t"]

STRINGS: dict[str, dict[str, str]] = {
    "appendix": {"ja": "評価結果 別添資料", "en": "Evaluation appendix"},
    "period": {"ja": "評価期間", "en": "Evaluation period"},
    "evaluator": {"ja": "評価機関", "en": "Evaluator"},
    "generated": {"ja": "作成日時（UTC）", "en": "Generated (UTC)"},
    "summary": {"ja": "1. 事業と契約の概要", "en": "1. Programme and contract"},
    "programme": {"ja": "事業", "en": "Programme"},
    "glance": {"ja": "成果指標の一覧", "en": "Indicators at a glance"},
    "indicators": {"ja": "2. 成果指標ごとの評価", "en": "2. Indicators"},
    "payment": {"ja": "3. 支払額の計算", "en": "3. Payment calculation"},
    "repro": {"ja": "4. 再現性に関する情報", "en": "4. Reproducibility"},
    "disclosure": {"ja": "5. 公表上の取扱い", "en": "5. Disclosure control"},
    "indicator": {"ja": "指標", "en": "Indicator"},
    "design": {"ja": "評価デザイン", "en": "Design"},
    "assumptions": {"ja": "デザインと前提", "en": "Design and assumptions"},
    "method": {"ja": "推定方法", "en": "Method"},
    "flow": {"ja": "対象者の流れ", "en": "Sample flow"},
    "cohort_flow": {"ja": "対象者の抽出", "en": "Cohort selection"},
    "design_flow": {"ja": "分析対象の確定", "en": "Analysis sample"},
    "estimate": {"ja": "推定結果", "en": "Estimate"},
    "diagnostics": {"ja": "診断", "en": "Diagnostics"},
    "balance": {"ja": "共変量バランス", "en": "Covariate balance"},
    "love": {
        "ja": "Love プロット（標準化平均差）",
        "en": "Love plot (standardised mean differences)",
    },
    "overlap": {
        "ja": "傾向スコアの分布（密度曲線）",
        "en": "Propensity-score distributions (density)",
    },
    "trend": {"ja": "年度推移", "en": "Yearly trend"},
    "warnings": {"ja": "注意事項", "en": "Warnings"},
    "no_warnings": {"ja": "注意事項はありません。", "en": "No warnings."},
    "value": {"ja": "推定値", "en": "Value"},
    "ci": {"ja": "信頼区間", "en": "Confidence interval"},
    "level": {"ja": "信頼水準", "en": "Level"},
    "n": {"ja": "分析対象数", "en": "n analysed"},
    "std_error": {"ja": "標準誤差", "en": "Standard error"},
    "p_value": {"ja": "p 値", "en": "p-value"},
    "target": {"ja": "目標値", "en": "Target"},
    "reference": {"ja": "効果なしの参照値", "en": "No-effect reference"},
    "item": {"ja": "項目", "en": "Item"},
    "group": {"ja": "群", "en": "Group"},
    "step": {"ja": "段階", "en": "Step"},
    "excluded": {"ja": "除外数", "en": "Excluded"},
    "remaining": {"ja": "残数", "en": "Remaining"},
    "input": {"ja": "入力レコード", "en": "input records"},
    "excluded_word": {"ja": "除外", "en": "excluded"},
    "analysed": {"ja": "分析対象", "en": "analysed"},
    "variable": {"ja": "変数", "en": "Variable"},
    "smd_before": {"ja": "SMD（前）", "en": "SMD before"},
    "smd_after": {"ja": "SMD（後）", "en": "SMD after"},
    "vr_before": {"ja": "分散比（前）", "en": "Variance ratio before"},
    "vr_after": {"ja": "分散比（後）", "en": "Variance ratio after"},
    "estimates_fig": {"ja": "成果指標の推定値と信頼区間", "en": "Indicator estimates and CIs"},
    "breakdown": {"ja": "支払額の内訳", "en": "Payment breakdown"},
    "component": {"ja": "支払項目", "en": "Component"},
    "basis": {"ja": "評価に用いる値", "en": "Value used"},
    "schedule": {"ja": "支払条件", "en": "Schedule"},
    "amount": {"ja": "支払額", "en": "Amount"},
    "audit": {"ja": "計算過程（監査用）", "en": "Audit trail"},
    "bounds": {"ja": "信頼区間の上下限で評価した場合の支払額", "en": "Payment at the CI bounds"},
    "bounds_note": {
        "ja": "指標の不確実性が支払額に与える影響を示すため、全指標を信頼区間の下限・上限で"
        "評価した支払額を併記します（契約上の支払額は点推定値等、契約で定めた値によります）。",
        "en": "To show how the indicators' uncertainty carries into the payment, the payment "
        "with every indicator at its lower and at its upper CI limit is shown (the contractual "
        "payment uses the value each component names).",
    },
    "point": {"ja": "契約上の評価値", "en": "contractual basis"},
    "conf_low": {"ja": "信頼区間下限", "en": "lower CI limit"},
    "conf_high": {"ja": "信頼区間上限", "en": "upper CI limit"},
    "total": {"ja": "支払総額", "en": "Total paid"},
    "cap": {"ja": "支払上限額", "en": "Payment cap"},
    "payment_fig": {
        "ja": "支払額（点推定値と信頼区間上下限）",
        "en": "Payment at the estimate and CI bounds",
    },
    "no_contract": {
        "ja": "この評価には支払契約が指定されていません。",
        "en": "This evaluation has no payment contract.",
    },
    "package": {"ja": "パッケージ", "en": "Package"},
    "version": {"ja": "バージョン", "en": "Version"},
    "file": {"ja": "ファイル", "en": "File"},
    "rows": {"ja": "行数", "en": "Rows"},
    "seed": {"ja": "乱数シード", "en": "Random seed"},
    "spec_hash": {"ja": "評価仕様ファイルの SHA-256", "en": "SHA-256 of the spec"},
    "started": {"ja": "開始時刻（UTC）", "en": "Started (UTC)"},
    "finished": {"ja": "終了時刻（UTC）", "en": "Finished (UTC)"},
    "repro_text": {
        "ja": "同じ評価仕様・データ・乱数シードで `pfseval run` を実行すると、時刻を除き同一の"
        "results.json が得られます。入力ファイルは下表の SHA-256 で同一性を確認できます。",
        "en": "Running `pfseval run` with the same spec, data and seed gives an identical "
        "results.json apart from the timestamps. The input files can be checked against the "
        "SHA-256 values below.",
    },
    "inputs": {"ja": "入力ファイル", "en": "Input files"},
    "versions": {"ja": "ソフトウェアのバージョン", "en": "Software versions"},
    "disclosure_text": {
        "ja": "個人を特定できないよう、個人単位の値や ID は掲載していません。1〜{m_1} 人の集計値は"
        "「<{m}」と表示し、合計や差から逆算できないよう関連する集計値も「*」で秘匿しています"
        "（0 は表示します）。分布図は度数ではなく密度曲線で示し、{m} 人未満の群の曲線は"
        "表示しません。",
        "en": "No person ids or individual values are published. Counts from 1 to {m_1} are "
        "shown as <{m}; counts that would let them be recomputed from totals or differences "
        "are hidden as * (zero is shown). Distributions are shown as density curves, not "
        "histograms, and no curve is drawn for a group of fewer than {m} people.",
    },
    "related": {"ja": "関連する推定値", "en": "Related estimates"},
    "name": {"ja": "名称", "en": "Name"},
    "diag_counts": {"ja": "件数など", "en": "Counts and settings"},
    "step_reached": {"ja": "該当段階", "en": "Step reached"},
    "fig": {"ja": "図", "en": "Figure"},
    "table": {"ja": "表", "en": "Table"},
}


def t(key: str, lang: str) -> str:
    """The word ``key`` in ``lang`` (``"ja"`` or ``"en"``).

    Examples
    --------
    >>> t("estimate", "ja"), t("estimate", "en")
    ('推定結果', 'Estimate')
    """
    return STRINGS[key][lang]
