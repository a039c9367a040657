"""Fixed words of the appendix in Japanese and English."""

from __future__ import annotations

import re
from collections.abc import Callable

from pfseval.report.disclosure_policy import STRINGS as SDC_STRINGS

__all__ = [
    "GROUPS",
    "INTERVALS",
    "RELATED",
    "STRINGS",
    "group_label",
    "interval_label",
    "option_value",
    "related_label",
    "schedule_label",
    "step_text",
    "t",
    "unit_text",
    "value_text",
]

STRINGS: dict[str, dict[str, str]] = {
    "appendix": {"ja": "評価結果 別添資料", "en": "Evaluation appendix"},
    "period": {"ja": "評価期間", "en": "Evaluation period"},
    "evaluator": {"ja": "評価機関", "en": "Evaluator"},
    "generated": {"ja": "作成日時（日本時間）", "en": "Generated (Japan time)"},
    "summary": {"ja": "1. 事業と契約の概要", "en": "1. Programme and contract"},
    "programme": {"ja": "事業", "en": "Programme"},
    "glance": {"ja": "成果指標の一覧", "en": "Indicators at a glance"},
    "indicators": {"ja": "3. 成果指標ごとの評価", "en": "3. Indicators"},
    "payment": {"ja": "4. 支払額の計算", "en": "4. Payment calculation"},
    "repro": {"ja": "6. 再現性に関する情報", "en": "6. Reproducibility"},
    "disclosure": {"ja": "7. 公表上の取扱い", "en": "7. Disclosure control"},
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
    "trend_axis": {"ja": "率（%）", "en": "rate (%)"},
    "warnings": {"ja": "注意事項", "en": "Warnings"},
    "no_warnings": {"ja": "注意事項はありません。", "en": "No warnings."},
    "value": {"ja": "推定値", "en": "Value"},
    "ci": {"ja": "信頼区間", "en": "Confidence interval"},
    "ci_level": {"ja": "信頼水準", "en": "Confidence level"},
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
    "distance": {"ja": "傾向スコア（距離）", "en": "propensity score (distance)"},
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
    "started": {"ja": "開始時刻（日本時間）", "en": "Started (Japan time)"},
    "finished": {"ja": "終了時刻（日本時間）", "en": "Finished (Japan time)"},
    "repro_text": {
        "ja": "同じ評価仕様・データ・乱数シードで `pfseval run` を実行すると、時刻を除き同一の"
        "results.json が得られます。入力ファイルは下表の SHA-256 で同一性を確認できます。",
        "en": "Running `pfseval run` with the same spec, data and seed gives an identical "
        "results.json apart from the timestamps. The input files can be checked against the "
        "SHA-256 values below.",
    },
    "repro_table": {"ja": "評価仕様・乱数シード・実行時刻", "en": "Spec, seed and run times"},
    "lock_file": {"ja": "設計の固定の記録ファイル", "en": "Design lock file"},
    "content": {"ja": "内容", "en": "Details"},
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
    # the flow section (report/flow_diagram.py)
    "flow_section": {"ja": "2. 対象者の流れ", "en": "2. Who was analysed"},
    "flow_section_text": {
        "ja": "データから評価の対象者を絞り込んだ過程を、データごとに図と表で示します。各指標の"
        "節では、この対象者からさらに分析対象を確定した過程を示します。",
        "en": "How the people evaluated were selected from each data source, as a diagram and "
        "tables. Each indicator's section then shows how its analysis sample was set from them.",
    },
    "flow_fig": {"ja": "対象者の流れ", "en": "Participant flow"},
    "see_flow": {
        "ja": "対象者：{cohort}（抽出の過程は「2. 対象者の流れ」の{source}の図と表に示します）。",
        "en": "People evaluated: {cohort} (selected from {source} as shown in section 2, "
        "Who was analysed).",
    },
    "count_people": {"ja": "{n}人", "en": "n = {n}"},
    "glossary_section": {"ja": "8. 用語集", "en": "8. Glossary"},
    "glossary": {"ja": "統計用語の説明", "en": "Statistical terms"},
    "term": {"ja": "用語", "en": "Term"},
    "explanation": {"ja": "説明", "en": "Explanation"},
    "excluded_box": {"ja": "除外", "en": "Excluded"},
    "count_rows": {"ja": "{n}行", "en": "{n} rows"},
    # the contract's schedules (report/schedule_figures.py)
    "schedule_table": {"ja": "支払条件", "en": "Payment schedule"},
    "schedule_fig": {"ja": "支払額の曲線", "en": "Payment curve"},
    "schedules_text": {
        "ja": "契約の各支払項目について、指標値と支払額の関係を表と図で示します。図の赤い点は"
        "推定値とその支払額、水色の帯は信頼区間、白抜きの点は信頼区間の両端での支払額です。",
        "en": "For each payment component of the contract: what it pays for which indicator "
        "values, as a table and as a curve. In the figure, the red point is the estimate and "
        "its payment, the light-blue band the confidence interval and the open points the "
        "payment at its limits.",
    },
    "fig": {"ja": "図", "en": "Figure"},
    "run_warnings": {"ja": "5. 実行時の注意事項", "en": "5. Warnings raised during the run"},
    "run_warnings_text": {
        "ja": "評価の実行中に出されたすべての注意事項です（データの読込み、対象者の絞込み、"
        "マッチング、推定、支払額の計算）。少人数の件数と個人の値（範囲など）は伏せています。",
        "en": "Every warning raised while the evaluation ran (data loading, cohorts, matching, "
        "estimation, payment), with small counts of people and individual values (such as "
        "ranges) hidden.",
    },
    "match_spec": {"ja": "マッチングの設定", "en": "Matching specification"},
    "match_ratio": {"ja": "比率（対照：参加者）", "en": "Ratio (controls : participant)"},
    "match_caliper": {"ja": "キャリパー", "en": "Caliper"},
    "match_caliper_value": {
        "ja": "{c} × 距離の標準偏差（距離 = {scale}）",
        "en": "{c} × standard deviation of the distance (distance = {scale})",
    },
    "match_link": {"ja": "傾向スコアのモデルと距離", "en": "Propensity model and distance"},
    "match_replace": {"ja": "復元（対照の重複使用）", "en": "With replacement"},
    "match_order": {"ja": "マッチングの順序", "en": "Matching order"},
    "match_exact": {"ja": "完全一致させる変数", "en": "Exact matching on"},
    "match_covariates": {"ja": "傾向スコアの共変量", "en": "Propensity-score covariates"},
    "match_discard": {"ja": "共通サポート外の除外", "en": "Common-support discarding"},
    "match_missing": {"ja": "共変量の欠測", "en": "Missing covariates"},
    "none_word": {"ja": "なし", "en": "none"},
    "setting": {"ja": "設定", "en": "Setting"},
    "design_settings": {"ja": "評価デザインの設定", "en": "Design settings"},
    "scale_ps": {"ja": "傾向スコア", "en": "propensity score"},
    "scale_logit": {
        "ja": "傾向スコアのロジット（線形予測子）",
        "en": "logit of the propensity score (linear predictor)",
    },
    "scale_probit": {
        "ja": "傾向スコアのプロビット（線形予測子）",
        "en": "probit linear predictor of the propensity score",
    },
    "audit_published": {
        "ja": "指標値は推定値の表と同じ桁数までしか表示していません。",
        "en": "Indicator values are shown to no more digits than the estimate tables use.",
    },
    "linkage": {"ja": "データの結合", "en": "Data linkage"},
    "linkage_text": {
        "ja": "複数のファイルを結合したデータソースについて、各ファイルのレコードがどう使われた"
        "かを示します。",
        "en": "For data sources put together from several files: how the records of each "
        "file were used.",
    },
    "linkage_baseline": {
        "ja": "ベースライン年度のレコードは、追跡年度のレコードがなくてもすべてデータに残り、"
        "対象者の抽出はその全件から始まります（追跡値が必要な指標は、各デザインの流れで"
        "追跡値のない人を除きます）。",
        "en": "Every baseline record stays in the data, linked or not, and the cohort "
        "selection starts from all of them (indicators that need the follow-up value leave "
        "out the people without one in their own flow).",
    },
    "linked": {"ja": "結合されたレコード", "en": "linked records"},
    "baseline_records": {"ja": "ベースライン年度のレコード", "en": "baseline records"},
    "file_records": {"ja": "{file}のレコード", "en": "{file} records"},
    "unit_years": {"ja": "{n} 年度分", "en": "{n} years"},
    # per-group results (an indicator with `by`)
    "by_section": {"ja": "{by}別の結果", "en": "Results by {by}"},
    "by_table": {"ja": "{by}別の推定値", "en": "Estimates by {by}"},
    "by_fig": {
        "ja": "{by}別の推定値と信頼区間",
        "en": "Estimates by {by} with confidence intervals",
    },
    "by_text": {
        "ja": "同じ評価を{by}ごとに行った結果です（{groups}区分）。上の推定値は全員をまとめて"
        "計算したもので、区分ごとの値の平均ではありません。{m}人未満の区分は評価しておらず、"
        "人数を「<{m}」とだけ示します。",
        "en": "The same evaluation run for each {by} ({groups} groups). The estimate above is "
        "computed on everyone together, not averaged over the groups. Groups of fewer than {m} "
        "people are not evaluated; their size is shown only as <{m}.",
    },
    "by_text_series": {
        "ja": "同じ評価を{by}ごとの年度別集計に対して行った結果です（{groups}区分、一度の計算で"
        "すべての区分を推定）。上の推定値は全区分を合計した年度別の系列によるものです。評価年度の"
        "人数が{m}人未満の区分は評価しておらず、人数を「<{m}」とだけ示します。",
        "en": "The same evaluation run on each {by}'s yearly series ({groups} groups, all "
        "fitted at once). The estimate above is that of the yearly totals over all groups. "
        "Groups with fewer than {m} people in the evaluation year are not evaluated; their "
        "size is shown only as <{m}.",
    },
    "by_note": {
        "ja": "「–」は{m}人未満のため評価していない区分、「*」は人数を逆算させないために"
        "公表を控えた値です。",
        "en": "– marks a group not evaluated (fewer than {m} people); * a value withheld so "
        "that no small count can be recomputed.",
    },
    "by_no_value": {"ja": "（{by}の値なし）", "en": "(no {by})"},
    "by_n_eligible": {"ja": "評価年度の対象者数", "en": "Eligible in the evaluation year"},
    "by_n_count": {"ja": "評価年度の件数", "en": "Count in the evaluation year"},
    "unit_rows": {"ja": "{n} 行", "en": "{n} rows"},
    "not_people_note": {
        "ja": "この表の件数は人数ではなく集計データの行数（年度、市区町村×年度など）のため、"
        "最小セルの規則の対象外です。",
        "en": "The counts of this table are rows of aggregated data (years, "
        "municipality-years), not people, so the minimum-cell rule does not apply to them.",
    },
    "yes": {"ja": "はい", "en": "yes"},
    "no": {"ja": "いいえ", "en": "no"},
    "table": {"ja": "表", "en": "Table"},
    "sheet": {"ja": "シート", "en": "Sheet"},
    "xlsx_about": {
        "ja": (
            "このブックは別添資料の表を1表1シートで収めたものです（表番号は別添資料と同じ）。"
            "数値は数値として保存し、表示形式（%、桁区切り、小数桁）は別添資料の表示に"
            "合わせています。信頼区間などの範囲、「*」「<10」などの秘匿表示、"
            "比は文字列です。文字列は数式として評価されません。"
        ),
        "en": (
            "This workbook holds each table of the appendix on its own sheet (table numbers as "
            "in the appendix). Numbers are stored as numbers, formatted as the appendix shows "
            "them (%, thousands separators, decimals); intervals, suppressed cells ('*', '<10') "
            "and ratios are text. No text cell is evaluated as a formula."
        ),
    },
    # the design stage (report/design_sections.py)
    "stage_lock": {
        "ja": "設計の固定（アウトカムを見る前の評価計画）",
        "en": "Design lock (the evaluation plan fixed before outcomes)",
    },
    "stage_locked": {
        "ja": "対象集団とマッチングの設計は、アウトカム列を読まない設計段階で{at}に"
        "固定されました（記録ファイルは「再現性に関する情報」に示します）。",
        "en": "The cohorts and the matching design were fixed by the outcome-blind design "
        "stage, which reads no outcome column, at {at} (the record's file is named under "
        "Reproducibility).",
    },
    "stage_reproduced": {
        "ja": "本評価の設計と再計算したマッチング集合は、固定した記録と完全に一致しました。",
        "en": "This evaluation's design and its recomputed matched sets reproduce the lock "
        "exactly.",
    },
    "stage_deviated": {
        "ja": "固定した記録と{n}項目が異なります（次節）。",
        "en": "{n} item(s) differ from the lock (next section).",
    },
    "stage_deviations": {"ja": "評価計画からの逸脱", "en": "Deviations from the evaluation plan"},
    "stage_key": {"ja": "項目（キー）", "en": "Item (key)"},
    "stage_at_lock": {"ja": "固定時", "en": "At the lock"},
    "stage_now": {"ja": "本評価", "en": "This evaluation"},
    "stage_appendix": {"ja": "設計段階の記録", "en": "Design-stage record"},
    "stage_blind": {
        "ja": "この記録はアウトカム列を読まずに作成されました（日本時間 {at}）。"
        "設計の要約ハッシュ：{sha}",
        "en": "This record was made without reading any outcome column (Japan time {at}). "
        "Design hash: {sha}",
    },
    "stage_flow": {"ja": "対象集団の流れ", "en": "Cohort flow"},
    "stage_balance": {"ja": "共変量バランス", "en": "Covariate balance"},
    "stage_matched": {"ja": "マッチング集合", "en": "Matched sets"},
    "stage_love": {"ja": "ラブプロット", "en": "Love plot"},
    "stage_overlap": {"ja": "傾向スコアの重なり", "en": "Propensity-score overlap"},
}


