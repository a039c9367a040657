"""Historical-baseline design (既存データとの比較): the evaluation year against past years.

Input is a yearly series: a numerator and a denominator (e.g. people screened / people
eligible: a *rate*), or counts alone (``denominator=None``). The value expected for the
evaluation year without the programme is built from the past years (the *baseline*), and the
effect is

    value = observed − expected          (rate difference, or count difference)

with ``related["additional_count"]`` = eligible people in the evaluation year × value for rates
(the additional people screened, e.g. the 浦添市 indicator), and ``related["observed"]`` = the
evaluation year's observed level itself (the rate with its Wilson interval on the year's
counts, or the count with its exact Poisson interval), for contracts that pay on the level
(e.g. 八王子市's uptake rate; a spec's ``use = "observed"``).

Model and what the interval covers
----------------------------------
Let ``z_t`` be the yearly rate (or count), minus the comparison series ``c_t`` when one is
given. The baseline model says ``z_t = m(t) + e_t`` with ``e_t`` independent year-to-year
deviations (sampling noise plus real year-level variation) of variance ``σ²``; ``m(t)`` is a
constant (``"mean"``, ``"median"``), a straight line (``"trend"``), or a logistic / log-linear
line (``"glm"``). The programme shifts the evaluation year by ``δ``:
``z_E = m(E) + δ + e_E``. The main interval covers ``δ`` — the difference between the
evaluation year's expected value and the *counterfactual expected value* ``m(E)`` (plus
``c_E``) under the baseline model. Its variance combines the evaluation year's own variation
(``σ²``: sampling plus year-level variation, estimated from the baseline years) and the
baseline's uncertainty::

    Var(value) = σ̂² + Var(m̂(E))

with ``σ̂²`` the residual variance of the baseline years (``df`` = k − 1 for mean/median,
k − 2 for trend/glm) and ``Var(m̂(E))`` = ``σ̂² h₀`` (OLS leverage of the evaluation year:
exactly R's ``predict(lm, interval = "prediction")``), ``σ̂²/k`` (mean), ``σ̂² c_k/k``
(median; ``c_k`` the exact normal-theory variance factor of a sample median), or, for the
GLM, the delta-method variance of the prediction with the quasi-likelihood dispersion
``φ̂ = X²/(k − 2)`` (R's ``quasibinomial`` / ``quasipoisson``), the evaluation year's own
variance being ``φ̂ μ(1 − μ)/n`` or ``φ̂ μ``. The interval is ``value ± t_df · sd``.
A warning flags a baseline that varies much less than sampling noise allows (its interval may
then be too narrow).

``intervals["conditional"]`` covers instead the evaluation year's *own* expected value minus
``m(E)`` (its year-level deviation counted as effect): variance ``v_E + Var(m̂(E))`` with
Satterthwaite degrees of freedom. ``"last"`` (last year only) cannot estimate year-to-year
variation: its interval reflects sampling variation only (Newcombe's hybrid score interval
for rates, normal for counts) and always carries a warning.

A comparison series (national or prefectural rates, treated as known without error) removes
an external trend difference-in-differences style: linear methods model ``r_t − c_t``; the
GLM uses ``logit(c_t)`` (binomial) or ``log(c_t)`` (Poisson) as an offset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from pfseval.checks import numeric_column, require_columns
from pfseval.designs.contract import (
    COMMON_OPTIONS,
    DesignSpec,
    Diagnostic,
    Option,
    check_options,
    declare_diagnostics,
    register,
    validated,
)
from pfseval.errors import (
    ConvergenceError,
    DataProblem,
    DataValidationError,
    DesignError,
    ExtrapolationWarning,
    PfsevalWarning,
    ShortSeriesWarning,
)
from pfseval.inference import newcombe_diff, wilson
from pfseval.messages import Message, Notice, declare_messages
from pfseval.result import Estimate, SampleFlow, emit_warnings, provenance

__all__ = [
    "METHODS",
    "GroupFits",
    "compare",
    "compare_many",
    "fit_groups",
    "median_variance_factor",
]

Method = Literal["last", "mean", "median", "trend", "glm"]
METHODS: tuple[str, ...] = ("last", "mean", "median", "trend", "glm")
_MIN_K = {"last": 1, "mean": 2, "median": 2, "trend": 3, "glm": 3}
#: A baseline residual variance below (evaluation-year sampling variance / _SMOOTH) is flagged.
_SMOOTH = 4.0
#: Series at or below this many baseline years get a ShortSeriesWarning.
_SHORT = {"last": 1, "mean": 3, "median": 3, "trend": 5, "glm": 5}

FloatArray = NDArray[np.float64]


# ---------------------------------------------------------------- the catalogue

# The method text: what the expected value is built from, an optional comparison-series
# adjustment and the interval. The variants are catalogue entries composed once from these
# clauses, so the design picks a code and never assembles a sentence.
_BASIS = {
    "last_rate": {"en": "last year's value", "ja": "前年の値"},
    "last_count": {"en": "last year's value", "ja": "前年の値"},
    "mean": {"en": "mean of the past {k} years", "ja": "過去{k}年の平均"},
    "median": {"en": "median of the past {k} years", "ja": "過去{k}年の中央値"},
    "trend": {
        "en": "linear trend (OLS) over the past {k} years",
        "ja": "過去{k}年の線形トレンド（OLS）",
    },
    "glm_rate": {
        "en": "binomial (logit) GLM trend over the past {k} years",
        "ja": "過去{k}年の二項分布（logit）GLM トレンド",
    },
    "glm_count": {
        "en": "Poisson (log) GLM trend over the past {k} years",
        "ja": "過去{k}年の Poisson 分布（対数）GLM トレンド",
    },
}
_ADJUSTED = {
    "": {"en": "", "ja": ""},
    "_adjusted": {
        "en": ", adjusted for the comparison series {comparison!v}",
        "ja": "、比較系列{comparison!v}で調整",
    },
}
_INTERVAL = {
    "last_rate": {
        "en": "Newcombe hybrid-score interval (sampling variation only)",
        "ja": "Newcombe のハイブリッド・スコア区間（標本変動のみ）",
    },
    "last_count": {
        "en": "normal interval (sampling variation only)",
        "ja": "正規近似の区間（標本変動のみ）",
    },
    "years": {
        "en": "t interval combining year-to-year variation and baseline uncertainty",
        "ja": "年ごとの変動と見込み値の不確かさを合わせた t 区間",
    },
}
declare_messages(
    {
        f"baseline.method.{basis}{adj}": {
            "en": "observed − expected from the "
            + _BASIS[basis]["en"]
            + _ADJUSTED[adj]["en"]
            + "; "
            + _INTERVAL[basis if basis.startswith("last") else "years"]["en"],
            "ja": "観測値 − 見込み値（"
            + _BASIS[basis]["ja"]
            + _ADJUSTED[adj]["ja"]
            + "）；"
            + _INTERVAL[basis if basis.startswith("last") else "years"]["ja"],
        }
        for basis in _BASIS
        for adj in _ADJUSTED
    }
)

#: Notices of one series; compare_many issues each once with the number of groups concerned
#: (the ``.groups`` variants below).
_NOTICES = {
    "baseline.last_only": {
        "en": "last year only: the interval reflects sampling variation alone, not the "
        "year-to-year variation of the rate, and is too narrow if the rate varies; prefer the "
        "mean or the trend of several past years.",
        "ja": "前年の値だけを基準にしているため、区間は標本変動だけを反映し、年ごとの変動を"
        "含みません。率が年ごとに変動する場合は狭すぎるため、複数年の平均またはトレンドに"
        "よる方法を勧めます。",
    },
    "baseline.short_series": {
        "en": "only {k} baseline years: the expected value is uncertain and the interval uses "
        "t with {df} degrees of freedom (wide).",
        "ja": "基準年が{k}年しかないため見込み値は不確かで、区間は自由度{df}の t 分布による"
        "幅の広いものになります。",
    },
    "baseline.extrapolated": {
        "en": "the trend is extrapolated {horizon} years beyond the last baseline year.",
        "ja": "トレンドを最後の基準年から{horizon}年先まで外挿しています。",
    },
    "baseline.too_smooth": {
        "en": "the baseline years vary much less than sampling noise alone would make them "
        "(residual variance under a quarter of the sampling variance): the interval may be "
        "too narrow; check the series (smoothed or rounded figures?) and see "
        "intervals['conditional'].",
        "ja": "基準年の値の変動が、標本変動だけから見込まれるよりかなり小さくなっています"
        "（残差分散が標本分散の4分の1未満）。区間が狭すぎる可能性があるため、系列"
        "（平滑化や丸めをした数値でないか）を確認し、条件付きの区間も参照してください。",
    },
    "baseline.glm_failed": {
        "en": "the GLM did not converge: no estimate.",
        "ja": "GLM が収束せず、推定値は得られませんでした。",
    },
}
declare_messages(_NOTICES)
declare_messages(
    {
        f"{code}.groups": {
            "en": "{n_groups} of {n_all} groups: " + t["en"],
            "ja": "{n_all}グループ中{n_groups}グループ：" + t["ja"],
        }
        for code, t in _NOTICES.items()
    }
)
declare_messages(
    {
        "baseline.flow.before_window": {
            "en": "year before the baseline window",
            "ja": "基準期間より前の年度",
        },
        "baseline.flow.between": {
            "en": "year between the baseline and the evaluation year",
            "ja": "基準期間と評価年度の間の年度",
        },
        "baseline.flow.after_evaluation": {
            "en": "year after the evaluation year",
            "ja": "評価年度より後の年度",
        },
        "baseline.expected_method": {
            "en": "counterfactual expected value under the baseline model (confidence interval)",
            "ja": "基準期間のモデルによる、事業がなかった場合の見込み値（信頼区間）",
        },
        "baseline.additional_rate_method": {
            "en": "eligible in {year:d} ({n_eligible}) × rate difference",
            "ja": "{year:d}年度の対象者数（{n_eligible}人）× 率の差",
        },
        "baseline.additional_count_method": {
            "en": "count difference",
            "ja": "件数の差",
        },
        "baseline.observed_rate_method": {
            "en": "observed rate in the evaluation year {year:d}; Wilson score interval on the "
            "year's counts",
            "ja": "評価年度（{year:d}年度）に観測された率；その年の人数に基づく Wilson スコア区間",
        },
        "baseline.observed_count_method": {
            "en": "observed count in the evaluation year {year:d}; exact Poisson interval",
            "ja": "評価年度（{year:d}年度）に観測された件数；Poisson 分布による正確な区間",
        },
    }
)


# ---------------------------------------------------------------- median variance factor


@lru_cache(maxsize=128)
def median_variance_factor(k: int) -> float:
    """``k · Var(median of k iid N(0, 1))``: the factor ``c_k`` in ``Var(median) = c_k σ²/k``.

    Exact normal-theory value by numerical integration of the order-statistic density
    (one order statistic for odd ``k``, the mean of the two middle ones for even ``k``);
    tends to π/2 ≈ 1.571 as ``k`` grows.

    Examples
    --------
    >>> median_variance_factor(1), median_variance_factor(2)
    (1.0, 1.0)
    >>> round(median_variance_factor(3), 4)
    1.346
    """
    if k < 1:
        raise DesignError(f"k must be at least 1, got {k}")
    if k <= 2:
        return 1.0
    from scipy.special import log_ndtr

    xg, wg = np.polynomial.legendre.leggauss(_GL_NODES)
    lc = math.lgamma(k + 1) - 2 * math.lgamma((k + 1) // 2 if k % 2 else k // 2)
    logphi = -0.5 * np.log(2 * np.pi)
    if k % 2:
        m = (k + 1) // 2
        x = _GL_HALF * xg  # nodes on [-L, L]
        w = _GL_HALF * wg
        logf = lc + (m - 1) * (log_ndtr(x) + log_ndtr(-x)) + logphi - x * x / 2
        v = float(np.sum(w * x * x * np.exp(logf)))
    else:
        m = k // 2
        # X_(m) = x < X_(m+1) = x + u, u in [0, 2L]: a smooth integrand on a rectangle
        x = (_GL_HALF * xg)[:, None]
        u = (_GL_HALF * (xg + 1))[None, :]
        w = (_GL_HALF * wg)[:, None] * (_GL_HALF * wg)[None, :]
        y = x + u
        logf = lc + (m - 1) * (log_ndtr(x) + log_ndtr(-y)) + 2 * logphi - x * x / 2 - y * y / 2
        v = float(np.sum(w * ((x + y) / 2) ** 2 * np.exp(logf)))
    return float(k * v)


_GL_NODES = 240
_GL_HALF = 9.0


# ---------------------------------------------------------------- validation and reshaping


@dataclass
class _Panel:
    """Series reshaped to groups × years, with the row positions used."""

    keys: list[tuple[Any, ...]]
    base_years: NDArray[np.int64]
    y: FloatArray  # (G, k)
    n: FloatArray | None
    c: FloatArray | None
    yE: FloatArray  # (G,)
    nE: FloatArray | None
    cE: FloatArray | None
    flow_counts: dict[str, int] = field(default_factory=dict)
    n_rows: int = 0
    #: per reason, the rows of each group (G,) outside the window; and each group's rows
    group_flow_counts: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    group_rows: NDArray[np.int64] | None = None

    def flow(self) -> SampleFlow:
        """Every input row, less the rows of years outside the window (one step per reason)."""
        flow = SampleFlow.start(self.n_rows)
        for code, cnt in self.flow_counts.items():
            flow = flow.exclude(Message(code), cnt)
        return flow

    def group_flow(self, g: int) -> SampleFlow:
        """The rows of group ``g``, less its rows of years outside the window."""
        if self.group_rows is None:
            return self.flow()
        flow = SampleFlow.start(int(self.group_rows[g]))
        for code, cnt in self.group_flow_counts.items():
            flow = flow.exclude(Message(code), int(cnt[g]))
        return flow


def _prepare(
    series: pd.DataFrame,
    *,
    by: Sequence[str],
    year: str,
    numerator: str,
    denominator: str | None,
    comparison: str | None,
    evaluation_year: int,
    method: str,
    k: int | None,
    baseline_end: int | None,
    context: str,
) -> _Panel:
    if method not in METHODS:
        raise DesignError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    require_columns(series, by, context=context)
    yr = numeric_column(series, year, context=context)
    y = numeric_column(series, numerator, context=context)
    n = numeric_column(series, denominator, context=context) if denominator is not None else None
    c = numeric_column(series, comparison, context=context) if comparison is not None else None
    problems: list[DataProblem] = []

    def add(col: str, kind: str, msg: str, mask: NDArray[np.bool_], vals: Any, exp: str) -> None:
        rows = np.flatnonzero(mask)
        if rows.size:
            problems.append(
                DataProblem(
                    column=col,
                    kind=kind,
                    message=msg,
                    rows=tuple(int(i) for i in rows),
                    values=tuple(np.asarray(vals)[rows[:10]].tolist()),
                    expected=exp,
                )
            )

    add(year, "missing", "year is missing or not a whole number",
        np.isnan(yr) | (yr != np.round(yr)), yr, "whole fiscal years, e.g. 2019")  # fmt: skip
    add(numerator, "out_of_range", "negative values", y < 0, y, "counts ≥ 0")
    if n is None:  # counts alone: whole numbers (a rate or a share cannot go without its base)
        add(numerator, "wrong_type", "counts must be whole numbers; rates need a denominator "
            "column (pass denominator=..., e.g. the number eligible)",
            np.isfinite(y) & (y != np.round(y)), y, "whole numbers ≥ 0")  # fmt: skip
    if n is not None and denominator is not None:
        add(denominator, "out_of_range", "denominator must be positive", ~(n > 0), n, "> 0")
        add(numerator, "out_of_range", "numerator above denominator",
            y > n, y, f"{numerator} ≤ {denominator}")  # fmt: skip
        if comparison is not None and c is not None:
            add(comparison, "out_of_range", "rates outside [0, 1]", (c < 0) | (c > 1), c,
                "a rate between 0 and 1 on the same scale as the series")  # fmt: skip
    if comparison is not None and c is not None and method == "glm":
        bad = ~((c > 0) & (c < 1)) if n is not None else ~(c > 0)
        add(comparison, "out_of_range", "the GLM uses the comparison as an offset on the link "
            "scale, so it must be strictly inside (0, 1) for rates / positive for counts",
            bad & ~np.isnan(c), c, "0 < comparison < 1" if n is not None else "> 0")  # fmt: skip
    if by:
        mi = pd.MultiIndex.from_frame(series[list(by)].reset_index(drop=True))
        codes, uniq = pd.factorize(mi, sort=False)
        keys = [tuple(u) for u in uniq]
    else:
        codes, keys = np.zeros(len(series), dtype=np.int64), [()]
    gi = np.asarray(codes, dtype=np.int64)
    if by:
        nokey = series[list(by)].isna().any(axis=1).to_numpy() | (gi < 0)
        add(by[0], "missing", f"the group key ({', '.join(by)}) is missing", nokey,
            np.full(len(gi), None), "a key value on every row")  # fmt: skip
    dup = pd.DataFrame({"g": gi, "y": yr}).duplicated(keep=False).to_numpy() & ~np.isnan(yr)
    add(year, "duplicate", "the same year appears more than once"
        + (f" within a {'/'.join(by)} group" if by else ""), dup, yr,
        "one row per year" + (" and group" if by else ""))  # fmt: skip
    if problems:
        raise DataValidationError(problems, source=context)

    E = int(evaluation_year)
    bend = E - 1 if baseline_end is None else int(baseline_end)
    if bend >= E:
        raise DesignError(f"baseline_end ({bend}) must be before evaluation_year ({E})")
    avail = np.unique(yr[yr <= bend]).astype(np.int64)
    if method == "last":
        if k not in (None, 1):
            raise DesignError("method='last' uses one baseline year; leave k unset")
        kk = 1
    elif k is None:
        if avail.size == 0:
            raise DesignError(f"{context}: no baseline years up to {bend} in column {year!r}")
        kk = int(bend - avail.min() + 1)
    else:
        kk = int(k)
    if kk < _MIN_K[method]:
        raise DesignError(
            f"{context}: method={method!r} needs at least {_MIN_K[method]} baseline years, "
            f"got {kk}. Fix: give a longer series, or use method='mean' / 'last'."
        )
    base_years = np.arange(bend - kk + 1, bend + 1, dtype=np.int64)
    need = np.r_[base_years, E]
    pos = np.full((len(keys), len(need)), -1, dtype=np.int64)
    yi = np.where(np.isnan(yr), -1, yr).astype(np.int64)
    jcol = np.searchsorted(need, yi)
    hit = (jcol < len(need)) & (need[np.minimum(jcol, len(need) - 1)] == yi) & (gi >= 0)
    pos[gi[hit], jcol[hit]] = np.flatnonzero(hit)
    miss = np.argwhere(pos < 0)
    if miss.size:
        txt = ", ".join(
            (f"{'/'.join(map(str, keys[g]))}: {need[j]}" if by else str(need[j]))
            for g, j in miss[:10]
        )
        more = f" (+{len(miss) - 10} more)" if len(miss) > 10 else ""
        raise DataValidationError(
            [
                DataProblem(
                    column=year,
                    kind="missing",
                    message=f"years missing from the series ({txt}{more}); the baseline window "
                    f"is {base_years[0]}–{base_years[-1]} and the evaluation year {E}",
                    expected="every year of the window present; or choose k / baseline_end",
                )
            ],
            source=context,
        )
    used = pos.ravel()
    for arr, cname in ((y, numerator), (n, denominator), (c, comparison)):
        if arr is None or cname is None:
            continue
        nan_rows = used[np.isnan(arr[used])]
        if nan_rows.size:
            problems.append(
                DataProblem(
                    column=cname,
                    kind="missing",
                    message="missing values in the years used",
                    rows=tuple(int(i) for i in np.sort(nan_rows)),
                    expected="a value for every baseline year and the evaluation year",
                )
            )
    if problems:
        raise DataValidationError(problems, source=context)
    masks = {
        "baseline.flow.before_window": yr < base_years[0],
        "baseline.flow.between": (yr > bend) & (yr < E),
        "baseline.flow.after_evaluation": yr > E,
    }
    G = len(keys)

    def take(a: FloatArray | None) -> tuple[FloatArray | None, FloatArray | None]:
        if a is None:
            return None, None
        m = a[pos]
        return m[:, :-1], m[:, -1]

    yb, yE = take(y)
    nb, nE = take(n)
    cb, cE = take(c)
    assert yb is not None and yE is not None
    return _Panel(
        keys=keys,
        base_years=base_years,
        y=yb,
        n=nb,
        c=cb,
        yE=yE,
        nE=nE,
        cE=cE,
        flow_counts={code: int(m.sum()) for code, m in masks.items()},
        n_rows=len(series),
        group_flow_counts={
            code: np.bincount(gi[m], minlength=G).astype(np.int64) for code, m in masks.items()
        },
        group_rows=np.bincount(gi, minlength=G).astype(np.int64),
    )


# ---------------------------------------------------------------- the vectorised engine


@dataclass
class _Fit:
    value: FloatArray
    expected: FloatArray
    observed: FloatArray
    se: FloatArray
    df: FloatArray
    lo: FloatArray
    hi: FloatArray
    cond_lo: FloatArray
    cond_hi: FloatArray
    var_eval: FloatArray
    var_base: FloatArray
    sigma2: FloatArray
    dispersion: FloatArray | None
    slope: FloatArray | None
    floored: NDArray[np.bool_]
    failed: NDArray[np.bool_]


def _glm_irls(
    t: FloatArray, y: FloatArray, n: FloatArray | None, off: FloatArray, max_iter: int = 50
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Vectorised IRLS of a 2-parameter logistic (n given) or log-linear GLM per group.

    Returns coefficients (G, 2), the unscaled covariance (X'WX)^{-1} (G, 2, 2), converged.
    """
    G = y.shape[0]
    X = np.stack([np.ones_like(t), t], axis=1)  # (k, 2)
    if n is not None:
        p0 = np.clip((y + 0.5) / (n + 1.0), 1e-6, 1 - 1e-6)
        eta = np.log(p0 / (1 - p0))
    else:
        eta = np.log(y + 0.5)
    z0 = eta - off
    beta = np.linalg.lstsq(X, z0.T, rcond=None)[0].T  # (G, 2)
    converged = np.zeros(G, dtype=bool)
    for _ in range(max_iter):
        eta = beta @ X.T + off
        if n is not None:
            mu = 1 / (1 + np.exp(-eta))
            w = n * mu * (1 - mu)
            resid = y - n * mu
        else:
            mu = np.exp(eta)
            w = mu
            resid = y - mu
        info = np.einsum("gi,ij,ik->gjk", w, X, X)
        score = resid @ X
        with np.errstate(all="ignore"):
            cov = np.linalg.inv(info)
        step = np.einsum("gjk,gk->gj", cov, score)
        beta = beta + step
        done = np.all(np.abs(step) <= 1e-10 * (1 + np.abs(beta)), axis=1)
        converged = done
        if done.all():
            break
    eta = beta @ X.T + off
    if n is not None:
        mu = 1 / (1 + np.exp(-eta))
        w = n * mu * (1 - mu)
    else:
        w = np.exp(eta)
    info = np.einsum("gi,ij,ik->gjk", w, X, X)
    with np.errstate(all="ignore"):
        cov = np.linalg.inv(info)
    ok = np.asarray(converged & np.isfinite(beta).all(axis=1), dtype=bool)
    return np.asarray(beta, dtype=float), np.asarray(cov, dtype=float), ok


