"""Per-group spec evaluations (``by``), and equality of a Dask LocalCluster run with a local run."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pfseval.batch import load_spec, run_spec
from pfseval.designs.proportion import rate
from pfseval.errors import SpecError
from pfseval.inference.bootstrap import bootstrap_draws
from pfseval.scale.distributed import on_cluster
from pfseval.scale.groups import evaluate_by, group_seed

SPEC = """
[evaluation]
title = "per municipality"
seed = 11

[data.people]
path = "people.csv"

[[indicators]]
id = "lifestyle"
design = "proportion.mean_of_rates"
data = "people"
by = "{by}"
options = {{ outcomes = ["diet", "exercise"], n_boot = 200 }}

[[indicators]]
id = "completion"
design = "proportion.rate"
data = "people"
by = "{by}"
options = {{ outcome = "completed" }}
"""


def _spec(tmp_path: Path, by: str = "municipality") -> Path:
    rng = np.random.default_rng(3)
    n = 240
    muni = np.repeat(["28100", "28201", "28202", "28203"], [100, 80, 54, 6])
    df = pd.DataFrame(
        {
            "person_id": [f"p{i:04d}" for i in range(n)],
            "municipality": muni,
            "diet": rng.integers(0, 2, n),
            "exercise": rng.integers(0, 2, n),
            "completed": (rng.random(n) < np.where(muni == "28100", 0.9, 0.6)).astype(int),
        }
    )
    df.to_csv(tmp_path / "people.csv", index=False)
    (tmp_path / "spec.toml").write_text(SPEC.format(by=by), encoding="utf-8")
    return tmp_path / "spec.toml"


def _summary(run: Any) -> dict[str, Any]:
    return {
        k: (e.value, e.conf_low, e.conf_high, e.n, e.diagnostics["by_group"])
        for k, e in run.estimates.items()
    }


def test_per_group_spec(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path))
    run = run_spec(spec)
    people = pd.read_csv(tmp_path / "people.csv", dtype={"municipality": str})
    comp = run.estimates["completion"]
    assert comp.value == pytest.approx(people["completed"].mean())  # the whole cohort
    records = comp.diagnostics["by_group"]
    assert [r["group"] for r in records] == ["28100", "28201", "28202", "28203"]
    for row in records:
        sub = people.loc[people["municipality"] == row["group"], "completed"]
        if len(sub) < 10:  # published output never shows a cell under 10
            assert row["suppressed"] and row["n"] is None and row["value"] is None
        else:
            want = rate(sub.to_frame(), outcome="completed")
            assert row["value"] == pytest.approx(sub.mean(), abs=1e-15)
            assert (row["conf_low"], row["conf_high"]) == pytest.approx(
                (want.conf_low, want.conf_high), abs=1e-15
            )
            assert row["n"] == len(sub)
    assert "by_group" in run.results()["indicators"]["completion"]["diagnostics"]
    assert run.figure_data["completion"]["groups"]["suppressed"].sum() == 1
    # the same spec again: same numbers (group seeds come from the seed and the group value)
    assert _summary(run_spec(spec)) == _summary(run)


def test_by_must_name_a_column(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"indicators\[0\]\.by"):
        load_spec(_spec(tmp_path, by="prefecture"))


def test_group_seed_depends_on_the_value_only() -> None:
    df = pd.DataFrame({"g": ["b"] * 12 + ["a"] * 15, "completed": [1, 0, 1] * 9})
    seen: dict[str, int | None] = {}

    def evaluate(frame: pd.DataFrame, seed: int | None) -> Any:
        seen[str(frame["g"].iloc[0])] = seed
        return rate(frame, outcome="completed")

    res = evaluate_by(df, by="g", evaluate=evaluate, seed=5)
    assert seen == {"a": group_seed(5, "a"), "b": group_seed(5, "b")}
    assert res.table["group"].tolist() == ["a", "b"]
    assert res.sample_flow.n_analysed() == 27


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_local_cluster_run_equals_local_run(tmp_path: Path, client: Any) -> None:
    spec = load_spec(_spec(tmp_path))
    from dask.distributed import get_task_stream

    local = run_spec(spec, n_jobs=1)
    with on_cluster(client), get_task_stream(client) as stream:
        remote = run_spec(spec, n_jobs=2)  # bootstrap chunks and groups on the workers
    assert _summary(remote) == _summary(local)
    assert len(client.scheduler_info()["workers"]) == 2
    # the groups really ran on the workers (one task per group of each indicator)
    ran = [str(t["key"]) for t in stream.data]
    assert sum("_run_one" in k for k in ran) == 6


def test_bootstrap_on_cluster_equals_local(client: Any) -> None:
    stat = operator.methodcaller("standard_normal")
    local = bootstrap_draws(stat, n_boot=700, seed=3, n_jobs=1)
    with on_cluster(client):
        remote = bootstrap_draws(stat, n_boot=700, seed=3, n_jobs=2)
    np.testing.assert_array_equal(remote, local)


def test_cli_run_on_a_cluster(tmp_path: Path, client: Any) -> None:
    import json

    from click.testing import CliRunner

    from pfseval.cli import cli

    spec_path = _spec(tmp_path)
    address = client.scheduler.address
    res = CliRunner().invoke(
        cli,
        ["run", str(spec_path), "--out", str(tmp_path / "out"), "--cluster", address, "--quiet"],
    )
    assert res.exit_code == 0, res.output
    (results,) = (tmp_path / "out").rglob("results.json")
    got = json.loads(results.read_text(encoding="utf-8"))["indicators"]
    want = run_spec(load_spec(spec_path)).results()["indicators"]
    for k in ("lifestyle", "completion"):
        assert got[k]["value"] == want[k]["value"]
        assert got[k]["diagnostics"]["by_group"] == want[k]["diagnostics"]["by_group"]
    assert client.status == "running"  # the CLI closed only its own connection


def test_group_figure(tmp_path: Path) -> None:
    df = pd.DataFrame({"g": ["b"] * 12 + ["a"] * 15 + ["c"] * 3, "completed": [1, 0, 1] * 10})
    res = evaluate_by(df, by="g", evaluate=_completion, seed=None)
    fig = res.figure(title="completion")
    ticks = {t.get_text(): t.get_position()[1] for t in fig.axes[0].get_yticklabels()}
    assert set(ticks) == {"a", "b", "c (not shown)"}
    assert ticks["a"] > ticks["b"] > ticks["c (not shown)"]  # first group on top
    assert res.sample_flow.n_analysed() == 27


def _completion(frame: pd.DataFrame, seed: int | None) -> Any:
    return rate(frame, outcome="completed")