STRINGS.update(SDC_STRINGS)  # the disclosure paragraph's words live with the policy


def t(key: str, lang: str) -> str:
    """The word ``key`` in ``lang`` (``"ja"`` or ``"en"``).

    Examples
    --------
    >>> t("estimate", "ja"), t("estimate", "en")
    ('推定結果', 'Estimate')
    """
    return STRINGS[key][lang]


#: Diagnostics keys of the designs (``Estimate.diagnostics``) in plain words.
INTERVALS: dict[str, dict[str, str]] = {
    "wilson": {"ja": "Wilson スコア法", "en": "Wilson score"},
    "clopper_pearson": {"ja": "Clopper–Pearson 法（正確法）", "en": "Clopper–Pearson (exact)"},
    "bootstrap": {"ja": "ブートストラップ", "en": "bootstrap"},
    "bootstrap_percentile": {
        "ja": "ブートストラップ・パーセンタイル法",
        "en": "bootstrap percentile",
    },
    "bootstrap_basic": {"ja": "ブートストラップ・ベーシック法", "en": "bootstrap basic"},
    "bootstrap_normal": {
        "ja": "ブートストラップ標準誤差による正規近似",
        "en": "normal, bootstrap standard error",
    },
    "conditional": {"ja": "条件付き（ベースライン固定）", "en": "conditional"},
}

