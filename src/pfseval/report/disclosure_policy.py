"""The words of the appendix's disclosure paragraph (ja / en), and the policy it reports.

The policy itself is :class:`pfseval.sdc.policy.DisclosurePolicy` (``[report.disclosure]``).
The one paragraph on what was withheld is built from the decision's summary
(:meth:`pfseval.report.publication.DocumentPublication.summary`) and these words, never from
English text. :data:`STRINGS` is merged into :data:`pfseval.report.i18n.STRINGS`.
"""

from __future__ import annotations

from pfseval.sdc.policy import COSTS, KEY_COUNTS, DisclosurePolicy

__all__ = ["COSTS", "KEY_COUNTS", "STRINGS", "DisclosurePolicy"]

#: Words of the disclosure paragraph (merged into :data:`pfseval.report.i18n.STRINGS`).
STRINGS: dict[str, dict[str, str]] = {
    "sdc_rules": {
        "ja": "個人を特定できないよう、個人単位の値や ID は掲載していません。1〜{m_1} 人の集計値は"
        "「<{m}」と表示し、{m} 人未満の群からは推定値・標準誤差・信頼区間・自由度・図を示しません"
        "（0 は表示します）。掲載するすべての数値（対象者の流れ、診断、関連する推定値、率とその"
        "信頼区間、自由度）を一つの公表物として扱い、読み手がそれらを組み合わせても秘匿した人数を"
        "{p:g} 人の幅より狭められないことを線形計画法で確かめ、必要な箇所だけを「*」で秘匿して"
        "います。",
        "en": "No person ids or individual values are published. Counts from 1 to {m_1} are "
        "shown as <{m}, and no estimate, standard error, interval, degrees of freedom or figure "
        "is shown for a group of fewer than {m} people (zero is shown). Every number the "
        "appendix shows (sample flows, diagnostics, related estimates, rates and their "
        "intervals, degrees of freedom) is treated as one publication: linear programming "
        "checks that no combination of them narrows a hidden count to less than a range of "
        "{p:g}, and only the numbers needed for that are hidden as *.",
    },
    "sdc_nothing": {
        "ja": "この資料では、秘匿が必要な人数はありませんでした。",
        "en": "No count in this appendix needed to be hidden.",
    },
    "sdc_withheld": {
        "ja": "この資料では、{primary} 件の集計値を「<{m}」とし、それらを逆算させないために"
        "{secondary} 件の人数と {values} 件の値（率、信頼区間、自由度など）を「*」で秘匿しました。",
        "en": "In this appendix {primary} counts are shown as <{m}; to keep them from being "
        "recomputed, {secondary} further counts and {values} values (rates, intervals, degrees of "
        "freedom and the like) are hidden as *.",
    },
    "sdc_keys_shown": {
        "ja": "参加者数、マッチングされた参加者数、分析対象数はすべて掲載しています。",
        "en": "The numbers of participants, matched participants and people analysed are all "
        "shown.",
    },
    "sdc_keys_hidden": {
        "ja": "{names}は、小さな人数を逆算させないために「*」としました。",
        "en": "The {names} are hidden as * because they would let a small count be recomputed.",
    },
    "sdc_small_groups": {
        "ja": "{n} 件の推定値・区間・図は、{m} 人未満の群から計算されるため示していません。",
        "en": "{n} estimates, intervals or figures are not shown because they come from a group "
        "of fewer than {m} people.",
    },
    "sdc_unprotectable": {
        "ja": "ただし {n} 件の「<{m}」の人数は、常に公表する数値（契約上の成果指標の推定値とその"
        "信頼区間など）から正確に計算できます。他の数値を秘匿しても守れないため、そのことをここに"
        "明記します。",
        "en": "However, {n} counts shown as <{m} can be computed exactly from numbers that are "
        "always published (indicator estimates the contract pays on and their intervals); hiding "
        "other numbers cannot protect them, so this is stated here.",
    },
    "sdc_narrowed": {
        "ja": "{n} 件の「<{m}」の人数は、別の小さな人数の内訳であるなどの理由で1〜{m_1}人の全幅は"
        "保てませんが、正確な値は分からない範囲で、できる限り広く保っています。",
        "en": "{n} counts shown as <{m} are, for example, parts of another small count, so the "
        "full range 1 to {m_1} cannot be kept; they are kept as wide as the publication allows, "
        "and never to their exact value.",
    },
    "sdc_key_participants": {"ja": "参加者数", "en": "numbers of participants"},
    "sdc_key_matched": {"ja": "マッチングされた参加者数", "en": "numbers of matched participants"},
    "sdc_key_analysed": {"ja": "分析対象数", "en": "numbers analysed"},
    "sdc_withheld_value": {"ja": "*", "en": "*"},
}