def _fit(p: _Panel, *, method: str, level: float, evaluation_year: int) -> _Fit:
    k = p.y.shape[1]
    G = p.y.shape[0]
    rate = p.n is not None
    r = p.y / p.n if p.n is not None else p.y
    rE = p.yE / p.nE if p.nE is not None else p.yE
    cb = p.c if p.c is not None else np.zeros_like(r)
    cE = p.cE if p.cE is not None else np.zeros(G)
    # sampling variances (binomial for rates, Poisson for counts)
    vE = rE * (1 - rE) / p.nE if p.nE is not None else np.asarray(p.yE, dtype=float)
    t = (p.base_years - p.base_years.mean()).astype(float)
    tE = float(evaluation_year - p.base_years.mean())
    q = 0.5 + level / 2
    dispersion = slope = None
    failed = np.zeros(G, dtype=bool)
    if method == "last":
        z_last = r[:, -1] - cb[:, -1]
        expected = z_last + cE
        v_last = r[:, -1] * (1 - r[:, -1]) / p.n[:, -1] if p.n is not None else p.y[:, -1]
        value = rE - expected
        var = vE + v_last
        se = np.sqrt(var)
        zq = float(stats.norm.ppf(q))
        lo, hi = value - zq * se, value + zq * se
        if rate:
            assert p.n is not None and p.nE is not None
            shift = cE - cb[:, -1]
            for g in range(G):
                a, b = newcombe_diff(
                    round(float(p.yE[g])), round(float(p.nE[g])),
                    round(float(p.y[g, -1])), round(float(p.n[g, -1])), level=level,
                )  # fmt: skip
                lo[g], hi[g] = a - shift[g], b - shift[g]
        df = np.full(G, np.inf)
        return _Fit(
            value, expected, rE, se, df, lo, hi, lo.copy(), hi.copy(), vE, v_last,
            np.full(G, np.nan), None, None, np.zeros(G, dtype=bool), failed,
        )  # fmt: skip
    if method in ("mean", "median", "trend"):
        z = r - cb
        if method == "trend":
            sxx = float((t**2).sum())
            zbar = z.mean(axis=1)
            slope = (z * t).sum(axis=1) / sxx
            fitted = zbar[:, None] + slope[:, None] * t[None, :]
            rdf = k - 2
            s2 = ((z - fitted) ** 2).sum(axis=1) / rdf
            zhat = zbar + slope * tE
            var_base = s2 * (1 / k + tE**2 / sxx)
        else:
            rdf = k - 1
            s2 = z.var(axis=1, ddof=1)
            if method == "mean":
                zhat = z.mean(axis=1)
                var_base = s2 / k
            else:
                zhat = np.median(z, axis=1)
                var_base = s2 * median_variance_factor(k) / k
        expected = zhat + cE
        sigma2 = s2
        var_eval = s2
        floored = s2 < vE / _SMOOTH
    else:  # glm
        off_b = np.zeros_like(r)
        off_E = np.zeros(G)
        if p.c is not None and p.cE is not None:
            if rate:
                off_b, off_E = np.log(p.c / (1 - p.c)), np.log(p.cE / (1 - p.cE))
            else:
                off_b, off_E = np.log(p.c), np.log(p.cE)
        beta, cov, conv = _glm_irls(t, p.y, p.n, off_b)
        failed = ~conv
        X = np.stack([np.ones_like(t), t], axis=1)
        eta = beta @ X.T + off_b
        if rate:
            assert p.n is not None
            mu = 1 / (1 + np.exp(-eta))
            x2 = ((p.y - p.n * mu) ** 2 / (p.n * mu * (1 - mu))).sum(axis=1)
        else:
            mu = np.exp(eta)
            x2 = ((p.y - mu) ** 2 / mu).sum(axis=1)
        rdf = k - 2
        phi_raw = x2 / rdf
        dispersion = phi_raw
        x0 = np.array([1.0, tE])
        etaE = beta @ x0 + off_E
        var_link = dispersion * np.einsum("j,gjk,k->g", x0, cov, x0)
        if rate:
            muE = 1 / (1 + np.exp(-etaE))
            dmu = muE * (1 - muE)
            var_eval = dispersion * muE * (1 - muE) / p.nE  # type: ignore[operator]
        else:
            muE = np.exp(etaE)
            dmu = muE
            var_eval = dispersion * muE
        expected = muE
        var_base = dmu**2 * var_link
        sigma2 = phi_raw
        slope = beta[:, 1]
        floored = phi_raw < 1 / _SMOOTH
    value = rE - expected
    var = var_eval + var_base
    se = np.sqrt(var)
    df = np.full(G, float(rdf))
    tq = float(stats.t.ppf(q, rdf))
    lo, hi = value - tq * se, value + tq * se
    # conditional interval: only the evaluation year's sampling variance + baseline uncertainty
    vc = vE + var_base
    with np.errstate(divide="ignore", invalid="ignore"):
        dfc = np.where(var_base > 0, vc**2 / (var_base**2 / rdf), np.inf)
    tc = stats.t.ppf(q, dfc)
    cond_lo, cond_hi = value - tc * np.sqrt(vc), value + tc * np.sqrt(vc)
    if failed.any():
        for a in (value, expected, se, lo, hi, cond_lo, cond_hi):
            a[failed] = np.nan
    return _Fit(
        value, expected, rE, se, df, lo, hi, cond_lo, cond_hi, var_eval, var_base,
        sigma2, dispersion, slope, floored, failed,
    )  # fmt: skip


