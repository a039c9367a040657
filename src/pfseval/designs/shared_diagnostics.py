"""Diagnostics several designs report, declared once: one name, one meaning, one label.

A design's contract module lists these names among its own diagnostics; declaring them here
keeps the kind, the ja/en label and the counts a value derives from identical everywhere (the
registry refuses a second, different declaration of a name).

Examples
--------
>>> from pfseval.designs.contract import DIAGNOSTICS
>>> DIAGNOSTICS["n_treated"].kind, DIAGNOSTICS["df"].derived_from
('people', ('n_treated', 'n_control'))
"""

from __future__ import annotations

from pfseval.designs.contract import Diagnostic, declare_diagnostics

__all__ = [
           "BOOTSTRAP",
           "DF",
           "EXACT",
           "GROUP_SIZES",
           "MEANS",
           "N_DENOMINATOR",
           "N_IMPROVED",
           "OUTCOME",
           "REGRESSION",
]  # fmt: skip

GROUP_SIZES = declare_diagnostics(
    Diagnostic("n_treated", "people", {"ja": "介入群の人数", "en": "treated"}),
    Diagnostic("n_control", "people", {"ja": "対照群の人数", "en": "controls"}),
)
OUTCOME = declare_diagnostics(
    Diagnostic("outcome", "setting", {"ja": "アウトカム", "en": "outcome"}),
)
DF = declare_diagnostics(
    Diagnostic(
        "df",
        "count",
        {"ja": "自由度", "en": "degrees of freedom"},
        derived_from=("n_treated", "n_control"),
        relation="from the group sizes: n - 1 (paired), n - k (regression), Welch–Satterthwaite",
    ),
)
MEANS = declare_diagnostics(
    Diagnostic("mean_treated", "statistic", {"ja": "介入群の平均", "en": "mean, treated"}),
    # After matching the controls' mean is weighted by the matching weights (the design's
    # method says so); in a trial every weight is 1. One label fits both.
    Diagnostic("mean_control", "statistic", {"ja": "対照群の平均", "en": "mean, controls"}),
)
REGRESSION = declare_diagnostics(
    Diagnostic("coefficients", "table", {"ja": "回帰係数", "en": "coefficients"}),
    Diagnostic("n_clusters", "count", {"ja": "クラスター数", "en": "clusters"}),
)
BOOTSTRAP = declare_diagnostics(
    Diagnostic("n_boot", "setting", {"ja": "ブートストラップ反復数", "en": "bootstrap replicates"}),
    Diagnostic("n_failed_replicates", "count", {"ja": "失敗した反復", "en": "failed replicates"}),
)
EXACT = declare_diagnostics(
    Diagnostic("exact", "setting", {"ja": "正確検定", "en": "exact test"}),
)
N_IMPROVED = declare_diagnostics(
    Diagnostic("n_improved", "people", {"ja": "改善した人数", "en": "improved"}),
)
N_DENOMINATOR = declare_diagnostics(
    Diagnostic("n_denominator", "people", {"ja": "分母の人数", "en": "denominator"}),
)
