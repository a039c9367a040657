"""The canonical column vocabulary and header matching."""

from __future__ import annotations

import pytest

from pfseval.io import REQUIRED_COLUMNS, VOCABULARY, canonical_name, vocabulary_frame
from pfseval.io.vocabulary import normalise_header, normalise_value, text_codes

# The shared vocabulary (briefs/vocab.md), in order.
VOCAB_MD = [
    "person_id",
    "fiscal_year",
    "age",
    "sex",
    "height",
    "weight",
    "bmi",
    "waist",
    "sbp",
    "dbp",
    "tg",
    "hdl",
    "ldl",
    "ast",
    "alt",
    "ggt",
    "fpg",
    "hba1c",
    "urine_protein",
    "urine_glucose",
    "creatinine",
    "egfr",
    "med_bp",
    "med_glucose",
    "med_lipid",
    "smoking",
    "exercise",
    "insurer_code",
    "municipality_code",
]


def test_vocabulary_covers_the_shared_names_exactly() -> None:
    assert list(VOCABULARY) == VOCAB_MD
    assert REQUIRED_COLUMNS == ("person_id", "fiscal_year", "age", "sex")


def test_every_spec_is_documented() -> None:
    for name, spec in VOCABULARY.items():
        assert spec.name == name
        assert spec.label_ja and spec.label_en
        assert spec.expected(), name
        if spec.kind in ("int", "float"):
            assert spec.low is not None and spec.high is not None and spec.low < spec.high
        if spec.kind in ("flag", "ordinal"):
            assert spec.codes
    assert VOCABULARY["sex"].codes == {1: "male", 2: "female"}
    assert dict(VOCABULARY["urine_protein"].codes or {}) == {
        0: "−",
        1: "±",
        2: "+",
        3: "2+",
        4: "3+",
    }
    frame = vocabulary_frame()
    assert list(frame.index) == VOCAB_MD


def test_aliases_are_unambiguous() -> None:
    seen: dict[str, str] = {}
    for spec in VOCABULARY.values():
        for alias in spec.aliases:
            key = normalise_header(alias)
            assert seen.setdefault(key, spec.name) == spec.name, alias


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("受診者ID", "person_id"),
        ("受診者ＩＤ", "person_id"),
        ("年度", "fiscal_year"),
        ("年齢", "age"),
        ("性別", "sex"),
        ("収縮期血圧", "sbp"),
        ("収縮期血圧（ｍｍＨｇ）", "sbp"),
        ("拡張期血圧", "dbp"),
        ("ＨｂＡ１ｃ", "hba1c"),
        ("HbA1c(NGSP)", "hba1c"),
        ("血清クレアチニン", "creatinine"),
        ("尿蛋白", "urine_protein"),
        ("尿糖", "urine_glucose"),
        ("γ－ＧＴ", "ggt"),
        ("ＧＰＴ（ＡＬＴ）", "alt"),
        ("服薬1（血圧）", "med_bp"),
        ("服薬2（血糖）", "med_glucose"),
        ("服薬3（脂質）", "med_lipid"),
        ("ｅＧＦＲ", "egfr"),
        ("  SBP ", "sbp"),
    ],
)
def test_japanese_and_full_width_headers(header: str, name: str) -> None:
    assert canonical_name(header) == name


def test_unknown_header_is_not_guessed() -> None:
    assert canonical_name("血圧") is None
    assert canonical_name("備考") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("−", 0),
        ("-", 0),
        ("－", 0),
        ("(−)", 0),
        ("（－）", 0),
        ("陰性", 0),
        ("±", 1),
        ("+", 2),
        ("＋", 2),
        ("1+", 2),
        ("2+", 3),
        ("++", 3),
        ("＋＋", 3),
        ("２＋", 3),
        ("3+", 4),
        ("+++", 4),
        ("（＋＋＋）", 4),
    ],
)
def test_dipstick_text_codes(text: str, code: int) -> None:
    assert text_codes(VOCABULARY["urine_protein"])[normalise_value(text)] == code


@pytest.mark.parametrize(
    ("text", "code"), [("男", 1), ("男性", 1), ("M", 1), ("ｍ", 1), ("女", 2), ("F", 2)]
)
def test_sex_text_codes(text: str, code: int) -> None:
    assert text_codes(VOCABULARY["sex"])[normalise_value(text)] == code