def _p_values(fit: _Fit, method: str) -> FloatArray:
    """Two-sided p values of ``value = 0``: normal for ``"last"``, t with ``fit.df`` otherwise."""
    if method == "last":
        return np.asarray(2 * stats.norm.sf(np.abs(fit.value / fit.se)), dtype=float)
    return np.asarray(2 * stats.t.sf(np.abs(fit.value / fit.se), fit.df), dtype=float)


def _method(method: str, k: int, rate: bool, comparison: str | None) -> Message:
    """The catalogue message of the method, with its settings as parameters."""
    basis = method + ("_rate" if rate else "_count") if method in ("last", "glm") else method
    params: dict[str, Any] = {} if method == "last" else {"k": k}
    if comparison:
        params["comparison"] = comparison
    return Message(f"baseline.method.{basis}{'_adjusted' if comparison else ''}", params=params)


def _group_notices(fit: _Fit, g: int, *, method: str, k: int, horizon: int) -> list[Notice]:
    out: list[Notice] = []
    if method == "last":
        out.append(Notice("baseline.last_only", category=ShortSeriesWarning))
    elif k <= _SHORT[method]:
        out.append(
            Notice(
                "baseline.short_series",
                category=ShortSeriesWarning,
                params={"k": k, "df": int(fit.df[g])},
            )
        )
    if method in ("trend", "glm") and horizon > 1:
        out.append(
            Notice(
                "baseline.extrapolated",
                category=ExtrapolationWarning,
                params={"horizon": horizon},
            )
        )
    if fit.floored[g] and method != "last":
        out.append(Notice("baseline.too_smooth", category=PfsevalWarning))
    if fit.failed[g]:
        out.append(Notice("baseline.glm_failed", category=PfsevalWarning))
    return out


