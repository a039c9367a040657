"""The outcome-blind design stage and the design lock (issue 14)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pfseval.batch import load_spec
from pfseval.batch.design_stage import (
    COMPARED,
    LOCK_NAME,
    compare_records,
    design_columns,
    design_record,
    matched_digest,
)
from pfseval.cli import cli

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# Kobe-style evaluation from yearly extracts (as examples/kobe_evaluation/spec_extracts.toml),
# cut to one outcome indicator per file: few bootstrap draws keep the test fast.
SPEC = """
[evaluation]
seed = 7
[data.checkups]
baseline = "data/checkup_2016.csv"
followup = "data/checkup_2019.csv"
id_col = "person_id"
merge = [{ path = "data/kobe_participants.csv", on = "person_id", flag = "treated" }]
[cohorts.pool]
from = "checkups"
where = [
  { any = [{ column = "hba1c", op = ">=", value = 6.5 }, { column = "med_glucose", op = "==", value = 1 }] },
  { column = "egfr", op = ">=", value = 30 },
]
[cohorts.participants]
from = "pool"
where = [{ column = "treated", op = "==", value = 1 }]
[[indicators]]
id = "completion_rate"
design = "proportion.rate"
data = "participants"
options = { outcome = "completed" }
[[indicators]]
id = "suppression_rate"
design = "psm.suppression_rate"
data = "pool"
match = { treatment = "treated", id_col = "person_id", covariates = ["age", "sex", "bmi", "sbp", "hba1c", "egfr"], link = "linear.logit", caliper = CALIPER, ratio = 2 }
options = { outcome = "egfr_follow", baseline = "egfr", followup_years = "followup_years", change = "absolute_per_year", n_boot = 49 }
[[plan.sensitivity]]
id = "ratio_1"
set = { "indicators[1].match.ratio" = 1 }
"""
POST_HOC = """
[[plan.sensitivity]]
id = "ratio_3"
set = { "indicators[1].match.ratio" = 3 }
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pfseval.synthetic import write_all

    root = tmp_path_factory.mktemp("design")
    write_all(root / "data", seed=11, persons=8000)
    (root / "spec.toml").write_text(SPEC.replace("CALIPER", "0.2"), encoding="utf-8")
    return root


def _blind_copy(project: Path) -> Path:
    """The project with every outcome column removed from the input files."""
    blind = project.parent / f"{project.name}_blind"
    if blind.exists():
        return blind
    shutil.copytree(project, blind)
    data = blind / "data"
    # the follow-up extract only gives outcomes (egfr_follow, followup_years from the year)
    fol = pd.read_csv(data / "checkup_2019.csv", dtype=str)
    fol[["person_id", "fiscal_year"]].to_csv(data / "checkup_2019.csv", index=False)
    # the participant list's outcomes: completed, lifestyle_*
    par = pd.read_csv(data / "kobe_participants.csv", dtype=str)
    par[["person_id"]].to_csv(data / "kobe_participants.csv", index=False)
    return blind


def _compared(rec: dict) -> dict:
    return {k: rec[k] for k in (*COMPARED, "balance", "cohort_flows")}


def test_design_columns_are_design_only(project: Path) -> None:
    spec = load_spec(project / "spec.toml")
    cols = design_columns(spec)
    assert set(cols) == {"checkups"}
    assert {"person_id", "age", "hba1c", "med_glucose", "egfr"} <= cols["checkups"]
    assert not cols["checkups"] & {"egfr_follow", "completed", "followup_years", "treated"}


