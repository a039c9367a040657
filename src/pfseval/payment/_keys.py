"""Reading contract tables with errors that name the key path (internal helpers)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from pfseval.errors import ContractError

__all__ = ["Reader", "load_toml"]


def load_toml(path: str | Path, *, error: type[ContractError] = ContractError) -> dict[str, Any]:
    """Read a TOML file; a syntax error is ``error`` at key path ``(file)`` naming the file."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise error("(file)", f"not valid TOML: {e}", file=str(p)) from e


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return f"the number {v!r}"
    if isinstance(v, str):
        return f"the string {v!r}"
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, Sequence):
        return "an array"
    return f"a {type(v).__name__}"


class Reader:
    """Validating accessors bound to one key path and one source file."""

    def __init__(self, path: str, file: str = "") -> None:
        self.path = path
        self.file = file

    def at(self, key: str | int) -> Reader:
        """The reader for a sub-key (``.key``) or an array element (``[i]``)."""
        if isinstance(key, int):
            sub = f"{self.path}[{key}]"
        else:
            sub = f"{self.path}.{key}" if self.path else key
        return Reader(sub, self.file)

    def fail(self, message: str) -> NoReturn:
        raise ContractError(self.path or "(top level)", message, file=self.file)

    # -- structure -------------------------------------------------------------
    def table(self, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(f"expected a table, got {_kind(value)}. Fix: write it as a TOML table.")
        return value

    def keys(
        self, d: Mapping[str, Any], *, required: Collection[str], optional: Collection[str]
    ) -> None:
        """Check that ``d`` has every required key and no unknown key (typos are errors)."""
        for k in required:
            if k not in d:
                self.at(k).fail(f"required key {k!r} is missing. Fix: add `{k} = ...`.")
        allowed = set(required) | set(optional)
        for k in d:
            if k not in allowed:
                self.at(k).fail(
                    f"unknown key {k!r}. Allowed keys here: {', '.join(sorted(allowed))}. "
                    "Fix: correct the spelling or remove the key."
                )

    def array(self, value: Any, *, min_len: int = 0) -> Sequence[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            self.fail(f"expected an array, got {_kind(value)}. Fix: write it as [ ... ].")
        if len(value) < min_len:
            self.fail(f"expected at least {min_len} entries, got {len(value)}.")
        return value

    # -- scalars -----------------------------------------------------------------
    def number(
        self,
        value: Any,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
        what: str = "value",
    ) -> float:
        """A finite int or float (booleans are rejected), optionally within bounds."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{what} must be a number, got {_kind(value)}. Fix: write a plain number.")
        if not math.isfinite(value):
            self.fail(f"{what} must be finite, got {value!r}.")
        if positive and value <= 0:
            self.fail(f"{what} must be greater than 0, got {value!r}.")
        if minimum is not None and value < minimum:
            self.fail(f"{what} must be at least {minimum:g}, got {value!r}.")
        if maximum is not None and value > maximum:
            self.fail(f"{what} must be at most {maximum:g}, got {value!r}.")
        return value

    def string(self, value: Any, *, choices: Collection[str] | None = None) -> str:
        if not isinstance(value, str):
            self.fail(f"expected a string, got {_kind(value)}. Fix: quote the text.")
        if choices is not None and value not in choices:
            self.fail(
                f"unknown value {value!r}. Allowed: {', '.join(repr(c) for c in choices)}. "
                "Fix: use one of the allowed values."
            )
        return value

    def opt_number(self, t: Mapping[str, Any], key: str, **kw: Any) -> float | None:
        """``t[key]`` checked by :meth:`number` (named ``key`` in messages); None when absent."""
        return self.at(key).number(t[key], what=key, **kw) if key in t else None

    def opt_string(
        self, t: Mapping[str, Any], key: str, *, choices: Collection[str] | None = None
    ) -> str | None:
        """``t[key]`` checked by :meth:`string`; None when absent."""
        return self.at(key).string(t[key], choices=choices) if key in t else None

    def boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail(f"expected true or false, got {_kind(value)}.")
        return value

    def pairs(self, value: Any, *, second: str) -> list[tuple[float, float]]:
        """An array of ``[threshold, second]`` number pairs with strictly increasing thresholds."""
        rows = self.array(value, min_len=1)
        out: list[tuple[float, float]] = []
        for i, row in enumerate(rows):
            r = self.at(i)
            pair = r.array(row)
            if len(pair) != 2:
                r.fail(f"expected a pair [threshold, {second}], got {len(pair)} entries.")
            x = r.number(pair[0], what="threshold")
            y = r.number(pair[1], what=second)
            if out and x <= out[-1][0]:
                r.fail(
                    f"threshold {x:g} is not greater than the previous threshold "
                    f"{out[-1][0]:g}; thresholds must be strictly increasing. "
                    "Fix: sort the rows by threshold and remove duplicates."
                )
            out.append((x, y))
        return out
