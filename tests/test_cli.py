"""`pfseval run`, `pfseval validate` and `pfseval demo` (argument handling, exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pfseval.cli import cli

ROOT = Path(__file__).resolve().parents[1]

SPEC = """
[evaluation]
seed = 3
[data.people]
path = "people.csv"
[[indicators]]
id = "completion_rate"
label = {{ ja = "修了率", en = "Completion rate" }}
design = "proportion.rate"
data = "people"
options = {{ outcome = "{outcome}" }}
[report]
lang = "ja"
"""


@pytest.fixture
def specs(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    pd.DataFrame(
        {"person_id": [f"C{i:03d}" for i in range(60)], "completed": rng.integers(0, 2, 60)}
    ).to_csv(tmp_path / "people.csv", index=False)
    good = tmp_path / "good.toml"
    good.write_text(SPEC.format(outcome="completed"), encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.format(outcome="finished"), encoding="utf-8")
    return good, bad


def test_validate(specs: tuple[Path, Path]) -> None:
    good, bad = specs
    r = CliRunner().invoke(cli, ["validate", str(good)])
    assert r.exit_code == 0 and "valid" in r.output
    r = CliRunner().invoke(cli, ["validate", str(good), str(bad)])
    assert r.exit_code == 1
    assert "indicators[0].options.outcome" in r.output and str(bad) in r.output


def test_run_several_specs_one_failing(specs: tuple[Path, Path], tmp_path: Path) -> None:
    good, bad = specs
    out = tmp_path / "out"
    r = CliRunner().invoke(
        cli, ["run", str(bad), str(good), "--out", str(out), "--quiet", "--lang", "en"]
    )
    assert r.exit_code == 1
    assert "FAILED" in r.output and "1 of 2 spec(s) succeeded" in r.output
    assert not (out / "bad").exists()  # nothing partial that looks finished
    res = json.loads((out / "good" / "results.json").read_text(encoding="utf-8"))
    assert res["report"]["lang"] == "en"
    assert (out / "good" / "appendix.html").is_file()


def test_run_seed_override_and_single_spec_folder(specs: tuple[Path, Path], tmp_path: Path) -> None:
    good, _ = specs
    out = tmp_path / "single"
    r = CliRunner().invoke(cli, ["run", str(good), "--out", str(out), "--seed", "99", "--quiet"])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["provenance"]["seed"] == 99
    assert "1 of 1 spec(s) succeeded" in r.output


def test_run_requires_out(specs: tuple[Path, Path]) -> None:
    r = CliRunner().invoke(cli, ["run", str(specs[0])])
    assert r.exit_code == 2 and "--out" in r.output


def test_example_specs_are_valid_against_demo_data(tmp_path: Path) -> None:
    """The shipped examples validate (files, columns, options, contract) on synthetic data."""
    from pfseval.batch import EXAMPLES, example_spec, load_spec
    from pfseval.synthetic import write_all

    write_all(tmp_path / "data", seed=1, persons=3000)
    kobe = load_spec(example_spec(), data_dir=tmp_path)
    assert [i.id for i in kobe.indicators] == [
        "completion_rate",
        "lifestyle_improvement_rate",
        "suppression_rate",
    ]
    assert (
        kobe.data["checkups"].linked
        and kobe.contract_file == (ROOT / "examples" / "contracts" / "kobe.toml").resolve()
    )
    pre = load_spec(ROOT / "examples" / "kobe_evaluation" / "spec.toml", data_dir=tmp_path)
    # the two Kobe specs must stay in step: same indicators, designs and options
    for a, b in zip(kobe.indicators, pre.indicators, strict=True):
        assert (a.id, a.design, a.options, a.match, a.level, a.seed) == (
            b.id,
            b.design,
            b.options,
            b.match,
            b.level,
            b.seed,
        )
    scr = load_spec(example_spec(name="screening_evaluation"), data_dir=tmp_path)
    assert scr.indicators[0].use == "additional_count"
    assert list(EXAMPLES) == ["kobe_evaluation", "screening_evaluation"]
    r = CliRunner().invoke(
        cli,
        ["validate", *(str(example_spec(name=n)) for n in EXAMPLES), "--data-dir", str(tmp_path)],
    )
    assert r.exit_code == 0, r.output
    with pytest.raises(ValueError, match="unknown example"):
        example_spec(name="nope")


def test_demo_without_the_source_tree_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An installed package without the repository's examples/: the demo reports each example
    # as failed with the reason, exits 1, and shows no traceback.
    import pfseval.batch

    monkeypatch.setattr(pfseval.batch, "_EXAMPLES_DIR", tmp_path / "missing")
    monkeypatch.setattr(pfseval.batch, "_INSTALLED_EXAMPLES", ())
    res = CliRunner().invoke(
        cli, ["demo", "--out", str(tmp_path / "out"), "--persons", "2000", "--quiet"]
    )
    assert res.exit_code == 1
    assert "FAILED" in res.output and "source repository" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
