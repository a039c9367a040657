"""Regenerate the committed sample files in this folder.

Usage (from the repository root)::

    python data/synthetic/make_samples.py

equivalent to ``pfseval synth --out data/synthetic --seed 20240401 --persons 20000``. The
files are byte-identical for the same seed and the same numpy / pandas / pyarrow versions
(``metadata.json`` records every file's SHA-256).
"""

from __future__ import annotations

from pathlib import Path

from pfseval.synthetic import write_all

SEED = 20240401
PERSONS = 20000


def main() -> None:
    """Write the sample files next to this script."""
    write_all(Path(__file__).resolve().parent, seed=SEED, persons=PERSONS)


if __name__ == "__main__":
    main()
