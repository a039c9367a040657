"""The spec's ``engine`` key: DuckDB and pandas give the same source frame, flow and results.

The extracts are small hand-made files (a CP932 export with Japanese headers and text codes,
and Parquet); the DuckDB route is forced with ``engine = "duckdb"``, and ``"auto"`` is checked
to choose by the number of baseline records.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pfseval.batch import build_source, load_spec, run_spec
from pfseval.batch import runner as R
from pfseval.errors import SpecError

BASE = pd.DataFrame(
    {
        "受診者ID": [f"p{i:02d}" for i in range(1, 41)],
        "年度": [2016] * 40,
        "年齢": [40 + (7 * i) % 35 for i in range(40)],
        "性別": ["男" if i % 3 else "女" for i in range(40)],
        "ＨｂＡ１ｃ": [5.0 + (i % 9) * 0.4 for i in range(40)],
        "尿蛋白": ["−", "±", "＋", "2+"] * 10,
        "ｅＧＦＲ": [40.0 + (i * 13) % 60 for i in range(40)],
        "treated": [1 if i % 4 == 0 else 0 for i in range(40)],
    }
)
FOLLOW = BASE.iloc[[i for i in range(40) if i % 5]].assign(
    # keyword names are NFKC-normalised by Python (ｅＧＦＲ -> eGFR): pass a dict
    **{"年度": 2019, "ｅＧＦＲ": lambda d: d["ｅＧＦＲ"] - 2.5}
)

SPEC = """
[data.checkups]
baseline = "base.{ext}"
followup = "follow.{ext}"
require = ["egfr"]
{engine}

[cohorts.pool]
from = "checkups"
where = [
  {{ column = "hba1c", op = ">=", value = 6.0, reason = "HbA1c below 6.0" }},
  {{ column = "egfr_follow", op = "not_missing" }},
]

[[indicators]]
id = "rate"
design = "proportion.rate"
data = "pool"
options = {{ outcome = "treated" }}
"""


def _spec(d: Path, ext: str, engine: str) -> Path:
    for frame, name in ((BASE, "base"), (FOLLOW, "follow")):
        if ext == "csv":
            (d / f"{name}.csv").write_bytes(frame.to_csv(index=False).encode("cp932"))
        else:
            num = frame.assign(
                性別=np.where(frame["性別"] == "男", 1, 2),
                尿蛋白=frame["尿蛋白"].map({"−": 0, "±": 1, "＋": 2, "2+": 3}),
            )
            num.to_parquet(d / f"{name}.parquet", index=False)
    p = d / f"spec_{engine or 'default'}.toml"
    p.write_text(SPEC.format(ext=ext, engine=engine), encoding="utf-8")
    return p


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_duckdb_engine_equals_pandas_engine(tmp_path: Path, ext: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pandas loader's notes (text codes converted)
        pan = load_spec(_spec(tmp_path, ext, 'engine = "pandas"'))
        duck = load_spec(_spec(tmp_path, ext, 'engine = "duckdb"'))
        assert R.source_engine(duck.data["checkups"]) == "duckdb"
        a, b = build_source(pan, "checkups"), build_source(duck, "checkups")
        pd.testing.assert_frame_equal(b.data, a.data)
        assert a.flow is not None and b.flow is not None
        pd.testing.assert_frame_equal(b.flow.to_frame(), a.flow.to_frame())
        assert b.files == a.files
        ra, rb = run_spec(pan), run_spec(duck)
    ea, eb = ra.estimates["rate"], rb.estimates["rate"]
    assert (eb.value, eb.conf_low, eb.conf_high) == (ea.value, ea.conf_low, ea.conf_high)
    assert json.dumps(rb.cohort_flows["pool"].to_dict()) == json.dumps(
        ra.cohort_flows["pool"].to_dict()
    )


def test_auto_engine_chooses_by_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec(_spec(tmp_path, "parquet", ""))
    src = spec.data["checkups"]
    assert src.engine == "auto"
    assert R.source_engine(src) == "pandas"  # 40 records
    monkeypatch.setattr(R, "AUTO_DUCKDB_RECORDS", 40)
    assert R.source_engine(src) == "duckdb"
    csv = load_spec(_spec(tmp_path, "csv", "")).data["checkups"]
    monkeypatch.setattr(R, "AUTO_DUCKDB_RECORDS", 30)  # estimated from the line length
    assert R.source_engine(csv) == "duckdb"
    monkeypatch.setattr(R, "AUTO_DUCKDB_RECORDS", 60)
    assert R.source_engine(csv) == "pandas"


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('engine = "spark"', "must be 'auto', 'pandas' or 'duckdb'.*Fix"),
        ('engine = "duckdb"\nvalidate = false', "checks every value. Fix"),
    ],
)
def test_engine_key_errors(tmp_path: Path, line: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        load_spec(_spec(tmp_path, "parquet", line))