def _observed(
    p: _Panel, g: int, *, rate: bool, level: float, evaluation_year: int, label: str
) -> Estimate:
    """Group ``g``'s observed level in the evaluation year: a rate with the Wilson interval on
    the year's counts (R ``prop.test(x, n, correct = FALSE)``), or a count with the exact
    Poisson interval (R ``poisson.test(x)``)."""
    yE = float(p.yE[g])
    if rate:
        assert p.nE is not None
        nE = float(p.nE[g])
        lo, hi = wilson(yE, nE, level=level)  # type: ignore[arg-type]  # whole in practice
        value, code, n = yE / nE, "baseline.observed_rate_method", round(nE)
    else:
        a = 1 - level
        lo = 0.0 if yE == 0 else float(stats.chi2.ppf(a / 2, 2 * yE) / 2)
        hi = float(stats.chi2.ppf(1 - a / 2, 2 * yE + 2) / 2)
        value, code, n = yE, "baseline.observed_count_method", 1
    return Estimate(
        estimand="observed_rate" if rate else "observed_count",
        value=value,
        conf_low=lo,
        conf_high=hi,
        level=level,
        method=Message(code, params={"year": int(evaluation_year)}),
        n=n,
        label=label,
    )


# ---------------------------------------------------------------- one engine for 1 or G series


