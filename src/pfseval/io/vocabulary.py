"""The canonical 特定健診 (specific health checkup) column vocabulary.

Every dataset pfseval reads is mapped onto these snake_case English names. Each column has a
:class:`ColumnSpec` with its Japanese and English labels, unit, kind, plausible range, allowed
codes and the header aliases a loader recognises. Headers are compared after
:func:`normalise_header` (Unicode NFKC, case folding, whitespace removed), so full-width forms
such as ``ＨｂＡ１ｃ`` and ``（ｍｍＨｇ）`` match.

Value conversions (documented, never silent: loaders report how many values they converted):

* ``sex``: ``1``/``2`` (the Japanese standard coding 1 = male, 2 = female); the strings
  ``男``, ``男性``, ``M``, ``male`` → 1 and ``女``, ``女性``, ``F``, ``female`` → 2.
* dipstick columns (``urine_protein``, ``urine_glucose``): the ordinal codes 0–4; the strings
  ``−``/``-`` → 0, ``±`` → 1, ``+``/``1+`` → 2, ``2+``/``++`` → 3, ``3+``/``+++`` → 4, in any
  Unicode form (minus sign U+2212, full-width ``－``/``＋``, a surrounding ``( )``) and ``陰性``
  (negative) → 0.
* 0/1 flags: ``0``/``1``, ``はい``/``いいえ``, ``あり``/``なし``, ``yes``/``no``, ``true``/``false``.

Anything else (e.g. sex ``3``, dipstick ``5``, flag ``2``) is an *unknown code* and a
validation error: pfseval never guesses. Note that the MHLW XML standard codes the dipstick
as 1–5 and questionnaire answers as 1 = yes / 2 = no; such files must be recoded first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import pandas as pd

__all__ = [
    "DIPSTICK_CODES",
    "DIPSTICK_LABELS",
    "FLAG_CODES",
    "REQUIRED_COLUMNS",
    "SEX_CODES",
    "VOCABULARY",
    "ColumnSpec",
    "canonical_name",
    "normalise_header",
    "normalise_value",
    "text_codes",
    "vocabulary_frame",
]

Kind = Literal["id", "int", "float", "flag", "ordinal", "code"]


@dataclass(frozen=True)
class ColumnSpec:
    """Specification of one canonical column.

    Attributes
    ----------
    name
        Canonical snake_case name.
    label_ja, label_en
        Japanese and English labels (the Japanese label is what appendices print).
    unit
        Unit of measurement (``""`` when none).
    kind
        ``"id"`` (text identifier), ``"int"``, ``"float"``, ``"flag"`` (0/1),
        ``"ordinal"`` (integer codes with labels), ``"code"`` (text code).
    low, high
        Plausible range (inclusive). Values outside are validation errors: the bounds are wide
        enough to admit real extremes and catch unit mix-ups and typing slips.
    codes
        Allowed integer codes and their labels (flags, ordinal and coded columns).
    aliases
        Source headers a loader maps onto this column (Japanese and English).
    required
        Whether every dataset must have the column (``person_id``, ``fiscal_year``, ``age``,
        ``sex``).
    description
        Notes for users (conventions, coding).
    """

    name: str
    label_ja: str
    label_en: str
    unit: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    codes: Mapping[int, str] | None = None
    aliases: tuple[str, ...] = ()
    required: bool = False
    description: str = ""

    @property
    def numeric(self) -> bool:
        """Whether values are numbers (every kind except ``id`` and ``code``)."""
        return self.kind not in ("id", "code")

    @property
    def integer(self) -> bool:
        """Whether values must be whole numbers."""
        return self.kind in ("int", "flag", "ordinal")

    def expected(self) -> str:
        """The expected values in words, e.g. ``'60 ≤ sbp ≤ 300 mmHg'``.

        Examples
        --------
        >>> VOCABULARY["sbp"].expected()
        '60 ≤ sbp ≤ 300 mmHg'
        >>> VOCABULARY["sex"].expected()
        'one of 1 (male), 2 (female)'
        """
        if self.codes is not None:
            return "one of " + ", ".join(f"{k} ({v})" for k, v in self.codes.items())
        if self.low is not None and self.high is not None:
            unit = f" {self.unit}" if self.unit else ""
            return f"{_num(self.low)} ≤ {self.name} ≤ {_num(self.high)}{unit}"
        return {"id": "a non-empty identifier", "code": "a text code"}.get(self.kind, "")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


SEX_CODES: Mapping[int, str] = MappingProxyType({1: "male", 2: "female"})
DIPSTICK_CODES: Mapping[int, str] = MappingProxyType({0: "−", 1: "±", 2: "+", 3: "2+", 4: "3+"})
"""Dipstick ordinal codes and their printed labels."""
DIPSTICK_LABELS = DIPSTICK_CODES
FLAG_CODES: Mapping[int, str] = MappingProxyType({0: "no", 1: "yes"})

# Text forms recognised per kind of coded column, keyed by normalise_value(text).
_SEX_TEXT = {"男": 1, "男性": 1, "m": 1, "male": 1, "女": 2, "女性": 2, "f": 2, "female": 2}
_DIPSTICK_TEXT = {
    "-": 0,
    "陰性": 0,
    "±": 1,
    "+-": 1,
    "+": 2,
    "1+": 2,
    "2+": 3,
    "++": 3,
    "3+": 4,
    "+++": 4,
}
_FLAG_TEXT = {
    "はい": 1,
    "いいえ": 0,
    "あり": 1,
    "なし": 0,
    "有": 1,
    "無": 0,
    "yes": 1,
    "no": 0,
    "y": 1,
    "n": 0,
    "true": 1,
    "false": 0,
}
_MINUS_LIKE = dict.fromkeys(map(ord, "\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe63"), "-")


def normalise_value(text: str) -> str:
    """Normalise a text cell before code lookup: NFKC, minus-like dashes → ``-``, no spaces,
    no surrounding brackets, lower case.

    Examples
    --------
    >>> normalise_value("（＋＋）")
    '++'
    >>> normalise_value(" − ")
    '-'
    """
    s = normalise_header(text)
    if len(s) >= 2 and s[0] == "(" and s[-1] == ")":
        s = s[1:-1]
    return s


def text_codes(spec: ColumnSpec) -> Mapping[str, int]:
    """The text forms recognised for a coded column (empty for other columns)."""
    if spec.name == "sex":
        return _SEX_TEXT
    if spec.kind == "ordinal" and spec.codes is DIPSTICK_CODES:
        return _DIPSTICK_TEXT
    if spec.kind == "flag":
        return _FLAG_TEXT
    return {}


def normalise_header(header: object) -> str:
    """Normalise a column header for matching: NFKC, case folding, no whitespace.

    Examples
    --------
    >>> normalise_header("ＨｂＡ１ｃ")
    'hba1c'
    >>> normalise_header(" 収縮期血圧（ｍｍＨｇ） ")
    '収縮期血圧(mmhg)'
    """
    s = unicodedata.normalize("NFKC", str(header)).translate(_MINUS_LIKE)
    return re.sub(r"\s+", "", s).casefold()


def _strip_unit(key: str) -> str:
    """Drop one trailing bracketed part, e.g. a unit: ``'hba1c(ngsp)'`` → ``'hba1c'``."""
    return re.sub(r"[(\[][^()\[\]]*[)\]]$", "", key)


def _spec(
    name: str,
    ja: str,
    en: str,
    unit: str,
    kind: Kind,
    low: float | None = None,
    high: float | None = None,
    *,
    aliases: tuple[str, ...] = (),
    codes: Mapping[int, str] | None = None,
    required: bool = False,
    description: str = "",
) -> ColumnSpec:
    if kind == "flag" and codes is None:
        codes = FLAG_CODES
    return ColumnSpec(
        name=name,
        label_ja=ja,
        label_en=en,
        unit=unit,
        kind=kind,
        low=low,
        high=high,
        codes=codes,
        aliases=(name, ja, en, *aliases),
        required=required,
        description=description,
    )


_SPECS = (
    _spec(
        "person_id",
        "受診者ID",
        "person ID",
        "",
        "id",
        aliases=("受診者番号", "個人ID", "匿名ID", "匿名化ID", "被保険者ID", "対象者ID", "ID"),
        required=True,
        description="Anonymised person identifier, kept as text (leading zeros preserved).",
    ),
    _spec(
        "fiscal_year",
        "年度",
        "fiscal year",
        "",
        "int",
        2008,
        2099,
        aliases=("健診年度", "受診年度", "実施年度", "FY", "year"),
        required=True,
        description="Japanese fiscal year (April–March) in the Western calendar; 特定健診 began "
        "in FY2008.",
    ),
    _spec(
        "age",
        "年齢",
        "age",
        "years",
        "int",
        18,
        110,
        aliases=("受診時年齢", "健診時年齢"),
        required=True,
        description="Age in whole years (特定健診 covers 40–74).",
    ),
    _spec(
        "sex",
        "性別",
        "sex",
        "",
        "ordinal",
        codes=SEX_CODES,
        aliases=("性", "gender"),
        required=True,
        description="1 = male, 2 = female (Japanese standard); 男/女/M/F are converted.",
    ),
    _spec("height", "身長", "height", "cm", "float", 120, 220),
    _spec("weight", "体重", "weight", "kg", "float", 25, 250),
    _spec("bmi", "BMI", "body mass index", "kg/m²", "float", 12, 70, aliases=("体格指数",)),
    _spec(
        "waist",
        "腹囲",
        "waist circumference",
        "cm",
        "float",
        40,
        200,
        aliases=("腹囲(実測)", "ウエスト", "ウエスト周囲径"),
    ),
    _spec(
        "sbp",
        "収縮期血圧",
        "systolic blood pressure",
        "mmHg",
        "float",
        60,
        300,
        aliases=("最高血圧", "血圧(収縮期)", "血圧_収縮期", "systolic"),
    ),
    _spec(
        "dbp",
        "拡張期血圧",
        "diastolic blood pressure",
        "mmHg",
        "float",
        30,
        200,
        aliases=("最低血圧", "血圧(拡張期)", "血圧_拡張期", "diastolic"),
    ),
    _spec(
        "tg",
        "中性脂肪",
        "triglycerides",
        "mg/dL",
        "float",
        10,
        5000,
        aliases=("中性脂肪(トリグリセリド)", "トリグリセリド", "空腹時中性脂肪", "triglyceride"),
    ),
    _spec(
        "hdl",
        "HDLコレステロール",
        "HDL cholesterol",
        "mg/dL",
        "float",
        5,
        250,
        aliases=("HDL-C", "HDL", "HDL-コレステロール"),
    ),
    _spec(
        "ldl",
        "LDLコレステロール",
        "LDL cholesterol",
        "mg/dL",
        "float",
        10,
        600,
        aliases=("LDL-C", "LDL", "LDL-コレステロール"),
    ),
    _spec("ast", "AST", "AST (GOT)", "U/L", "float", 1, 5000, aliases=("GOT", "AST(GOT)")),
    _spec("alt", "ALT", "ALT (GPT)", "U/L", "float", 1, 5000, aliases=("GPT", "ALT(GPT)")),
    _spec(
        "ggt",
        "γ-GT",
        "gamma-GT",
        "U/L",
        "float",
        1,
        5000,
        aliases=("γ-GTP", "γGT", "γGTP", "γ-GT(γ-GTP)", "ガンマGT", "ガンマGTP", "GGT", "GGTP"),
    ),
    _spec(
        "fpg",
        "空腹時血糖",
        "fasting plasma glucose",
        "mg/dL",
        "float",
        20,
        1000,
        aliases=("空腹時血糖値", "血糖(空腹時)", "FBS", "fasting glucose"),
    ),
    _spec(
        "hba1c",
        "HbA1c",
        "HbA1c (NGSP)",
        "%",
        "float",
        3,
        20,
        aliases=("HbA1c(NGSP)", "ヘモグロビンA1c", "HbA1c(NGSP値)"),
        description="NGSP value in %; JDS values (before 2012) must be converted first.",
    ),
    _spec(
        "urine_protein",
        "尿蛋白",
        "urine protein (dipstick)",
        "",
        "ordinal",
        codes=DIPSTICK_CODES,
        aliases=("尿たんぱく", "尿タンパク", "尿蛋白(定性)", "尿たんぱく(定性)", "蛋白"),
        description="Dipstick: 0 = −, 1 = ±, 2 = +, 3 = 2+, 4 = 3+.",
    ),
    _spec(
        "urine_glucose",
        "尿糖",
        "urine glucose (dipstick)",
        "",
        "ordinal",
        codes=DIPSTICK_CODES,
        aliases=("尿糖(定性)",),
        description="Dipstick: 0 = −, 1 = ±, 2 = +, 3 = 2+, 4 = 3+.",
    ),
    _spec(
        "creatinine",
        "血清クレアチニン",
        "serum creatinine",
        "mg/dL",
        "float",
        0.1,
        20,
        aliases=("クレアチニン", "血清Cr", "Cr", "s-Cr", "sCr"),
        description="Detailed item (詳細健診): missing for many people.",
    ),
    _spec(
        "egfr",
        "eGFR",
        "estimated GFR",
        "mL/min/1.73m²",
        "float",
        1,
        300,
        aliases=("推算糸球体濾過量", "推算GFR", "eGFR値"),
        description="JSN equation; fill missing values from creatinine with fill_egfr().",
    ),
    _spec(
        "med_bp",
        "服薬(血圧)",
        "antihypertensive medication",
        "",
        "flag",
        aliases=("服薬1(血圧)", "服薬1", "服薬_血圧", "血圧を下げる薬", "降圧薬"),
    ),
    _spec(
        "med_glucose",
        "服薬(血糖)",
        "glucose-lowering medication",
        "",
        "flag",
        aliases=(
            "服薬2(血糖)",
            "服薬2",
            "服薬_血糖",
            "血糖を下げる薬",
            "インスリン注射又は血糖を下げる薬",
        ),
    ),
    _spec(
        "med_lipid",
        "服薬(脂質)",
        "lipid-lowering medication",
        "",
        "flag",
        aliases=("服薬3(脂質)", "服薬3", "服薬_脂質", "コレステロールや中性脂肪を下げる薬"),
    ),
    _spec("smoking", "喫煙", "current smoking", "", "flag", aliases=("現在喫煙", "喫煙習慣")),
    _spec(
        "exercise",
        "運動習慣",
        "exercise habit",
        "",
        "flag",
        aliases=("運動", "1回30分以上の軽く汗をかく運動"),
        description="1 = has an exercise habit.",
    ),
    _spec(
        "insurer_code",
        "保険者番号",
        "insurer code",
        "",
        "code",
        aliases=("保険者コード",),
    ),
    _spec(
        "municipality_code",
        "市町村コード",
        "municipality code",
        "",
        "code",
        aliases=("市区町村コード", "自治体コード", "団体コード"),
    ),
)

VOCABULARY: Mapping[str, ColumnSpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Canonical column name → :class:`ColumnSpec`, in the standard column order.

Examples
--------
>>> VOCABULARY["hba1c"].unit
'%'
>>> VOCABULARY["sbp"].label_ja
'収縮期血圧'
>>> [c for c, s in VOCABULARY.items() if s.required]
['person_id', 'fiscal_year', 'age', 'sex']
"""

