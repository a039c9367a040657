"""What the output-indicator designs declare to the design contract.

The options of :func:`~pfseval.designs.proportion.rate` and
:func:`~pfseval.designs.proportion.mean_of_rates` with the values they allow, their titles,
descriptions and assumptions in Japanese and English, their diagnostics, and the catalogue
entries of their notices, sample-flow reasons and method descriptions.

This module imports nothing from the design module, so the design can import it without a
cycle.

Examples
--------
>>> from pfseval.designs.contract import get
>>> get("proportion.rate").title["ja"]
'割合（アウトプット指標）'
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
from pfseval.designs.shared_diagnostics import BOOTSTRAP, N_DENOMINATOR
from pfseval.messages import declare_messages

__all__ = ["MEAN_OF_RATES_DIAGNOSTICS", "RATE_DIAGNOSTICS"]

_C = COMMON_OPTIONS

# ---------------------------------------------------------------- messages

declare_messages(
    {
        # -- sample-flow reasons
        "proportion.flow.excluded_after_start": {
            "en": "met an exclusion criterion after the start ({exclude!v} = 1)",
            "ja": "開始後に除外基準に該当（{exclude!v} = 1）",
        },
        "proportion.flow.no_data": {
            "en": "no data on {outcome!v}",
            "ja": "{outcome!v}のデータなし",
        },
        "proportion.flow.no_data_any_domain": {
            "en": "no data on any domain",
            "ja": "どの領域のデータもない",
        },
        # -- notices
        "proportion.small_denominator": {
            "en": "Only {n_denominator} people in the denominator (fewer than {minimum}): the "
            "interval is wide and the rate can move a lot with one person.",
            "ja": "分母が{n_denominator}人と少ないため（{minimum}人未満）、信頼区間は広く、"
            "一人の違いで割合が大きく変わります。",
        },
        "proportion.small_bootstrap_sample": {
            "en": "Only {n_people} people with data (fewer than {minimum}): the bootstrap "
            "interval is unreliable at this size.",
            "ja": "データのある人が{n_people}人と少ないため（{minimum}人未満）、この人数では"
            "ブートストラップによる信頼区間は信頼できません。",
        },
        "proportion.failed_replicates": {
            "en": "{failed} of {n_boot} bootstrap resamples had a domain with no data and were "
            "left out of the interval.",
            "ja": "ブートストラップの{n_boot}回の再標本のうち{failed}回は、データのない領域が"
            "あったため信頼区間の計算から除きました。",
        },
        # -- methods
        "proportion.method.wilson": {
            "en": "share of people with {outcome!v} = 1; Wilson score interval",
            "ja": "{outcome!v} = 1 の人の割合、Wilson のスコア区間",
        },
        "proportion.method.domain_wilson": {
            "en": "share of people with {outcome!v} = 1 among those with data; Wilson score "
            "interval",
            "ja": "データのある人のうち{outcome!v} = 1 の人の割合、Wilson のスコア区間",
        },
        "proportion.method.mean_of_rates": {
            "en": "mean of {domains} domain rates, each over the people with data on it; "
            "person-level bootstrap percentile interval (B = {n_boot})",
            "ja": "{domains}領域の割合（それぞれデータのある人が分母）の平均、対象者単位の"
            "ブートストラップ・パーセンタイル区間（反復{n_boot}回）",
        },
    }
)

# ---------------------------------------------------------------- diagnostics

_COMMON = declare_diagnostics(
    Diagnostic(
        "n_excluded",
        "people",
        {"ja": "開始後の除外者数", "en": "excluded after the start"},
    ),
)

RATE_DIAGNOSTICS = (
    *_COMMON,
    *N_DENOMINATOR,
    *declare_diagnostics(
        Diagnostic("n_numerator", "people", {"ja": "分子の人数", "en": "numerator"}),
        Diagnostic("n_missing", "people", {"ja": "欠測の人数", "en": "missing"}),
    ),
)

MEAN_OF_RATES_DIAGNOSTICS = (
    *_COMMON,
    *BOOTSTRAP,
    "n_numerator",  # of each domain's related estimate
    "n_denominator",
    *declare_diagnostics(
        Diagnostic("domains", "setting", {"ja": "領域", "en": "domains"}),
        Diagnostic("numerators", "table", {"ja": "領域ごとの分子", "en": "numerators by domain"}),
        Diagnostic(
            "denominators", "table", {"ja": "領域ごとの分母", "en": "denominators by domain"}
        ),
    ),
)

# ---------------------------------------------------------------- options and specs

_EXCLUDE = Option(
    "exclude",
    "column",
    nullable=True,
    label={"ja": "開始後の除外フラグの列", "en": "exclusion flag column"},
)

register(
    DesignSpec(
        name="proportion.rate",
        function="pfseval.designs.proportion:rate",
        input="data",
        options=(
            replace(_C["outcome"], required=True),
            _EXCLUDE,
            Option(
                "missing",
                "choice",
                choices=("exclude", "error"),
                label={"ja": "欠測の扱い", "en": "missing outcomes"},
            ),
            _C["level"],
            _C["label"],
        ),
        title={"en": "Share of people (output indicator)", "ja": "割合（アウトプット指標）"},
        description={
            "en": "The share of people in the denominator for whom the outcome happened (e.g. "
            "programme completion), with the Wilson score interval; Clopper–Pearson is shown "
            "as an alternative.",
            "ja": "分母の対象者のうち、該当した人（プログラム修了者など）の割合を、Wilson の"
            "スコア区間とともに示します。別の区間として Clopper–Pearson 区間も示します。",
        },
        assumptions={
            "en": (
                "The indicator counts what happened among the people in the denominator; it is "
                "not compared with anyone, so it says nothing about what would have happened "
                "without the programme. The interval reflects sampling variation only (Wilson "
                "score interval)."
            ),
            "ja": (
                "分母の対象者のうち該当した人の割合を数えた指標です。比較対象を置かないため、"
                "事業がなかった場合との差は示しません。信頼区間は標本変動のみを反映します"
                "（Wilson スコア法）。"
            ),
        },
        diagnostics=RATE_DIAGNOSTICS,
    )
)

register(
    DesignSpec(
        name="proportion.mean_of_rates",
        function="pfseval.designs.proportion:mean_of_rates",
        input="data",
        options=(
            Option(
                "outcomes",
                "columns",
                required=True,
                label={"ja": "領域の列（0/1）", "en": "domain columns (0/1)"},
            ),
            _EXCLUDE,
            _C["level"],
            _C["n_boot"],
            _C["seed"],
            _C["n_jobs"],
            _C["progress"],
            _C["label"],
        ),
        title={"en": "Mean of domain rates (output indicator)", "ja": "領域別割合の平均"},
        description={
            "en": "The mean of several domain rates (e.g. the Kobe lifestyle-improvement rate, "
            "four domains), each counted over the people with data on that domain, with a "
            "bootstrap interval that resamples people.",
            "ja": "複数の領域の割合（神戸市の生活習慣改善率では4領域）をそれぞれデータのある人で"
            "数え、その平均を示します。信頼区間は対象者を単位に再標本化するブートストラップで"
            "求めます。",
        },
        assumptions={
            "en": (
                "Each domain rate is counted over the people with data on that domain and the "
                "indicator is their mean. There is no comparison group. The interval comes "
                "from resampling people, which keeps the link between a person's domains."
            ),
            "ja": (
                "各領域の割合をその領域のデータがある人で数え、その平均を指標とします。"
                "比較対象はありません。信頼区間は対象者単位のブートストラップで求め、"
                "同じ人の領域間の関連を保ちます。"
            ),
        },
        diagnostics=MEAN_OF_RATES_DIAGNOSTICS,
    )
)