#: Names of related estimates (``Estimate.related`` keys).
RELATED: dict[str, dict[str, str]] = {
    "reference_rate": {"ja": "効果なしの参照値", "en": "No-effect reference rate"},
    "difference": {"ja": "参照値との差", "en": "Difference from the reference"},
    "expected": {"ja": "見込み値（事業がなかった場合）", "en": "Expected (without the programme)"},
    "additional_count": {"ja": "増加数", "en": "Additional count"},
    "rate_difference": {"ja": "率の差（観測−見込み）", "en": "Rate difference"},
    "count_difference": {"ja": "件数の差（観測−見込み）", "en": "Count difference"},
    "observed": {"ja": "評価年度の観測値", "en": "Observed in the evaluation year"},
}

#: Sample-flow group names and labels.
GROUPS: dict[str, dict[str, str]] = {
    "all": {"ja": "全体", "en": "all"},
    "participants": {"ja": "参加者", "en": "participants"},
    "controls": {"ja": "対照者", "en": "controls"},
    "treated": {"ja": "介入群", "en": "treated"},
    "control": {"ja": "対照群", "en": "control"},
    "years": {"ja": "年度", "en": "years"},
    "rows": {"ja": "行", "en": "rows"},
    "baseline records": {"ja": "ベースライン年度のレコード", "en": "baseline records"},
}

