"""Shared pieces of the synthetic generators: the dataset type and small numeric helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from pfseval.errors import PfsevalError
from pfseval.io.clinical import egfr_jsn

__all__ = ["GENERATOR_VERSION", "SyntheticDataset", "SyntheticOptionError", "within_ranges"]

#: Bumped whenever a generator's output for a given seed changes.
GENERATOR_VERSION = "1"


class SyntheticOptionError(PfsevalError):
    """An option of a synthetic-data generator is out of its range (the message names it)."""


def within_ranges(frame: pd.DataFrame) -> pd.DataFrame:
    """Clip every numeric vocabulary column to the vocabulary's range, in place.

    The generators already draw plausible values; this guarantees, at any population size,
    that nothing they write is rejected by :func:`pfseval.io.validate_checkups` (a tail
    draw of a large population can leave a range). Integer columns stay integers.

    Examples
    --------
    >>> within_ranges(pd.DataFrame({"weight": [24.9, 60.0]}))["weight"].tolist()
    [25.0, 60.0]
    """
    from pfseval.io.vocabulary import VOCABULARY

    for col in frame.columns:
        v = VOCABULARY.get(col)
        if v is None or not v.numeric or v.low is None or v.high is None:
            continue
        if pd.api.types.is_numeric_dtype(frame[col].dtype) and not pd.api.types.is_bool_dtype(
            frame[col].dtype
        ):
            lo, hi = v.low, v.high
            if pd.api.types.is_integer_dtype(frame[col].dtype):
                lo, hi = int(np.ceil(lo)), int(np.floor(hi))
            frame[col] = frame[col].clip(lo, hi)
    return frame


@dataclass(frozen=True)
class SyntheticDataset:
    """A synthetic dataset with the truth it was generated from.

    Attributes
    ----------
    name
        Short identifier (``"kobe"``, ``"rct"``, ``"prepost"``, ``"screening"``, ...).
    data
        The main table, one row per analysis unit.
    truth
        The true effect(s) and every parameter of the data-generating process (read-only).
    description
        One paragraph in plain words: what the data are and how they were made.
    columns
        Column name -> description (with units) for every column of ``data``.
    tables
        Further tables belonging to the dataset (e.g. the national comparison series of
        :func:`~pfseval.synthetic.screening_series`, or the per-year extracts of
        :func:`~pfseval.synthetic.kobe_from_population`). Empty for most datasets.

    Examples
    --------
    >>> ds = SyntheticDataset("x", pd.DataFrame({"a": [1]}), {"effect": 1.0}, "toy", {"a": "a"})
    >>> ds.truth["effect"]
    1.0
    """

    name: str
    data: pd.DataFrame
    truth: Mapping[str, Any]
    description: str
    columns: Mapping[str, str]
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "truth", MappingProxyType(dict(self.truth)))
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))
        missing = [c for c in self.data.columns if c not in self.columns]
        if missing:
            raise ValueError(f"dataset {self.name!r}: columns {missing} have no description")


# ---------------------------------------------------------------- numeric helpers


def expit(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def calibrate_intercept(lin: np.ndarray, target: float, *, iterations: int = 60) -> float:
    """Intercept ``a`` such that ``sum(expit(a + lin)) == target`` (bisection; monotone)."""
    lo, hi = -40.0, 40.0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if expit(mid + lin).sum() < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def jsn_egfr(creatinine: np.ndarray, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """JSN eGFR ``194 × Cr^-1.094 × age^-0.287`` (× 0.739 for women): :func:`pfseval.io.egfr_jsn`."""
    return np.asarray(
        egfr_jsn(np.asarray(creatinine, float), np.asarray(age, float), np.asarray(sex)),
        dtype=float,
    )


def jsn_creatinine(egfr: np.ndarray, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Serum creatinine (mg/dL) that gives ``egfr`` by the JSN equation (its inverse).

    ``Cr = (eGFR / (194 × age^-0.287 × f))^(-1/1.094)`` with ``f = 0.739`` for women.
    """
    f = np.where(sex == 2, 0.739, 1.0)
    return np.power(egfr / (194.0 * np.power(age, -0.287) * f), -1.0 / 1.094)


def creatinine_and_egfr(
    egfr_latent: np.ndarray, age: np.ndarray, sex: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lab-style values: creatinine to 2 decimals and the eGFR computed from it, to 1 decimal."""
    cr = np.round(jsn_creatinine(egfr_latent, age, sex), 2)
    cr = np.maximum(cr, 0.2)
    return cr, np.round(jsn_egfr(cr, age, sex), 1)


def dipstick_from_latent(z: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """Ordinal dipstick grade 0..len(cuts) from a latent score and increasing cut points."""
    return np.searchsorted(np.asarray(cuts), z, side="right").astype(np.int64)


def nan_where(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Float copy of ``x`` with NaN where ``mask`` is true."""
    out = np.asarray(x, dtype=float).copy()
    out[mask] = np.nan
    return out


def person_ids(prefix: str, n: int, *, width: int = 7) -> np.ndarray:
    """Anonymised ids ``prefix`` + zero-padded serial number (as an object array of str)."""
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
