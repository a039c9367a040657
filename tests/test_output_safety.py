"""Issue 12: outputs never destroy a user's files; paths and names stay inside their folders;
spreadsheets hold text, never formulas; the CLI reports mistakes without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pfseval.batch import load_spec, run_many, run_spec, write_outputs
from pfseval.batch.output import MARKER, clean_stale, is_pfseval_folder, stage
from pfseval.cli import cli
from pfseval.errors import OutputError, SpecError

SPEC = """
[evaluation]
seed = 3
[data.people]
path = "people.csv"
[[indicators]]
id = "{iid}"
label = {{ ja = "修了率", en = "{label}" }}
design = "proportion.rate"
data = "people"
options = {{ outcome = "completed" }}
[report]
lang = "en"
"""


def _project(d: Path, *, iid: str = "completion_rate", label: str = "Completion rate") -> Path:
    """A user's project folder: data and a spec."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    pd.DataFrame(
        {"person_id": [f"C{i:03d}" for i in range(60)], "completed": rng.integers(0, 2, 60)}
    ).to_csv(d / "people.csv", index=False)
    spec = d / "spec.toml"
    spec.write_text(SPEC.format(iid=iid, label=label), encoding="utf-8")
    return spec


@pytest.fixture(autouse=True)
def fast_report(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Folder handling does not depend on the appendix: write two small files instead of
    rendering it (rendering takes seconds), except in the tests marked ``real_report``."""
    if "real_report" in request.keywords:
        return
    import pfseval.report

    def write_report(run, folder):  # type: ignore[no-untyped-def]
        f = Path(folder)
        (f / "figures").mkdir()
        (f / "appendix.html").write_text("<p>appendix</p>", encoding="utf-8")
        (f / "figures" / "a.png").write_bytes(b"png")
        return {"html": f / "appendix.html", "figure:a.png": f / "figures" / "a.png"}

    monkeypatch.setattr(pfseval.report, "write_report", write_report)


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return _project(tmp_path / "proj")


@pytest.fixture
def run(proj: Path):  # type: ignore[no-untyped-def]
    return run_spec(load_spec(proj))


# ---------------------------------------------------------------- 1. output safety


def test_run_into_the_project_folder_is_refused_and_deletes_nothing(proj: Path) -> None:
    before = sorted(p.name for p in proj.parent.iterdir())
    outcomes = run_many([proj], proj.parent)  # --out = the project itself
    outcomes += run_many([proj], proj.parent.parent)  # --out = the folder holding it
    assert not any(o.ok for o in outcomes)
    assert all("not written by pfseval" in o.error and "Fix:" in o.error for o in outcomes)
    assert sorted(p.name for p in proj.parent.iterdir()) == before


def test_force_adds_files_and_never_deletes_or_overwrites(proj: Path, run) -> None:  # type: ignore[no-untyped-def]
    folder = proj.parent
    write_outputs(run, folder, force=True)
    assert (folder / "results.json").is_file() and (folder / "spec.toml").is_file()
    assert set(json.loads((folder / MARKER).read_text())["files"]) >= {"results.json"}
    # a user's file under one of pfseval's names is never overwritten, even with force
    user = proj.parent.parent / "user"
    user.mkdir()
    (user / "results.json").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="would overwrite files it did not write"):
        write_outputs(run, user, force=True)
    assert (user / "results.json").read_text() == "mine"
    assert sorted(p.name for p in user.iterdir()) == ["results.json"]  # nothing left behind


def test_rewrite_of_a_marked_folder_keeps_the_users_files(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "res"
    write_outputs(run, out)
    assert is_pfseval_folder(out)
    (out / "my_notes.txt").write_text("notes", encoding="utf-8")
    (out / "figures").mkdir(exist_ok=True)
    (out / "figures" / "mine.png").write_bytes(b"x")
    write_outputs(run, out)
    assert (out / "my_notes.txt").read_text() == "notes"
    assert (out / "figures" / "mine.png").read_bytes() == b"x"
    assert (out / "results.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".res.")]  # no leftovers


def test_private_output_never_inside_the_published_folder(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutputError, match="--private-out"):
        write_outputs(run, tmp_path / "pub", private_out=tmp_path / "pub" / "private")
    assert not (tmp_path / "pub").exists()


def test_failing_private_output_leaves_the_published_folder_untouched(
    tmp_path: Path,
    run,  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "pub"
    write_outputs(run, out)
    before = (out / "results.json").read_bytes()
    blocker = tmp_path / "priv"
    blocker.mkdir()
    (blocker / "x.csv").write_text("not pfseval's", encoding="utf-8")  # refused target
    with pytest.raises(OutputError):
        write_outputs(run, out, private_out=blocker)
    assert (out / "results.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_same_spec_names_get_distinct_folders(tmp_path: Path) -> None:
    a = _project(tmp_path / "a")
    b = _project(tmp_path / "b")
    c = tmp_path / "c"
    c.mkdir()
    (c / "spec-2.toml").write_text(a.read_text(), encoding="utf-8")
    (c / "people.csv").write_bytes((tmp_path / "a" / "people.csv").read_bytes())
    outcomes = run_many([a, b, c / "spec-2.toml"], tmp_path / "runs")
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    assert len({o.out for o in outcomes}) == 3


def test_killed_run_leaves_no_results_json_and_is_cleaned_up(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "res"
    seen: list[list[str]] = []

    def build(folder: Path) -> dict[str, Path]:
        from pfseval.report import write_report

        write_report(run, folder)
        seen.append(sorted(p.name for p in folder.iterdir()))  # what a kill here would leave
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stage(out, build)
    assert "results.json" not in seen[0]  # results.json is written last
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".res")]
    # a partial folder of a dead process (as after kill -9) is removed by the next run
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f".res.partial-{dead.stdout.strip()}-abc"
    stale.mkdir()
    (stale / ".pfseval-partial").write_text("", encoding="utf-8")
    live = tmp_path / f".res.partial-{os.getpid()}-abc"  # this process: still running
    live.mkdir()
    (live / ".pfseval-partial").write_text("", encoding="utf-8")
    old = tmp_path / f".res.old-{dead.stdout.strip()}-abc"  # a replaced folder, not ours only
    old.mkdir()
    (old / MARKER).write_text('{"files": ["results.json"]}', encoding="utf-8")
    (old / "notes.txt").write_text("a user's file", encoding="utf-8")
    assert clean_stale(out) == [stale]
    assert live.exists() and (old / "notes.txt").exists()


def test_demo_never_overwrites_a_users_files(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "data").mkdir(parents=True)
    (proj / "data" / "checkup_2016.csv").write_text("real data", encoding="utf-8")
    res = CliRunner().invoke(cli, ["demo", "--out", str(proj), "--persons", "500", "--quiet"])
    assert res.exit_code == 1 and "not written by pfseval" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    res = CliRunner().invoke(
        cli, ["demo", "--out", str(proj), "--persons", "500", "--quiet", "--force"]
    )
    assert res.exit_code == 1 and "not written by pfseval" in res.output  # data/ never mixed
    assert (proj / "data" / "checkup_2016.csv").read_text() == "real data"
    assert sorted(p.name for p in proj.rglob("*")) == ["checkup_2016.csv", "data"]


# ---------------------------------------------------------------- 2. paths and names


@pytest.mark.parametrize("iid", ["../../x", "/tmp/abs", "a/b", ".hidden", "a b", ""])
def test_unsafe_indicator_ids_are_spec_errors(tmp_path: Path, iid: str) -> None:
    spec = _project(tmp_path / "p", iid=iid)
    with pytest.raises(SpecError, match=r"indicators\[0\]\.id") as err:
        load_spec(spec)
    assert "Fix:" in str(err.value)


def test_unsafe_cohort_names_are_spec_errors(proj: Path) -> None:
    proj.write_text(proj.read_text() + '[cohorts."../up"]\nfrom = "people"\n', encoding="utf-8")
    with pytest.raises(SpecError, match=r"cohorts\.\.\./up"):
        load_spec(proj)


def test_data_paths_stay_in_the_spec_folder_unless_allowed(tmp_path: Path) -> None:
    spec = _project(tmp_path / "p")
    shared = tmp_path / "shared"
    shared.mkdir()
    os.replace(tmp_path / "p" / "people.csv", shared / "people.csv")
    text = spec.read_text()
    spec.write_text(text.replace('"people.csv"', '"../shared/people.csv"'), encoding="utf-8")
    with pytest.raises(SpecError, match=r"data\.people\.path.*outside") as err:
        load_spec(spec)
    assert "people.csv" in str(err.value) and "Fix:" in str(err.value)
    assert load_spec(spec, data_roots=[shared]).data["people"].path == shared / "people.csv"
    spec.write_text(
        '[evaluation]\ndata_roots = ["../shared"]\n'
        + text.replace("[evaluation]\n", "").replace('"people.csv"', '"../shared/people.csv"'),
        encoding="utf-8",
    )
    assert load_spec(spec).data["people"].path == shared / "people.csv"


def test_symlinked_data_outside_the_tree_is_refused(tmp_path: Path) -> None:
    spec = _project(tmp_path / "p")
    outside = tmp_path / "secret.csv"
    os.replace(tmp_path / "p" / "people.csv", outside)
    (tmp_path / "p" / "people.csv").symlink_to(outside)
    with pytest.raises(SpecError, match="outside"):
        load_spec(spec)


def test_absolute_data_path_is_refused(tmp_path: Path) -> None:
    spec = _project(tmp_path / "p")
    spec.write_text(spec.read_text().replace('"people.csv"', '"/etc/passwd"'), encoding="utf-8")
    with pytest.raises(SpecError, match="outside") as err:
        load_spec(spec)
    assert "root:" not in str(err.value)  # never the file's content


# ---------------------------------------------------------------- 3. spreadsheets and DOCX


@pytest.mark.real_report
def test_spreadsheet_cells_are_text_not_formulas(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    label = '=HYPERLINK(\\"http://x\\",\\"y\\")'
    spec = _project(tmp_path / "p", label=label)
    files = write_outputs(run_spec(load_spec(spec)), tmp_path / "out")
    wb = load_workbook(files["xlsx"])
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert any(str(c.value).startswith("=HYPERLINK") for c in cells)
    assert all(c.data_type != "f" for c in cells)


def test_control_characters_in_labels_are_rejected_before_the_run(tmp_path: Path) -> None:
    spec = _project(tmp_path / "p", label="bad\\u0007label")
    with pytest.raises(SpecError, match=r"indicators\[0\]\.label\.en.*U\+0007"):
        load_spec(spec)


def test_docx_writer_survives_xml_unsafe_text(tmp_path: Path) -> None:
    from pfseval.report.document import Document, Paragraph, Section
    from pfseval.report.writers import write_docx

    doc = Document(
        title="t\x01",
        lang="en",
        meta=(("k", "v\x02"),),
        sections=(Section("s", 2, (Paragraph("p\x0b"),)),),
    )
    assert write_docx(doc, tmp_path / "a.docx").stat().st_size > 0


# ---------------------------------------------------------------- 5. CLI errors


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "{spec}", "--out", "."], "current folder"),
        (["run", "{spec}", "--out", "r", "--seed", "-1"], "--seed"),
        (["run", "{spec}", "--out", "r", "--workers", "0"], "--workers"),
        (["run", "{spec}", "--out", "r", "--private-out", "r/p"], "--private-out"),
        (["synth", "--out", "s", "--persons", "0"], "--persons"),
    ],
)
def test_cli_mistakes_are_clear_errors(
    proj: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], needle: str
) -> None:
    monkeypatch.chdir(proj.parent)
    res = CliRunner().invoke(cli, [a.format(spec=proj) for a in args])
    assert res.exit_code != 0
    assert needle in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output


def test_one_specs_internal_error_does_not_abort_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pfseval.batch.spec as spec_mod

    a = _project(tmp_path / "a")
    b = _project(tmp_path / "b")
    real = spec_mod.load_spec

    def flaky(path, **kw):  # type: ignore[no-untyped-def]
        if Path(path) == a:
            raise AttributeError("boom")
        return real(path, **kw)

    monkeypatch.setattr(spec_mod, "load_spec", flaky)
    outcomes = run_many([a, b], tmp_path / "runs")
    assert [o.ok for o in outcomes] == [False, True]
    assert "internal error AttributeError" in outcomes[0].error


def test_quiet_run_prints_one_line_and_no_progress_off_terminal(proj: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["run", str(proj), "--out", str(tmp_path / "q"), "--quiet"])
    assert res.exit_code == 0 and res.stdout == "1 of 1 spec(s) succeeded\n" and res.stderr == ""
    res = CliRunner().invoke(cli, ["run", str(proj), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0 and "\x1b[" not in res.stderr and "\r" not in res.stderr