REQUIRED_COLUMNS: tuple[str, ...] = tuple(s.name for s in _SPECS if s.required)


def _alias_index() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for spec in _SPECS:
        for alias in spec.aliases:
            key = normalise_header(alias)
            other = index.setdefault(key, spec.name)
            if other != spec.name:  # pragma: no cover - guarded by a test
                raise RuntimeError(f"alias {alias!r} claimed by {other!r} and {spec.name!r}")
    return MappingProxyType(index)


_ALIASES = _alias_index()


def canonical_name(header: object) -> str | None:
    """The canonical column a source header denotes, or ``None`` when unrecognised.

    The header is normalised (:func:`normalise_header`); if it does not match an alias as is,
    one trailing bracketed part (usually a unit) is dropped and the match retried.

    Examples
    --------
    >>> canonical_name("ＨｂＡ１ｃ")
    'hba1c'
    >>> canonical_name("収縮期血圧(mmHg)")
    'sbp'
    >>> canonical_name("服薬1（血圧）")
    'med_bp'
    >>> canonical_name("備考") is None
    True
    """
    key = normalise_header(header)
    if key in _ALIASES:
        return _ALIASES[key]
    return _ALIASES.get(_strip_unit(key))


def vocabulary_frame() -> pd.DataFrame:
    """The vocabulary as a :class:`pandas.DataFrame` (one row per column), for documentation.

    Examples
    --------
    >>> frame = vocabulary_frame()
    >>> frame.loc["sbp", "unit"]
    'mmHg'
    """
    rows = [
        {
            "name": s.name,
            "label_ja": s.label_ja,
            "label_en": s.label_en,
            "unit": s.unit,
            "kind": s.kind,
            "expected": s.expected(),
            "required": s.required,
            "aliases": ", ".join(s.aliases[3:]),
        }
        for s in _SPECS
    ]
    return pd.DataFrame(rows).set_index("name")