def test_outcome_columns_removed_same_record(project: Path) -> None:
    runner = CliRunner()
    blind = _blind_copy(project)
    # the full spec cannot even load on the blind files: they lack the outcome columns
    with pytest.raises(ValueError, match="completed"):
        load_spec(blind / "spec.toml")
    outs = {}
    for name, root in (("full", project), ("blind", blind)):
        res = runner.invoke(cli, ["design", str(root / "spec.toml"), "--out", str(root / "lock")])
        assert res.exit_code == 0, res.output
        outs[name] = json.loads((root / "lock" / LOCK_NAME).read_text(encoding="utf-8"))
        assert (root / "lock" / "design_appendix.html").stat().st_size > 1000
    assert _compared(outs["full"]) == _compared(outs["blind"])
    assert outs["full"]["matched"]["indicators[1]"]["n_treated"] > 0


def test_digest_matches_full_data_matching(project: Path) -> None:
    """The design stage's restricted read matches exactly as the full run's matching does."""
    from pfseval.batch.registry import call_design, matching_spec
    from pfseval.batch.runner import _apply_cohorts, _load_sources

    spec = load_spec(project / "spec.toml")
    record, _ = design_record(spec)
    sources = _load_sources(spec)
    cohorts = _apply_cohorts(spec, sources.frames)
    ind = spec.indicators[1]
    mspec = matching_spec(ind.design_spec)
    assert mspec is not None
    matched = call_design(mspec, cohorts.data["pool"], ind.match, {"seed": ind.seed})
    assert record["matched"]["indicators[1]"] == matched_digest(matched)