@dataclass
class GroupFits:
    """Every series of a long table fitted at once (one vectorised fit for all groups).

    The engine of :func:`compare` (one series), :func:`compare_many` (a table of all groups)
    and of a per-group evaluation of a baseline indicator (``by`` in a spec,
    :func:`pfseval.scale.evaluate_by`): :meth:`estimate` gives group ``g``'s
    :class:`~pfseval.result.Estimate`, the same as :func:`compare` on that group's rows.
    Build it with :func:`fit_groups`.
    """

    panel: _Panel
    fit: _Fit
    method: str
    level: float
    evaluation_year: int
    comparison: str | None
    rate: bool
    label: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> list[tuple[Any, ...]]:
        """The group keys, one tuple per group, in order of first appearance."""
        return self.panel.keys

    @property
    def k(self) -> int:
        return len(self.panel.base_years)

    @property
    def horizon(self) -> int:
        return int(self.evaluation_year - self.panel.base_years[-1])

    def notices(self, g: int) -> list[Notice]:
        """Group ``g``'s notices (short series, extrapolation, smooth baseline, GLM failure)."""
        return _group_notices(self.fit, g, method=self.method, k=self.k, horizon=self.horizon)

    def people(self) -> FloatArray:
        """Each group's people in the evaluation year: the denominator (people eligible) of a
        rate, the count itself of a count series (a group's size for ``min_cell``)."""
        p = self.panel
        return np.asarray(p.nE if p.nE is not None else p.yE, dtype=float)

    def estimate(self, g: int) -> Estimate:
        """Group ``g``'s estimate (a failed GLM gives NaN values and its notice)."""
        p, fit, method, level = self.panel, self.fit, self.method, self.level
        E = self.evaluation_year
        kk = self.k
        rate = self.rate
        nE = float(p.nE[g]) if p.nE is not None else 1.0
        p_val = float(_p_values(fit, method)[g])
        q = 0.5 + level / 2
        crit = float(stats.norm.ppf(q)) if method == "last" else float(stats.t.ppf(q, fit.df[g]))
        sd_base = math.sqrt(fit.var_base[g])
        expected = Estimate(
            estimand="expected_rate" if rate else "expected_count",
            value=fit.expected[g],
            conf_low=fit.expected[g] - crit * sd_base,
            conf_high=fit.expected[g] + crit * sd_base,
            level=level,
            method=Message("baseline.expected_method"),
            n=kk,
            std_error=sd_base,
        )
        additional = Estimate(
            estimand="additional_count",
            value=nE * fit.value[g],
            conf_low=nE * fit.lo[g],
            conf_high=nE * fit.hi[g],
            level=level,
            method=(
                Message(
                    "baseline.additional_rate_method",
                    params={"year": int(E)},
                    counts={"n_eligible": round(nE)},
                )
                if rate
                else Message("baseline.additional_count_method")
            ),
            n=kk + 1,
            std_error=nE * fit.se[g],
        )
        diag: dict[str, Any] = {
            "baseline_years": [int(v) for v in p.base_years],
            "evaluation_year": int(E),
            "k": kk,
            "observed": float(fit.observed[g]),
            "expected": float(fit.expected[g]),
            "df": float(fit.df[g]),
            "var_evaluation_year": float(fit.var_eval[g]),
            "var_baseline": float(fit.var_base[g]),
            "residual_variance": float(fit.sigma2[g]),
            "eligible_evaluation_year": nE if rate else None,
        }
        if fit.slope is not None:
            diag["slope_per_year"] = float(fit.slope[g])
        if fit.dispersion is not None:
            diag["dispersion"] = float(fit.dispersion[g])
        return Estimate(
            estimand="rate_difference" if rate else "count_difference",
            value=fit.value[g],
            conf_low=fit.lo[g],
            conf_high=fit.hi[g],
            level=level,
            method=_method(method, kk, rate, self.comparison),
            n=kk + 1,
            std_error=fit.se[g],
            p_value=p_val,
            intervals={"conditional": (fit.cond_lo[g], fit.cond_hi[g])},
            related={
                "additional_count": additional,
                "expected": expected,
                "observed": _observed(
                    p, g, rate=rate, level=level, evaluation_year=E, label=self.label
                ),
            },
            diagnostics=diag,
            notices=tuple(self.notices(g)),
            sample_flow=p.group_flow(g),
            provenance=self.provenance,
            label=self.label,
        )

    def frame(self, by: Sequence[str]) -> pd.DataFrame:
        """The table :func:`compare_many` returns (one row per group, ``by`` columns first)."""
        p, fit = self.panel, self.fit
        G = len(p.keys)
        nE = p.nE if p.nE is not None else np.ones(G)
        out = pd.DataFrame(p.keys, columns=list(by))
        cols: dict[str, Any] = {
            "value": fit.value,
            "conf_low": fit.lo,
            "conf_high": fit.hi,
            "level": self.level,
            "method": _method(self.method, self.k, self.rate, self.comparison).code,
            "n": self.k + 1,
            "notices": pd.Series([tuple(self.notices(g)) for g in range(G)], dtype=object),
            "std_error": fit.se,
            "p_value": _p_values(fit, self.method),
            "df": fit.df,
            "observed": fit.observed,
            "expected": fit.expected,
            "additional_count": nE * fit.value,
            "additional_count_low": nE * fit.lo,
            "additional_count_high": nE * fit.hi,
            "conditional_low": fit.cond_lo,
            "conditional_high": fit.cond_hi,
        }
        for name, v in cols.items():
            out[name] = v
        out.attrs["sample_flow"] = p.flow().to_dict()  # plain data: pandas deep-copies attrs
        return out

    def grouped_notices(self, groups: Sequence[int] | None = None) -> list[Notice]:
        """Each distinct notice of ``groups`` (default all) once, with the number of groups
        concerned (``<code>.groups``)."""
        chosen = range(len(self.panel.keys)) if groups is None else groups
        seen: dict[str, tuple[Notice, int]] = {}
        for g in chosen:
            for n in self.notices(g):
                first, cnt = seen.get(n.code, (n, 0))
                seen[n.code] = (first, cnt + 1)
        return [
            Notice(
                f"{code}.groups",
                category=n.category,
                params={**n.params, "n_groups": cnt, "n_all": len(chosen)},
            )
            for code, (n, cnt) in seen.items()
        ]


