"""Health-check (特定健診) data: vocabulary, loaders, validation, clinical helpers, linkage.

* :data:`VOCABULARY` — the canonical columns with units, plausible ranges, codes and the
  (Japanese) header aliases loaders recognise.
* :func:`read_checkups`, :func:`check_file`, :func:`load_mapping` — CSV (UTF-8 / CP932) and
  Parquet loaders mapping source headers onto the vocabulary.
* :func:`validate_checkups` → :class:`ValidationReport` — every problem at once.
* :func:`egfr_jsn`, :func:`fill_egfr`, :func:`ckd_g_stage`, :func:`ckd_a_stage`,
  :func:`nephropathy_stage` — clinical helpers.
* :func:`link_years` → :class:`LinkedCohort` — baseline/follow-up linkage with a sample flow.

See ``docs/data.md`` for the conventions.
"""

from pfseval.io.clinical import (
    CKD_G_LABELS,
    ckd_a_stage,
    ckd_g_stage,
    egfr_jsn,
    fill_egfr,
    nephropathy_stage,
)
from pfseval.io.linkage import FOLLOW_SUFFIX, DuplicateIdError, LinkedCohort, link_years
from pfseval.io.loaders import FileFormatError, check_file, decode_bytes, read_checkups
from pfseval.io.mapping import MappingError, load_mapping, resolve_columns
from pfseval.io.validation import (
    DataQualityWarning,
    ValidationReport,
    parse_checkups,
    validate_checkups,
)
from pfseval.io.vocabulary import (
    DIPSTICK_CODES,
    FLAG_CODES,
    REQUIRED_COLUMNS,
    SEX_CODES,
    VOCABULARY,
    ColumnSpec,
    canonical_name,
    normalise_header,
    vocabulary_frame,
)

__all__ = [
    "CKD_G_LABELS",
    "DIPSTICK_CODES",
    "FLAG_CODES",
    "FOLLOW_SUFFIX",
    "REQUIRED_COLUMNS",
    "SEX_CODES",
    "VOCABULARY",
    "ColumnSpec",
    "DataQualityWarning",
    "DuplicateIdError",
    "FileFormatError",
    "LinkedCohort",
    "MappingError",
    "ValidationReport",
    "canonical_name",
    "check_file",
    "ckd_a_stage",
    "ckd_g_stage",
    "decode_bytes",
    "egfr_jsn",
    "fill_egfr",
    "link_years",
    "load_mapping",
    "nephropathy_stage",
    "normalise_header",
    "parse_checkups",
    "read_checkups",
    "resolve_columns",
    "validate_checkups",
    "vocabulary_frame",
]