_VALUES: dict[str, dict[str, str]] = {
    "absolute_per_year": {"ja": "絶対変化（年あたり）", "en": "absolute change per year"},
    "absolute": {"ja": "絶対変化", "en": "absolute change"},
    "relative_per_year": {"ja": "相対変化（年あたり）", "en": "relative change per year"},
}


#: Choices of design options (``Option.choices``) in plain words, by option name and value.
#: A settings table shows these instead of the raw value (``trend`` → 直線トレンド).
OPTION_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("missing", "exclude"): {"ja": "欠測のある人を除外", "en": "exclude people with missing data"},
    ("missing", "error"): {"ja": "欠測があれば停止", "en": "stop on any missing value"},
    ("measure", "difference"): {"ja": "差", "en": "difference"},
    ("measure", "risk_ratio"): {"ja": "リスク比", "en": "risk ratio"},
    ("measure", "odds_ratio"): {"ja": "オッズ比", "en": "odds ratio"},
    ("outcome_type", "auto"): {"ja": "データから判定", "en": "from the data"},
    ("outcome_type", "continuous"): {"ja": "連続量", "en": "continuous"},
    ("outcome_type", "binary"): {"ja": "二値（0/1）", "en": "binary (0/1)"},
    ("cluster_se", "CR2"): {
        "ja": "クラスター頑健（CR2、小標本補正）",
        "en": "cluster-robust (CR2, small-sample corrected)",
    },
    ("cluster_se", "CR1"): {"ja": "クラスター頑健（CR1）", "en": "cluster-robust (CR1)"},
    ("statistic", "difference"): {"ja": "平均の差", "en": "difference in means"},
    ("alternative", "two-sided"): {"ja": "両側", "en": "two-sided"},
    ("alternative", "greater"): {"ja": "片側（大きい）", "en": "one-sided (greater)"},
    ("alternative", "less"): {"ja": "片側（小さい）", "en": "one-sided (less)"},
    ("method", "t"): {"ja": "対応のある t 検定", "en": "paired t"},
    ("method", "wilcoxon"): {"ja": "符号付き順位検定", "en": "signed-rank test"},
    ("method", "poisson"): {"ja": "ポアソン分布", "en": "Poisson"},
    ("method", "last"): {"ja": "前年度の値", "en": "the previous year"},
    ("method", "mean"): {"ja": "基準期間の平均", "en": "mean of the baseline years"},
    ("method", "median"): {"ja": "基準期間の中央値", "en": "median of the baseline years"},
    ("method", "trend"): {"ja": "直線トレンドの延長", "en": "linear trend extended"},
    ("method", "glm"): {
        "ja": "一般化線形モデルのトレンド",
        "en": "trend of a generalised linear model",
    },
    ("method", "nearest"): {"ja": "最近傍マッチング", "en": "nearest neighbour"},
    ("method", "optimal"): {"ja": "最適マッチング", "en": "optimal"},
    ("mcnemar", "auto"): {"ja": "人数により自動選択", "en": "chosen by the counts"},
    ("mcnemar", "exact"): {"ja": "正確検定", "en": "exact"},
    ("mcnemar", "asymptotic"): {"ja": "漸近検定", "en": "asymptotic"},
    ("direction", "decrease"): {"ja": "減少が改善", "en": "a decrease is an improvement"},
    ("direction", "increase"): {"ja": "増加が改善", "en": "an increase is an improvement"},
    ("estimand", "ATT"): {"ja": "参加者における効果（ATT）", "en": "effect on the treated (ATT)"},
    ("estimand", "ATC"): {"ja": "対照における効果（ATC）", "en": "effect on the controls (ATC)"},
    ("ties", "matchit"): {"ja": "MatchIt と同じ規則", "en": "as MatchIt"},
    ("ties", "left"): {"ja": "先に現れた対照", "en": "first control"},
    ("vcov", "cluster"): {"ja": "マッチングの組で頑健", "en": "robust to the matched sets"},
    ("effect", "difference"): {"ja": "差", "en": "difference"},
    ("effect", "RD"): {"ja": "リスク差", "en": "risk difference"},
    ("effect", "RR"): {"ja": "リスク比", "en": "risk ratio"},
    ("effect", "OR"): {"ja": "オッズ比", "en": "odds ratio"},
    ("change", "relative"): {"ja": "相対変化", "en": "relative change"},
}