def fit_groups(
    series: pd.DataFrame,
    *,
    by: str | Sequence[str] = (),
    year: str,
    numerator: str,
    denominator: str | None = None,
    evaluation_year: int,
    method: Method = "trend",
    level: float = 0.95,
    k: int | None = None,
    comparison: str | None = None,
    baseline_end: int | None = None,
    label: str = "",
    context: str = "baseline.compare_many",
) -> GroupFits:
    """Validate a long table of series keyed by ``by`` (none: one series) and fit every group
    at once (closed-form OLS / a vectorised IRLS). Options as :func:`compare`.

    Examples
    --------
    >>> s = pd.DataFrame({"city": ["A"] * 4 + ["B"] * 4, "fy": [2017, 2018, 2019, 2020] * 2,
    ...                   "y": [50, 52, 51, 70, 200, 190, 210, 205], "n": [500] * 4 + [2000] * 4})
    >>> fits = fit_groups(s, by="city", year="fy", numerator="y", denominator="n",
    ...                   evaluation_year=2020, method="mean")
    >>> fits.keys, fits.people().tolist()
    ([('A',), ('B',)], [500.0, 2000.0])
    >>> round(fits.estimate(0).value, 4)
    0.038
    """
    check_options("baseline.compare", {"level": level}, where=context)
    by_cols = [by] if isinstance(by, str) else list(by)
    p = _prepare(
        series, by=by_cols, year=year, numerator=numerator, denominator=denominator,
        comparison=comparison, evaluation_year=evaluation_year, method=method, k=k,
        baseline_end=baseline_end, context=context,
    )  # fmt: skip
    fit = _fit(p, method=method, level=level, evaluation_year=evaluation_year)
    return GroupFits(
        panel=p,
        fit=fit,
        method=method,
        level=level,
        evaluation_year=int(evaluation_year),
        comparison=comparison,
        rate=denominator is not None,
        label=label,
        provenance=provenance(seed=None, data=series),
    )


