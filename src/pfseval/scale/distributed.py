"""Runs on a Dask distributed cluster: specs, per-group evaluations and bootstrap chunks.

``pfseval run SPEC... --cluster ADDRESS`` connects to a Dask scheduler (``tcp://host:8786``;
``local`` starts a :class:`~dask.distributed.LocalCluster` on this machine) and, inside
:func:`on_cluster`:

* per-group evaluations (:func:`pfseval.scale.evaluate_by`, the spec's ``by``) run one group per
  task on the workers;
* bootstraps run their chunks on the workers through joblib's Dask backend (chunk seeds are
  spawned from the evaluation's seed before any chunk runs, so the draws are those of a local
  run whatever the number of workers).

The client keeps the spec, the data sources, the contract, the output folders and everything
that is written; workers receive the data they compute on (a group's rows, a bootstrap's
inputs). Results are identical to a local run; ``tests/test_scale_distributed.py`` checks it on
a two-process local cluster.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

__all__ = ["cluster_session", "connect", "current_client", "on_cluster"]

_CLIENT: contextvars.ContextVar[Any] = contextvars.ContextVar("pfseval_dask_client", default=None)


def connect(address: str = "local", *, n_workers: int = 2, threads_per_worker: int = 1) -> Any:
    """A Dask client: ``"local"`` starts a local cluster of worker processes; anything else
    is a scheduler address (``tcp://10.0.0.5:8786``).

    Parameters
    ----------
    address
        Scheduler address, or ``"local"``.
    n_workers, threads_per_worker
        Size of a local cluster (ignored for an address).

    Returns
    -------
    dask.distributed.Client
        Close it (``client.close()``; a local cluster with ``client.cluster.close()``) when
        done, or use it as a context manager.
    """
    from dask.distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            dashboard_address=None,
        )
        return Client(cluster)
    return Client(address)


def current_client() -> Any:
    """The client of the enclosing :func:`on_cluster` block, or ``None``."""
    return _CLIENT.get()


@contextlib.contextmanager
def on_cluster(client: Any) -> Iterator[Any]:
    """Run pfseval's parallel work on ``client``'s cluster within the block.

    Per-group evaluations of specs, and bootstraps called with ``n_jobs`` above 1 (e.g. the
    cluster's number of worker threads), go to the workers (joblib's Dask backend); everything
    else runs here.
    """
    import joblib

    token = _CLIENT.set(client)
    try:
        with (
            joblib.parallel_backend("dask", client=client)
            if client is not None
            else (contextlib.nullcontext())
        ):
            yield client
    finally:
        _CLIENT.reset(token)


@contextlib.contextmanager
def cluster_session(address: str) -> Iterator[Any]:
    """Connect to ``address`` (or start a local cluster for ``"local"``), run the block
    :func:`on_cluster`, then close the client (and a local cluster)."""
    client = connect(address)
    try:
        with on_cluster(client):
            yield client
    finally:
        cluster = client.cluster if address == "local" else None
        client.close()
        if cluster is not None:
            cluster.close()