def option_value(option: str, value: str, lang: str) -> str:
    """A design option's chosen value in plain words (the value itself when unknown).

    Examples
    --------
    >>> option_value("method", "trend", "ja"), option_value("alternative", "two-sided", "en")
    ('直線トレンドの延長', 'two-sided')
    """
    words = OPTION_VALUES.get((option, value))
    if words is not None:
        return words[lang]
    if value in INTERVALS:
        return INTERVALS[value][lang]
    return _lookup(_VALUES, value, lang)


def _lookup(table: dict[str, dict[str, str]], key: str, lang: str) -> str:
    return table[key][lang] if key in table else key


def _by_pattern(
    patterns: tuple[tuple[re.Pattern[str], str], ...], text: str, group: Callable[[str], str]
) -> str:
    """The Japanese of the first pattern matching the whole ``text``, its ``{0}``, ``{1}``…
    filled with ``group`` of the matched groups (``text`` itself when none matches)."""
    for pat, ja in patterns:
        m = pat.fullmatch(text)
        if m:
            return ja.format(*map(group, m.groups()))
    return text


def interval_label(name: str, lang: str) -> str:
    """An interval name (``Estimate.intervals`` key) in plain words.

    Examples
    --------
    >>> interval_label("wilson", "ja"), interval_label("clopper_pearson", "en")
    ('Wilson スコア法', 'Clopper–Pearson (exact)')
    """
    return _lookup(INTERVALS, name, lang)