# ---------------------------------------------------------------- public API


@validated("baseline.compare")
def compare(
    series: pd.DataFrame,
    *,
    year: str,
    numerator: str,
    denominator: str | None = None,
    evaluation_year: int,
    method: Method = "trend",
    level: float = 0.95,
    k: int | None = None,
    comparison: str | None = None,
    baseline_end: int | None = None,
    label: str = "",
) -> Estimate:
    """The evaluation year against the value expected from past years (one series).

    Parameters
    ----------
    series
        One row per year.
    year
        Column with the (fiscal) year.
    numerator, denominator
        Columns with e.g. people screened and people eligible (the rate is their ratio);
        ``denominator=None`` analyses ``numerator`` as counts, which must be whole
        numbers ≥ 0 (a rate needs its denominator column).
    evaluation_year
        The year of the programme to evaluate.
    method
        How the expected value is built from the baseline years: ``"last"`` (last year),
        ``"mean"``, ``"median"`` (of the past ``k`` years), ``"trend"`` (OLS line, extrapolated,
        as R ``predict(lm, interval = "prediction")``), ``"glm"`` (binomial logit for rates,
        Poisson log for counts, with quasi-likelihood dispersion as R's quasi families).
    level
        Confidence level.
    k
        Number of baseline years (the ``k`` years ending at ``baseline_end``); default all
        years available up to ``baseline_end`` (1 for ``"last"``).
    comparison
        Column with an external series (e.g. national rate) for every year used, on the same
        scale as the series; removes an external trend (see the module notes).
    baseline_end
        Last baseline year (default ``evaluation_year − 1``), e.g. to skip a programme's
        first year.
    label
        Display name of the indicator.

    Returns
    -------
    Estimate
        ``estimand`` is ``"rate_difference"`` or ``"count_difference"``; ``related`` holds
        ``"additional_count"`` (eligible × rate difference, or the count difference),
        ``"expected"`` (the counterfactual expected value with its confidence interval) and
        ``"observed"`` (the evaluation year's observed rate with its Wilson interval, or its
        count with the exact Poisson interval: what a contract paying on the level itself
        uses); ``intervals["conditional"]`` is described in the module notes. ``n`` is the
        number of years analysed; ``notices`` are the warnings as data.

    Examples
    --------
    >>> s = pd.DataFrame({"fy": range(2015, 2021),
    ...                   "screened": [1700, 1745, 1790, 1856, 1870, 2150],
    ...                   "eligible": [10000] * 6})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 5 baseline years: ShortSeriesWarning
    ...     warnings.simplefilter("ignore")
    ...     est = compare(s, year="fy", numerator="screened", denominator="eligible",
    ...                   evaluation_year=2020)
    >>> round(est.value, 4), round(est.related["additional_count"].value)
    (0.0222, 222)
    >>> bool(est.conf_low > 0)
    True
    >>> obs = est.related["observed"]  # the 2020 rate itself, Wilson interval
    >>> round(obs.value, 3), round(obs.conf_low, 4), round(obs.conf_high, 4)
    (0.215, 0.2071, 0.2232)
    """
    fits = fit_groups(
        series, year=year, numerator=numerator, denominator=denominator,
        evaluation_year=evaluation_year, method=method, level=level, k=k,
        comparison=comparison, baseline_end=baseline_end, label=label,
        context="baseline.compare",
    )  # fmt: skip
    if fits.fit.failed[0]:
        raise ConvergenceError(
            "baseline.compare: the GLM trend did not converge. Fix: try method='trend'"
        )
    est = fits.estimate(0)
    emit_warnings(est.notices, stacklevel=4)
    return est


