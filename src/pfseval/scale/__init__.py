"""National scale: out-of-core cohort extracts with DuckDB and distributed runs on Dask.

* :func:`extract_cohort` (:mod:`pfseval.scale.extract`) — the declarative cohort filters and
  the baseline → follow-up year linkage compiled to SQL over Parquet (or UTF-8 CSV) files;
  the sample-flow counts come from the same queries and only the selected cohort's analysed
  columns reach pandas.
* :func:`evaluate_by` (:mod:`pfseval.scale.groups`) — one evaluation per group (municipality,
  insurer, ...) plus a summary table, locally or on a Dask cluster with identical results.
* :func:`connect` (:mod:`pfseval.scale.distributed`) — a Dask client for ``--cluster ADDRESS``
  (or a local cluster), and :func:`on_cluster`, which sends bootstrap chunks and groups to it.

This layer sits between the designs and :mod:`pfseval.batch` and never imports the latter.

See ``docs/scale.md`` for when to use which engine and how to deploy a cluster.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pfseval.scale.distributed import cluster_session, connect, on_cluster
    from pfseval.scale.extract import CohortExtract, extract_cohort
    from pfseval.scale.groups import GroupedEvaluation, evaluate_by, group_seed, plot_groups

__all__ = [
    "CohortExtract",
    "GroupedEvaluation",
    "cluster_session",
    "connect",
    "evaluate_by",
    "extract_cohort",
    "group_seed",
    "on_cluster",
    "plot_groups",
]

# duckdb and dask load only when used (PEP 562), so `import pfseval.scale` costs nothing.
_HOME = {
    "CohortExtract": "pfseval.scale.extract",
    "extract_cohort": "pfseval.scale.extract",
    "GroupedEvaluation": "pfseval.scale.groups",
    "evaluate_by": "pfseval.scale.groups",
    "group_seed": "pfseval.scale.groups",
    "plot_groups": "pfseval.scale.groups",
    "cluster_session": "pfseval.scale.distributed",
    "connect": "pfseval.scale.distributed",
    "on_cluster": "pfseval.scale.distributed",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'pfseval.scale' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value
