"""A short glossary (用語集) of the statistical terms an appendix uses.

Each entry is listed only when the rest of the appendix uses the term, so the glossary of a
matching evaluation explains the propensity score and that of a yearly-series evaluation
does not. Proper names kept in the text (Wilson, Clopper–Pearson, Love) are glossed here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

__all__ = ["GLOSSARY", "glossary_frame"]

#: (term shown, patterns (regular expressions, case-insensitive) whose presence in the
#: document lists it, explanation), per language.
GLOSSARY: tuple[dict[str, tuple[str, tuple[str, ...], str]], ...] = (
    {
        "ja": (
            "信頼区間",
            ("信頼区間",),
            "データのばらつきを考慮した推定値のとり得る範囲。95% 信頼区間は、同じ方法を繰り返せば 95% の確率で真の値を含む範囲です。",
        ),
        "en": (
            "Confidence interval (CI)",
            ("confidence interval",),
            "The range of values compatible with the data; a 95% interval built the same way would contain the true value 95% of the time.",
        ),
    },
    {
        "ja": ("標準誤差", ("標準誤差",), "推定値の標本によるばらつきの大きさ（標準偏差）。"),
        "en": (
            "Standard error",
            ("standard error",),
            "How much the estimate would vary from sample to sample (its standard deviation).",
        ),
    },
    {
        "ja": (
            "ポイント",
            ("ポイント",),
            "割合どうしの差の単位（パーセントポイント）。25.0% から 27.3% への変化は 2.3ポイントです。",
        ),
        "en": (
            "Percentage points",
            (r"\d points",),
            "The unit of a difference between two percentages: from 25.0% to 27.3% is 2.3 points.",
        ),
    },
    {
        "ja": (
            "効果なしの参照値",
            ("効果なしの参照値",),
            "事業の効果がなくても生じる指標の値。指標はこの値と比べて読みます。",
        ),
        "en": (
            "No-effect reference",
            ("no-effect reference",),
            "The value the indicator would take without any effect of the programme; the indicator is read against it.",
        ),
    },
    {
        "ja": (
            "Wilson スコア法",
            ("Wilson",),
            "割合の信頼区間の計算方法の一つ（Wilson による）。人数が少ない場合や割合が 0% や 100% に近い場合にも適切な幅になります。",
        ),
        "en": (
            "Wilson score interval",
            ("Wilson",),
            "A confidence interval for a proportion (after Wilson) that stays accurate for small numbers and rates near 0% or 100%.",
        ),
    },
    {
        "ja": (
            "Clopper–Pearson 法",
            ("Clopper",),
            "二項分布から直接求める割合の信頼区間（正確法）。やや広めになります。",
        ),
        "en": (
            "Clopper–Pearson interval",
            ("Clopper",),
            "A confidence interval for a proportion computed exactly from the binomial distribution; somewhat wide.",
        ),
    },
    {
        "ja": (
            "ブートストラップ",
            ("ブートストラップ",),
            "データから無作為に復元抽出した標本で推定を何度も繰り返し、そのばらつきから信頼区間を求める方法。",
        ),
        "en": (
            "Bootstrap",
            ("bootstrap",),
            "Repeating the estimate on many samples drawn with replacement from the data, and taking the interval from their spread.",
        ),
    },
    {
        "ja": (
            "傾向スコア",
            ("傾向スコア",),
            "背景因子（年齢、検査値など）から推定した、その人が事業に参加する確率。",
        ),
        "en": (
            "Propensity score",
            ("propensity score",),
            "The probability that a person takes part in the programme, estimated from their baseline characteristics.",
        ),
    },
    {
        "ja": (
            "マッチング",
            ("マッチング",),
            "参加者ごとに、傾向スコアの近い非参加者を対照として選び、背景因子をそろえて比べる方法。",
        ),
        "en": (
            "Matching",
            ("matching", "matched"),
            "Choosing, for each participant, non-participants with a similar propensity score as controls, so that the groups compared are alike.",
        ),
    },
    {
        "ja": (
            "標準化平均差（SMD）",
            ("SMD", "標準化平均差"),
            "群間の平均の差を標準偏差で割った値。0.1 未満なら群の背景がよくそろっているとされます。",
        ),
        "en": (
            "Standardised mean difference (SMD)",
            ("SMD", "standardised mean difference"),
            "The difference between the groups' means divided by the standard deviation; below 0.1 the groups are usually considered alike.",
        ),
    },
    {
        "ja": (
            "Love プロット",
            (r"\bLove",),
            "各変数の標準化平均差をマッチング前後で並べた図（考案者 Love の名による）。",
        ),
        "en": (
            "Love plot",
            (r"\bLove plot",),
            "A chart of each variable's standardised mean difference before and after matching (after its author, Love).",
        ),
    },
    {
        "ja": (
            "OLS 回帰",
            ("OLS",),
            "最小二乗法による線形回帰。予測値と実際の値の差の二乗和が最小になる直線（平面）を求めます。",
        ),
        "en": (
            "OLS regression",
            ("OLS", "least squares"),
            "Linear regression by ordinary least squares: the line (plane) that minimises the squared differences from the data.",
        ),
    },
    {
        "ja": (
            "p 値",
            (r"p ?値",),
            "効果がないと仮定したとき、観測された以上の差が偶然に生じる確率。",
        ),
        "en": (
            "p-value",
            ("p-value",),
            "The probability of a difference at least as large as the one observed if there were no effect.",
        ),
    },
    {
        "ja": (
            "E値",
            ("E値",),
            "測定されていない要因がどれだけ強ければ結果を説明できてしまうかを示す値。",
        ),
        "en": (
            "E-value",
            ("E-value",),
            "How strong an unmeasured factor would have to be to explain the result away (after VanderWeele and Ding).",
        ),
    },
    {
        "ja": (
            "秘匿（<10、*）",
            ("<10",),
            "個人の特定を防ぐため、10人未満の人数を「<10」、そこから逆算できる人数を「*」で伏せた表示。",
        ),
        "en": (
            "Suppression (<10, *)",
            ("<10",),
            "Counts of fewer than 10 people are shown as <10, and counts that would let them be recomputed as *, so that no one can be identified.",
        ),
    },
)


def glossary_frame(text: str, lang: str, *, columns: Sequence[str]) -> pd.DataFrame | None:
    """The glossary entries whose words ``text`` (the rest of the appendix) uses; ``None``
    when it uses none.

    Examples
    --------
    >>> f = glossary_frame("推定値 72.1%、95% 信頼区間 [57.2%, 87.0%]", "ja", columns=["用語", "説明"])
    >>> f["用語"].tolist()
    ['信頼区間']
    """
    rows = [
        (term, explanation)
        for entry in GLOSSARY
        for term, words, explanation in [entry[lang]]
        if any(re.search(w, text, re.IGNORECASE) for w in words)
    ]
    return pd.DataFrame(rows, columns=list(columns)) if rows else None
