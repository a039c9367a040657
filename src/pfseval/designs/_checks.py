"""Moved to :mod:`pfseval.checks` (io/ must not import designs/); kept while design modules
switch their imports."""

from pfseval.checks import fresh_seed, numeric_column, require_columns

__all__ = ["fresh_seed", "numeric_column", "require_columns"]