def related_label(name: str, lang: str) -> str:
    """The name of a related estimate (``domain:x`` becomes the domain ``x``).

    Examples
    --------
    >>> related_label("reference_rate", "ja"), related_label("domain:lifestyle_diet", "en")
    ('効果なしの参照値', 'lifestyle_diet')
    """
    if name.startswith("domain:"):
        return name.split(":", 1)[1]
    return _lookup(RELATED, name, lang)


def group_label(label: str, lang: str) -> str:
    """A sample-flow group's display name (other labels are shown as they are).

    Examples
    --------
    >>> group_label("all", "ja"), group_label("treated", "ja")
    ('全体', '介入群')
    """
    if label in GROUPS:
        return GROUPS[label][lang]
    return label


def value_text(value: str, lang: str) -> str:
    """A fixed text value of a diagnostic (e.g. ``absolute_per_year``) in ``lang``.

    Examples
    --------
    >>> value_text("absolute_per_year", "ja"), value_text("something else", "ja")
    ('絶対変化（年あたり）', 'something else')
    """
    return _lookup(_VALUES, value, lang)


_SCHEDULES: dict[str, dict[str, str]] = {
    "fixed": {"ja": "固定額", "en": "fixed"},
    "proportional": {"ja": "目標値に比例", "en": "proportional"},
    "per_unit": {"ja": "単位あたり", "en": "per unit"},
    "step": {"ja": "段階", "en": "step"},
    "band": {"ja": "支払率の段階", "en": "band"},
    "interpolate": {"ja": "線形補間", "en": "interpolate"},
    "pass_fail": {"ja": "達成・未達成", "en": "pass / fail"},
}

#: Steps reached written by the payment schedules (English text in ``results.json``).
_STEPS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), ja)
    for p, ja in (
        (r"below the lower limit", "下限未満"),
        (r"target reached", "目標達成"),
        (r"nothing paid", "支払なし"),
        (r"part of target", "目標の一部"),
        (r"maximum units reached", "上限到達"),
        (r"per unit", "単位数"),
        (r"below the first threshold", "第1段階未満"),
        (r"step (\d+)", "第{0}段階"),
        (r"below the first point", "第1点未満"),
        (r"at or above the last point", "最終点以上"),
        (r"segment (\d+)", "区間 {0}"),
        (r"passed", "達成"),
        (r"not passed", "未達成"),
    )
)


#: Currency units of Japanese contracts in English (the contract's own word in Japanese).
_UNITS_EN = {"円": "yen", "千円": "thousand yen", "万円": "10,000 yen", "百万円": "million yen"}


def unit_text(unit: str, lang: str) -> str:
    """A contract's currency unit for readers of ``lang``.

    Examples
    --------
    >>> unit_text("千円", "ja"), unit_text("千円", "en"), unit_text("EUR", "en")
    ('千円', 'thousand yen', 'EUR')
    """
    return _UNITS_EN.get(unit, unit) if lang == "en" else unit


def schedule_label(kind: str, lang: str) -> str:
    """A payment schedule type (``proportional``, ``per_unit``…) in plain words.

    Examples
    --------
    >>> schedule_label("per_unit", "ja"), schedule_label("pass_fail", "en")
    ('単位あたり', 'pass / fail')
    """
    return _lookup(_SCHEDULES, kind, lang)


def step_text(step: str, lang: str) -> str:
    """The step a payment schedule reached, in ``lang`` (payment results keep English).

    Examples
    --------
    >>> step_text("step 2", "ja"), step_text("target reached", "ja"), step_text("step 2", "en")
    ('第2段階', '目標達成', 'step 2')
    """
    if lang != "ja":
        return step
    return _by_pattern(_STEPS, step, str)
