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


#: The demo's seed and the examples it runs (``pfseval demo``).
DEMO_SEED = 20240401
DEMO_EXAMPLES = ("kobe_evaluation", "screening_evaluation")


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], object]:
    """Both demo examples on the demo's synthetic municipality, run once: (example, lang) →
    run. The English run is the Japanese one with its spec loaded again in English (the
    report renders every word at build time; the spec's texts for readers, the title and
    period, are chosen by language when it is loaded), so the estimates are the same."""
    import warnings
    from dataclasses import replace

    from pfseval.batch import example_spec, load_spec, run_spec
    from pfseval.cli import DEMO_PERSONS
    from pfseval.synthetic import write_all

    d = tmp_path_factory.mktemp("demo")
    write_all(d / "data", seed=DEMO_SEED, persons=DEMO_PERSONS)
    out: dict[tuple[str, str], object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in DEMO_EXAMPLES:
            run = run_spec(
                load_spec(example_spec(name=name), seed=DEMO_SEED, lang="ja", data_dir=d)
            )
            out[name, "ja"] = run
            en = load_spec(example_spec(name=name), seed=DEMO_SEED, lang="en", data_dir=d)
            out[name, "en"] = replace(run, spec=en)
    return out


@pytest.fixture(scope="session")
def demo_appendices(
    demo_runs: dict[tuple[str, str], object], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Path]:
    """The HTML and PDF appendix of both demo examples in Japanese and English, written once:
    (example, lang) → folder holding ``appendix.html`` and ``appendix.pdf``."""
    from pfseval.report import build_document
    from pfseval.report.writers import write_html, write_pdf

    root = tmp_path_factory.mktemp("demo_appendices")
    out: dict[tuple[str, str], Path] = {}
    for (name, lang), run in demo_runs.items():
        folder = root / f"{name}_{lang}"
        folder.mkdir()
        doc = build_document(run)  # type: ignore[arg-type]
        write_html(doc, folder / "appendix.html")
        write_pdf(doc, folder / "appendix.pdf")
        out[name, lang] = folder
    return out