def test_caliper_changed_after_lock(project: Path) -> None:
    runner = CliRunner()
    lock = project / "lock0" / LOCK_NAME
    res = runner.invoke(cli, ["design", str(project / "spec.toml"), "--out", str(lock.parent)])
    assert res.exit_code == 0, res.output
    # the locked spec reproduces the lock
    from pfseval.batch.design_stage import check_lock, read_lock

    check = check_lock(
        load_spec(project / "spec.toml"),
        read_lock(lock),
        lock_file=LOCK_NAME,
        allow_deviation=False,
    )
    assert check["deviations"] == []

    changed = project / "spec_changed.toml"
    changed.write_text(SPEC.replace("CALIPER", "0.1") + POST_HOC, encoding="utf-8")
    res = runner.invoke(
        cli, ["run", str(changed), "--design", str(lock), "--out", str(project / "bad"), "--quiet"]
    )
    assert res.exit_code == 1
    assert "design.indicators[1].match.caliper" in res.output
    assert not (project / "bad").exists()

    res = runner.invoke(
        cli,
        [
            "run",
            str(changed),
            "--design",
            str(lock),
            "--allow-deviation",
            "--out",
            str(project / "dev"),
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    results = json.loads((project / "dev" / "results.json").read_text(encoding="utf-8"))
    devs = {d["key"]: d for d in results["provenance"]["design_lock"]["deviations"]}
    assert devs["design.indicators[1].match.caliper"]["locked"] == 0.2
    assert devs["design.indicators[1].match.caliper"]["current"] == 0.1
    # the plan ran too; the specification added after the lock is marked post hoc
    plan = results["provenance"]["plan"]
    assert {s["id"]: s["post_hoc"] for s in plan["specifications"]} == {
        "ratio_1": False,
        "ratio_3": True,
    }
    html = (project / "dev" / "appendix.html").read_text(encoding="utf-8")
    assert "評価計画からの逸脱" in html
    assert "design.indicators[1].match.caliper" in html


def test_compare_records_names_keys() -> None:
    a = {"design": {"indicators[0]": {"match": {"ratio": 3}}}, "design_sha256": "x"}
    b = {"design": {"indicators[0]": {"match": {"ratio": 2}}}, "design_sha256": "y"}
    devs = compare_records(a, b)
    assert [(d.key, d.locked, d.current) for d in devs] == [
        ("design.indicators[0].match.ratio", 3, 2)
    ]
    assert compare_records(a, a) == []


def test_design_out_follows_output_folder_rules(project: Path) -> None:
    """`pfseval design` never touches a user's file: a foreign folder is refused before any
    work, --force only adds pfseval's files, and a second run replaces only its own files."""
    runner = CliRunner()
    spec = str(project / "spec.toml")
    foreign = project / "users_folder"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    (foreign / "design_appendix.html").write_text("my own page", encoding="utf-8")
    res = runner.invoke(cli, ["design", spec, "--out", str(foreign)])
    assert res.exit_code == 1
    assert "--force" in res.output and "Fix:" in res.output
    assert sorted(p.name for p in foreign.iterdir()) == ["design_appendix.html", "notes.txt"]
    # with --force pfseval adds its files but refuses to replace a file it did not write
    res = runner.invoke(cli, ["design", spec, "--out", str(foreign), "--force"])
    assert res.exit_code == 1
    assert (foreign / "design_appendix.html").read_text(encoding="utf-8") == "my own page"
    assert not (foreign / LOCK_NAME).exists()
    (foreign / "design_appendix.html").unlink()
    res = runner.invoke(cli, ["design", spec, "--out", str(foreign), "--force"])
    assert res.exit_code == 0, res.output
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"
    first = json.loads((foreign / LOCK_NAME).read_text(encoding="utf-8"))
    # a folder pfseval wrote is rewritten without --force; the user's file stays
    res = runner.invoke(cli, ["design", spec, "--out", str(foreign)])
    assert res.exit_code == 0, res.output
    again = json.loads((foreign / LOCK_NAME).read_text(encoding="utf-8"))
    assert again["matched"] == first["matched"]
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in project.iterdir() if ".partial-" in p.name]


def test_design_refuses_a_negative_seed(project: Path) -> None:
    res = CliRunner().invoke(
        cli, ["design", str(project / "spec.toml"), "--out", str(project / "s"), "--seed", "-1"]
    )
    assert res.exit_code == 2
    assert "-1" in res.output
    assert not (project / "s").exists()


def test_design_appendix_names_cohorts_and_indicators_by_their_labels(project: Path) -> None:
    import re

    text = SPEC.replace("CALIPER", "0.2")
    text = text.replace(
        '[cohorts.pool]\nfrom = "checkups"',
        '[cohorts.pool]\nfrom = "checkups"\nlabel = { ja = "対象候補者", en = "candidates" }',
    )
    text = text.replace(
        'id = "suppression_rate"\n', 'id = "suppression_rate"\nlabel = "腎機能低下抑制率"\n'
    )
    (project / "spec_labels.toml").write_text(text, encoding="utf-8")
    out = project / "labelled"
    res = CliRunner().invoke(cli, ["design", str(project / "spec_labels.toml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = (out / "design_appendix.html").read_text(encoding="utf-8")
    visible = re.sub(r"<(style|svg|script).*?</\1>|<[^>]+>", " ", page, flags=re.S)
    assert "対象集団の流れ（対象候補者）" in visible
    assert "腎機能低下抑制率" in visible
    assert "indicators[" not in visible and "(pool)" not in visible
    assert "suppression_rate" not in visible


def test_run_appendix_counts_what_the_design_appendix_published(project: Path) -> None:
    """The design appendix prints the matched participants and controls; a reader holding it
    and the run's appendix knows them, so the run's decision treats them as published (it
    never hides them, and audits what they give back with the rest)."""
    from pfseval.batch.design_cli import two_stage
    from pfseval.report.document import _register_counts

    run = two_stage(load_spec(project / "spec.toml"), project / "lock_published")
    counts = run.design_check["published_counts"]["indicators[1]"]
    assert counts["n_treated"] > 0 and counts["n_control"] > 0
    c = _register_counts(run, run.results())
    led = c.led
    assert led.value("ind:suppression_rate:design:n_treated") == counts["n_treated"]
    same = [
        k
        for k in led._keys
        if k.startswith("ind:suppression_rate:")
        and led.counts_people(k)
        and led.value(k) == counts["n_treated"]
    ]
    assert same  # the flow's matched participants (and the diagnostic of the same people)
    assert all(led.show(k) == f"{counts['n_treated']:,}" for k in same)
