"""The design contract, checked over the whole registry.

Every registered design must: reject a bad ``level``, an unknown option and a value outside an
option's allowed set with a ``DesignError`` naming the option (through the function itself and
through the validator spec files use); declare exactly the options its function takes; use the
shared vocabulary; declare every diagnostic and message it uses in both languages.
"""

from __future__ import annotations

import inspect
import re

import pytest

from pfseval.designs import contract
from pfseval.errors import DesignError
from pfseval.messages import LANGS, Message, catalogue, template_fields

REGISTRY = dict(contract.designs())
NAMES = sorted(REGISTRY)


def test_registry_has_every_builtin_design():
    expected = {
        "proportion.rate",
        "proportion.mean_of_rates",
        "rct.compare",
        "rct.permutation_test",
        "prepost.compare",
        "prepost.paired_proportions",
        "prepost.share_improved",
        "prepost.count_total",
        "baseline.compare",
        "psm.match",
        "psm.att",
        "psm.suppression_rate",
    }
    assert expected <= set(REGISTRY), sorted(expected - set(REGISTRY))


@pytest.mark.parametrize("name", NAMES)
def test_bad_level_raises_design_error_naming_level(name):
    spec = REGISTRY[name]
    fn = spec.load()
    if "level" not in spec.option_map:
        pytest.skip(f"{name} has no level option")
    with pytest.raises(DesignError, match=r"'level'"):
        contract.check_options(spec, {"level": 1.5})
    # The function checks its options before it looks at its data: None stands in for data.
    with pytest.raises(DesignError, match=r"'level'"):
        fn(None, level=1.5)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_option_raises_design_error_naming_it(name):
    spec = REGISTRY[name]
    with pytest.raises(DesignError, match=r"'no_such_option'"):
        contract.check_options(spec, {"no_such_option": 1})
    with pytest.raises(DesignError, match=r"'no_such_option'"):
        spec.load()(None, no_such_option=1)


def _bad_values(opt: contract.Option) -> list[object]:
    """Values each option kind must refuse."""
    out: list[object] = []
    if opt.kind == "choice" and "any" not in opt.also:
        out.append("__not_a_choice__")
    if opt.kind in ("int", "float") and not opt.also:
        out.append("text")
        if opt.low is not None:
            out.append(opt.low - 1)
        if opt.high is not None:
            out.append(opt.high + 1)
    if opt.kind == "columns" and not opt.also:
        out.append(["a", "a"])  # a repeated name
    if opt.kind == "bool" and not opt.also:
        out.append("yes")
    return out


CASES = [
    (name, opt.name, bad)
    for name in NAMES
    for opt in REGISTRY[name].options
    for bad in _bad_values(opt)
]


@pytest.mark.parametrize(("name", "option", "value"), CASES)
def test_value_outside_allowed_set_raises_design_error(name, option, value):
    with pytest.raises(DesignError, match=re.escape(repr(option))):
        contract.check_options(REGISTRY[name], {option: value})


@pytest.mark.parametrize("name", NAMES)
def test_declared_options_match_the_function_signature(name):
    spec = REGISTRY[name]
    params = list(inspect.signature(spec.load()).parameters.values())
    first, rest = params[0], params[1:]
    assert first.kind in (first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD)
    for p in rest:
        assert p.kind is p.KEYWORD_ONLY, f"{name}: option {p.name!r} must be keyword-only"
    declared = set(spec.option_map)
    taken = {p.name for p in rest}
    assert declared == taken, (
        f"{name}: declared but not taken {sorted(declared - taken)}; "
        f"taken but not declared {sorted(taken - declared)}"
    )
    for p in rest:
        opt = spec.option_map[p.name]
        if p.default is p.empty:
            assert opt.required, f"{name}: {p.name!r} has no default but is not declared required"
        elif p.default is not None and opt.kind != "any":
            assert opt.problem(p.default) is None, f"{name}: default of {p.name!r} not allowed"


