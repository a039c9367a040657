"""Write a synthetic municipality and the design datasets to a folder (``pfseval synth``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pfseval.io.vocabulary import VOCABULARY
from pfseval.result import data_hash, to_jsonable
from pfseval.synthetic._common import GENERATOR_VERSION, SyntheticDataset
from pfseval.synthetic.kobe import kobe_from_population
from pfseval.synthetic.population import POPULATION_COLUMNS, POPULATION_PARAMETERS, population
from pfseval.synthetic.prepost import prepost_questionnaire
from pfseval.synthetic.rct import randomised_trial
from pfseval.synthetic.screening import screening_series

__all__ = ["japanese_headers", "write_all"]

_BASELINE_YEAR = 2016
_FOLLOWUP_YEAR = 2019


def japanese_headers() -> dict[str, str]:
    """Canonical column -> Japanese header used in the CP932 extract.

    Taken from the vocabulary's Japanese labels (:data:`pfseval.io.vocabulary.VOCABULARY`), so
    the loaders map the headers back; full-width forms are used where Japanese systems export
    them (e.g. ``ＨｂＡ１ｃ``).

    Examples
    --------
    >>> japanese_headers()["sbp"]
    '収縮期血圧'
    """
    heads = {c: VOCABULARY[c].label_ja for c in POPULATION_COLUMNS}
    heads["hba1c"] = "ＨｂＡ１ｃ"  # full-width, as exported by many systems
    heads["bmi"] = "ＢＭＩ"
    return heads


def _csv_bytes(frame: pd.DataFrame, *, encoding: str = "utf-8") -> bytes:
    text = frame.to_csv(index=False, lineterminator="\n")
    return text.encode(encoding)


def _write(path: Path, payload: bytes) -> Path:
    path.write_bytes(payload)
    return path


def write_all(out: str | Path, *, seed: int, persons: int) -> dict[str, Path]:
    """Generate a synthetic municipality and every design dataset and write them to ``out``.

    Files (all deterministic for ``seed`` and ``persons``):

    * ``population.parquet`` — every health-check record, 2016–2023 (canonical columns);
    * ``checkup_<year>.csv`` — one UTF-8 extract per fiscal year;
    * ``checkup_2016_cp932.csv`` — the 2016 extract in CP932 (Shift_JIS) with Japanese headers;
    * ``kobe.csv`` (linked Kobe-schema table of the candidate pool) and
      ``kobe_participants.csv`` (participants and programme outputs); the programme's effect
      is in the 2017+ extracts;
    * ``rct.csv``, ``rct_cluster.csv``, ``rct_waitlist.csv``, ``prepost.csv``,
      ``screening.csv``, ``screening_national.csv``;
    * ``metadata.json`` — true effects, generating parameters, seed, generator version,
      column descriptions and the SHA-256 of every other file.

    Parameters
    ----------
    out
        Folder to write into (created if needed; existing files of the same names are
        replaced).
    seed
        Random seed; each dataset uses a seed derived from it.
    persons
        Distinct persons in the synthetic municipality (see
        :func:`~pfseval.synthetic.population`).

    Returns
    -------
    dict of str to pathlib.Path
        File key -> path written, ``metadata`` last.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     written = write_all(d, seed=1, persons=3000)
    ...     sorted(written)[:3]
    ['checkup_2016', 'checkup_2016_cp932', 'checkup_2017']
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(7)]
    pop0 = population(persons=persons, seed=seeds[0])
    kobe = kobe_from_population(
        pop0,
        seed=seeds[1],
        baseline_year=_BASELINE_YEAR,
        followup_year=_FOLLOWUP_YEAR,
    )
    pop = kobe.tables["population"]
    datasets: dict[str, SyntheticDataset] = {
        "rct": randomised_trial(seed=seeds[2]),
        "rct_cluster": randomised_trial(seed=seeds[3], cluster=True, n_clusters=20, icc=0.05),
        "rct_waitlist": randomised_trial(seed=seeds[4], waitlist=True),
        "prepost": prepost_questionnaire(seed=seeds[5], comparison=True),
        "screening": screening_series(seed=seeds[6]),
    }

    written: dict[str, Path] = {}
    pq = out / "population.parquet"
    pop.to_parquet(pq, index=False, engine="pyarrow", compression="zstd")
    written["population"] = pq
    for year, extract in pop.groupby("fiscal_year", sort=True):
        name = f"checkup_{int(year)}"  # type: ignore[call-overload]
        written[name] = _write(out / f"{name}.csv", _csv_bytes(extract))
        if int(year) == _BASELINE_YEAR:  # type: ignore[call-overload]
            ja = extract.rename(columns=japanese_headers())
            written[f"{name}_cp932"] = _write(
                out / f"{name}_cp932.csv", _csv_bytes(ja, encoding="cp932")
            )
    written["kobe"] = _write(out / "kobe.csv", _csv_bytes(kobe.data))
    written["kobe_participants"] = _write(
        out / "kobe_participants.csv", _csv_bytes(kobe.tables["participants"])
    )
    for key, ds in datasets.items():
        written[key] = _write(out / f"{key}.csv", _csv_bytes(ds.data))
    written["screening_national"] = _write(
        out / "screening_national.csv", _csv_bytes(datasets["screening"].tables["national"])
    )

    meta: dict[str, Any] = {
        "generator": "pfseval.synthetic",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "persons": int(persons),
        "derived_seeds": seeds,
        "population": {
            "rows": len(pop),
            "persons": int(pop["person_id"].nunique()),
            "years": sorted(int(y) for y in pop["fiscal_year"].unique()),
            "parameters": POPULATION_PARAMETERS,
            "columns": POPULATION_COLUMNS,
        },
        "datasets": {
            "kobe": _meta(kobe, ["kobe", "kobe_participants"]),
            **{
                key: _meta(ds, [key, "screening_national"] if key == "screening" else [key])
                for key, ds in datasets.items()
            },
        },
        "files": {key: {"path": p.name, "sha256": data_hash(str(p))} for key, p in written.items()},
    }
    meta_path = out / "metadata.json"
    meta_path.write_text(
        json.dumps(to_jsonable(meta), ensure_ascii=False, indent=2, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    written["metadata"] = meta_path
    return written


def _meta(ds: SyntheticDataset, files: list[str]) -> dict[str, Any]:
    return {
        "files": [f"{f}.csv" for f in files],
        "description": ds.description,
        "truth": dict(ds.truth),
        "columns": dict(ds.columns),
    }
