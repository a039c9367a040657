"""Shared fixtures of the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kobe_appendix(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The Kobe example spec on a small synthetic candidate pool (bootstrap shortened), run
    and written once: (output folder, run)."""
    from pfseval.batch import load_spec, run_spec, write_outputs
    from pfseval.synthetic import kobe_programme

    d = tmp_path_factory.mktemp("example")
    (d / "data").mkdir()
    kobe_programme(seed=3, n_pool=1200, n_participants=110).data.to_csv(
        d / "data" / "kobe.csv", index=False
    )
    spec = (ROOT / "examples" / "kobe_evaluation" / "spec.toml").read_text(encoding="utf-8")
    spec = spec.replace(
        "../contracts/kobe.toml", (ROOT / "examples/contracts/kobe.toml").as_posix()
    )
    spec = spec.replace("n_boot = 2000", "n_boot = 200")
    (d / "spec.toml").write_text(spec, encoding="utf-8")
    run = run_spec(load_spec(d / "spec.toml"))
    write_outputs(run, d / "out")
    return d / "out", run