#: Names the vocabulary retired, with the name to use instead.
RETIRED = {
    "id_column": "id_col",
    "id": "id_col",
    "arm": "treatment",
    "group": "treatment",
    "adjust": "covariates",
    "regressors": "covariates",
    "alpha": "level",
    "conf_level": "level",
    "confidence": "level",
    "random_state": "seed",
    "rng": "seed",
    "B": "n_boot",
    "nboot": "n_boot",
    "n_bootstrap": "n_boot",
    "name": "label",
}


@pytest.mark.parametrize("name", NAMES)
def test_shared_vocabulary(name):
    spec = REGISTRY[name]
    params = set(list(inspect.signature(spec.load()).parameters)[1:])
    for old, new in RETIRED.items():
        assert old not in params, f"{name}: option {old!r} should be {new!r}"
    assert "label" in params, f"{name}: every design takes label="
    if name != "psm.match":
        assert "level" in params, f"{name}: every estimating design takes level="
    for common, opt in contract.COMMON_OPTIONS.items():
        if common in spec.option_map:
            mine = spec.option_map[common]
            assert (mine.kind, mine.low, mine.high) == (opt.kind, opt.low, opt.high), (
                f"{name}: {common!r} must mean what it means everywhere"
            )
    if "id_col" in params:
        default = inspect.signature(spec.load()).parameters["id_col"].default
        assert default in ("person_id", None), f"{name}: id_col default {default!r}"


@pytest.mark.parametrize("name", NAMES)
def test_design_declares_texts_and_known_diagnostics(name):
    spec = REGISTRY[name]
    for what in ("title", "description", "assumptions"):
        for lang in LANGS:
            assert getattr(spec, what)[lang].strip()
    unknown = [d for d in spec.diagnostics if d not in contract.DIAGNOSTICS]
    assert not unknown, f"{name}: diagnostics not declared: {unknown}"
    if spec.matching is not None:
        assert spec.matching in REGISTRY


def _load_everything() -> None:
    """Import every module that declares messages."""
    import pkgutil

    import pfseval

    for mod in pkgutil.walk_packages(pfseval.__path__, "pfseval."):
        if mod.name.endswith("__main__"):
            continue
        __import__(mod.name)


_load_everything()
CODES = sorted(catalogue())

#: Words a Japanese text may contain in Latin letters: proper names (with a Japanese gloss in
#: the glossary), standard abbreviations and units.
_ALLOWED = """
    Wilson Clopper Pearson Newcombe Welch Wilcoxon McNemar Hodges Lehmann Lin Love Bonferroni
    Poisson Fisher Wald Hamilton HC CR OLS GLM SMD ATT ATC CI SE BMI HbA1c eGFR SBP DBP LDL HDL
    TG FPG ALT AST GT ID CSV TOML PFS SIB NDB mL min m kg mmHg mg dL cm t p z n k d E logit
    probit x B Excel Parquet UTF JSON MatchIt R sd SD DuckDB Dask IPW AIPW HTML PDF DOCX XLSX RD
    RR OR CKD G A JST UTC Gamma NA CR2 HC2 HC3 HC0 HC1 CR1 Rosenbaum VanderWeele BCa
"""
ALLOWED_LATIN = set(_ALLOWED.split())


def _render_all(code: str, lang: str) -> str:
    tmpl = catalogue()[code][lang]
    names = template_fields(tmpl)
    counts = {k: 12 for k in names if k.startswith("n_") or k == "n"}
    params: dict[str, object] = {}
    for k in names - set(counts):
        params[k] = 3
    # a value with a format spec (e.g. {rate:.1%}) must take a number; plain ones take anything
    try:
        return Message(code, params=params, counts=counts).text(lang)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        params = {k: "x" for k in params}
        return Message(code, params=params, counts=counts).text(lang)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", CODES)
def test_every_message_renders_in_both_languages(code):
    ja = _render_all(code, "ja")
    en = _render_all(code, "en")
    assert ja.strip() and en.strip()
    # No untranslated English in the Japanese text: Latin words are allowed names only.
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", ja)
    bad = [w for w in words if w not in ALLOWED_LATIN and w != "x"]
    assert not bad, f"{code}: English in the Japanese text: {bad} in {ja!r}"
    # and the English text has no Japanese.
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", en), f"{code}: Japanese in {en!r}"
