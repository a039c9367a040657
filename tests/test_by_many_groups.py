"""Per-group results for many groups (a prefecture's municipalities and beyond): the
disclosure decision stays small, the figure ranks the groups instead of naming them, and the
table runs over pages with the figure before it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.report.document import LONG_TABLE_ROWS
from pfseval.scale.groups import MANY_GROUPS, plot_groups


def test_many_groups_are_ranked_not_named() -> None:
    rng = np.random.default_rng(3)
    g = MANY_GROUPS + 40
    value = rng.uniform(0.4, 0.8, g)
    suppressed = np.zeros(g, dtype=bool)
    suppressed[[5, 17, 60]] = True
    table = pd.DataFrame(
        {
            "group": [f"{28000 + i}" for i in range(g)],
            "value": np.where(suppressed, np.nan, value),
            "conf_low": np.where(suppressed, np.nan, value - 0.05),
            "conf_high": np.where(suppressed, np.nan, value + 0.05),
            "suppressed": suppressed,
        }
    )
    fig = plot_groups(table, by="市町村", lang="ja", value_label="受診率", kind="percent")
    ax = fig.axes[0]
    assert ax.get_xticks().size == 0 and ax.get_yticklabels()[0].get_text() != "28000"
    assert f"{g - 3}区分" in ax.get_xlabel() and "3区分" in ax.get_xlabel()
    # points in order of the estimate, in percent
    y = ax.lines[0].get_ydata()
    assert np.all(np.diff(y) >= 0) and y.max() == pytest.approx(100 * value[~suppressed].max())
    few = plot_groups(table.iloc[:10], by="市町村", lang="ja")
    assert few.axes[0].get_yticklabels()[0].get_text() == "28000"


def test_a_long_group_table_runs_over_pages_after_its_figure(tmp_path: Path) -> None:
    from pfseval.batch import load_spec, run_spec
    from pfseval.report import build_document
    from pfseval.report.document import FigureBlock, TableBlock
    from pfseval.report.writers import html_text

    rng = np.random.default_rng(5)
    sizes = rng.integers(12, 60, LONG_TABLE_ROWS + 5)
    muni = np.repeat([f"{13100 + i}" for i in range(len(sizes))], sizes)
    pd.DataFrame(
        {
            "person_id": [f"T{i:06d}" for i in range(len(muni))],
            "municipality": muni,
            "screened": (rng.random(len(muni)) < 0.5).astype(int),
        }
    ).to_csv(tmp_path / "people.csv", index=False)
    (tmp_path / "spec.toml").write_text(
        '[evaluation]\ntitle = "many"\nseed = 1\n\n[data.people]\npath = "people.csv"\n\n'
        '[[indicators]]\nid = "screening"\ndesign = "proportion.rate"\ndata = "people"\n'
        'by = "municipality"\noptions = { outcome = "screened" }\n',
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = build_document(run_spec(load_spec(tmp_path / "spec.toml")))
    sub = next(s for s in doc.sections if s.key == "by")
    kinds = [type(b) for b in sub.blocks]
    assert kinds.index(FigureBlock) < kinds.index(TableBlock)
    html = html_text(doc)
    assert 'class="tbl long"' in html and html.count('class="tbl long"') == 1