def compare_many(
    series: pd.DataFrame,
    *,
    by: str | Sequence[str],
    year: str,
    numerator: str,
    denominator: str | None = None,
    evaluation_year: int,
    method: Method = "trend",
    level: float = 0.95,
    k: int | None = None,
    comparison: str | None = None,
    baseline_end: int | None = None,
) -> pd.DataFrame:
    """:func:`compare` for many series at once (e.g. every municipality), vectorised.

    The series is a long table keyed by ``by``; every group needs every year of the baseline
    window and the evaluation year (otherwise a :class:`~pfseval.errors.DataValidationError`
    names the groups and years). All groups are fitted together with closed-form OLS / a
    vectorised IRLS, not one model per group: the engine (:func:`fit_groups`) is the one a
    baseline indicator with ``by`` runs its groups through (:func:`pfseval.scale.evaluate_by`),
    and this table is its summary in columns.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, ``value``, ``conf_low``, ``conf_high``,
        ``level``, ``method`` (the catalogue code of the method), ``n`` (years analysed),
        ``notices`` (tuple of :class:`~pfseval.messages.Notice`), and
        ``std_error``, ``p_value``, ``df``, ``observed``, ``expected``, ``additional_count``,
        ``additional_count_low``, ``additional_count_high``, ``conditional_low``,
        ``conditional_high``. Distinct warnings are also issued once each (with the number of
        groups concerned). ``out.attrs["sample_flow"]`` (``SampleFlow.to_dict()``) accounts
        for every input row.

    Examples
    --------
    >>> s = pd.DataFrame({"city": ["A"] * 4 + ["B"] * 4, "fy": [2017, 2018, 2019, 2020] * 2,
    ...                   "y": [50, 52, 51, 70, 200, 190, 210, 205], "n": [500] * 4 + [2000] * 4})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 3 baseline years: ShortSeriesWarning
    ...     warnings.simplefilter("ignore")
    ...     out = compare_many(s, by="city", year="fy", numerator="y", denominator="n",
    ...                        evaluation_year=2020, method="mean")
    >>> out[["city", "n"]].to_dict("list")
    {'city': ['A', 'B'], 'n': [4, 4]}
    >>> [round(v, 4) for v in out["value"]]
    [0.038, 0.0025]
    """
    by_cols = [by] if isinstance(by, str) else list(by)
    if not by_cols:
        raise DesignError("compare_many needs at least one 'by' column. Fix: name the group column")
    fits = fit_groups(
        series, by=by_cols, year=year, numerator=numerator, denominator=denominator,
        evaluation_year=evaluation_year, method=method, level=level, k=k,
        comparison=comparison, baseline_end=baseline_end,
    )  # fmt: skip
    out = fits.frame(by_cols)
    # each distinct notice once, with the number of groups concerned
    emit_warnings(fits.grouped_notices(), stacklevel=3)
    return out


# ---------------------------------------------------------------- the design contract

_DIAGNOSTICS = declare_diagnostics(
    Diagnostic("baseline_years", "setting", {"ja": "基準年度", "en": "baseline years"}),
    Diagnostic("evaluation_year", "setting", {"ja": "評価年度", "en": "evaluation year"}),
    Diagnostic("k", "count", {"ja": "基準年数", "en": "baseline years (k)"}),
    Diagnostic(
        "observed", "statistic", {"ja": "評価年度の観測値", "en": "observed, evaluation year"}
    ),
    Diagnostic("expected", "statistic", {"ja": "見込み値", "en": "expected value"}),
    Diagnostic(
        "var_evaluation_year",
        "statistic",
        {"ja": "評価年度の分散", "en": "variance of the evaluation year"},
    ),
    Diagnostic(
        "var_baseline",
        "statistic",
        {"ja": "見込み値の分散", "en": "variance of the expected value"},
    ),
    Diagnostic(
        "residual_variance",
        "statistic",
        {"ja": "基準期間の残差分散", "en": "residual variance of the baseline years"},
    ),
    Diagnostic(
        "eligible_evaluation_year",
        "people",
        {"ja": "評価年度の対象者数", "en": "eligible in the evaluation year"},
    ),
    Diagnostic("slope_per_year", "statistic", {"ja": "年あたりの傾き", "en": "slope per year"}),
    Diagnostic("dispersion", "statistic", {"ja": "過分散パラメータ", "en": "dispersion"}),
)

_C = COMMON_OPTIONS

register(
    DesignSpec(
        name="baseline.compare",
        function="pfseval.designs.baseline:compare",
        input="series",
        person_level=False,
        options=(
            Option("year", "column", required=True, label={"ja": "年度の列", "en": "year column"}),
            Option(
                "numerator",
                "column",
                required=True,
                label={"ja": "分子（人数・件数）の列", "en": "numerator column"},
            ),
            Option(
                "denominator",
                "column",
                nullable=True,
                label={"ja": "分母（対象者数）の列", "en": "denominator column"},
            ),
            Option(
                "evaluation_year",
                "int",
                required=True,
                low=1900,
                high=2200,
                label={"ja": "評価年度", "en": "evaluation year"},
            ),
            Option(
                "method",
                "choice",
                choices=METHODS,
                label={"ja": "見込み値の求め方", "en": "baseline method"},
            ),
            _C["level"],
            Option(
                "k",
                "int",
                low=1,
                high=100,
                nullable=True,
                label={"ja": "基準年数", "en": "baseline years (k)"},
            ),
            Option(
                "comparison",
                "column",
                nullable=True,
                label={"ja": "比較系列の列", "en": "comparison series column"},
            ),
            Option(
                "baseline_end",
                "int",
                low=1900,
                high=2200,
                nullable=True,
                label={"ja": "基準期間の最終年度", "en": "last baseline year"},
            ),
            _C["label"],
        ),
        title={
            "en": "Comparison with past years (historical baseline)",
            "ja": "既存データとの比較",
        },
        description={
            "en": "The evaluation year's rate (or count) is compared with the value expected "
            "from past years: the last year, the mean or median of several years, or a trend "
            "extrapolated to the evaluation year. The indicator is the difference; the "
            "observed level itself and the additional number of people are also reported.",
            "ja": "評価年度の率（または件数）を、過去の年度から見込まれる値（前年の値、"
            "複数年の平均・中央値、または評価年度まで延長したトレンド）と比較します。"
            "指標はその差で、観測された値そのものと増えた人数もあわせて示します。",
        },
        assumptions={
            "en": (
                "The evaluation year is compared with the value expected from past years. "
                "This assumes that without the programme the past pattern would have "
                "continued; external changes in the same year bias the comparison unless "
                "a comparison series adjusts for them."
            ),
            "ja": (
                "評価年度の値を過去の推移から見込まれる値と比較します。事業がなければ過去の"
                "傾向が続いたと仮定しており、同じ年に起きた外部の変化は比較系列で調整しない"
                "限り偏りとなります。"
            ),
        },
        diagnostics=(*_DIAGNOSTICS, "df"),
        figures=("trend",),
        related=("additional_count", "expected", "observed"),
    )
)
