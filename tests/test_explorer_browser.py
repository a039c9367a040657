"""The contract explorer page in headless Chromium: move sliders, read the total, compare.

The page's script re-implements the payment rules in JavaScript, so the test drives it as a
user would: a probe script injected after the page's own script sets each slider (or the
number box) to a value, fires the ``input`` event, and records the total and every component's
amount the page shows. Each recorded state is compared with :meth:`Contract.evaluate` on the
same values. ``--dump-dom`` returns the records.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from pfseval.cli import cli
from pfseval.payment import Contract
from pfseval.payment.explorer import explorer_html, slider_range

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (CI installs Debian's chromium)"
)

# every schedule type, both directions, component caps / floors, deductions, several rounding
# rules, and a value whose binary form falls just below a threshold
ALL_TYPES = {
    "contract": {
        "name": "全種類（検証用）",
        "unit": "千円",
        "rounding": "floor",
        "cap": 5000,
        "fixed": [{"label": "固定", "amount": 500}],
        "component": [
            {
                "indicator": "a",
                "label": "A",
                "allocation": 1000,
                "kind": "proportion",
                "schedule": {"type": "proportional", "target": 0.8, "lower": 0.2},
            },
            {
                "indicator": "b",
                "label": "B",
                "direction": "lower",
                "allocation": 700,
                "rounding": "half_up",
                "schedule": {"type": "proportional", "target": 2, "lower": 6},
            },
            {
                "indicator": "c",
                "label": "C",
                "kind": "proportion",
                "schedule": {"type": "step", "steps": [[0.3, 100], [0.4, 1000]]},
            },
            {
                "indicator": "d",
                "label": "D",
                "direction": "lower",
                "kind": "count",
                "schedule": {"type": "step", "steps": [[10, 600], [20, 300], [30, 100]]},
            },
            {
                "indicator": "e",
                "label": "E",
                "allocation": 800,
                "direction": "lower",
                "schedule": {"type": "band", "bands": [[0.1, 1.0], [0.2, 0.5]]},
            },
            {
                "indicator": "f",
                "label": "F",
                "direction": "lower",
                "rounding": "ceil",
                "rounding_unit": 10,
                "schedule": {"type": "interpolate", "points": [[0.1, 1000], [0.3, 0]]},
            },
            {
                "indicator": "g",
                "label": "G",
                "allocation": 300,
                "direction": "lower",
                "schedule": {"type": "pass_fail", "threshold": 0.12},
            },
            {
                "indicator": "h",
                "label": "H",
                "direction": "lower",
                "cap": 150,
                "schedule": {
                    "type": "per_unit",
                    "unit_amount": 100,
                    "reference": 5.0,
                    "max_units": 2,
                },
            },
            {
                "indicator": "i",
                "label": "I",
                "floor": -500,
                "kind": "count",
                "schedule": {"type": "per_unit", "unit_amount": -25},
            },
            {
                "indicator": "j",
                "label": "J",
                "allocation": 2000,
                "rounding": "half_up",
                "schedule": {"type": "band", "bands": [[0.1, 0.5], [0.2, 0.8], [0.3, 1.0]]},
            },
            {
                "indicator": "k",
                "label": "K",
                "allocation": 5000,
                "kind": "difference",
                "schedule": {
                    "type": "per_unit",
                    "unit_amount": 10,
                    "max_units": 500,
                    "whole_units": True,
                },
            },
        ],
    }
}

PROBE = """<script>
(function () {
  var SCEN = %s;
  var out = [];
  SCEN.forEach(function (sc) {
    sc.values.forEach(function (v, j) {
      var el = document.getElementById(sc.via + "-" + j);
      el.value = String(v);
      el.dispatchEvent(new Event("input"));
    });
    var used = sc.values.map(function (v, j) {
      return parseFloat(document.getElementById(sc.via + "-" + j).value);
    });
    var amounts = Array.prototype.map.call(document.querySelectorAll(".amount"),
      function (a) { return parseFloat(a.dataset.amount); });
    out.push({used: used, total: parseFloat(document.getElementById("total").dataset.total),
              amounts: amounts});
  });
  var b = document.getElementById("bounds").dataset;
  var pre = document.createElement("pre");
  pre.id = "pfseval-probe";
  pre.textContent = JSON.stringify({states: out, errors: window.__errors,
    bounds: [b.low, b.high], svgs: document.querySelectorAll("svg polyline").length});
  document.body.appendChild(pre);
})();
</script>"""

ERRORS = """<script>window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); }, true);
</script>"""


def _run_page(html: str, scenarios: list[dict[str, Any]], tmp: Path) -> dict[str, Any]:
    page = tmp / "page.html"
    probe = PROBE % json.dumps(scenarios)
    html = html.replace("<head>", "<head>" + ERRORS, 1)
    page.write_text(html.replace("</body>", probe + "</body>", 1), encoding="utf-8")
    assert CHROMIUM is not None
    res = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    m = re.search(r'<pre id="pfseval-probe">(.*?)</pre>', res.stdout, re.S)
    assert m is not None, res.stderr[-2000:]
    console = [ln for ln in res.stderr.splitlines() if "CONSOLE" in ln]
    assert console == [], console
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _scenarios(c: Contract, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Random slider positions on each slider's grid, plus every threshold exactly."""
    sl = [slider_range(x) for x in c.components]
    out = []
    for _ in range(n):
        vals = []
        for s in sl:
            k = int(rng.integers(0, round((s["max"] - s["min"]) / s["step"]) + 1))
            vals.append(round(s["min"] + k * s["step"], 10))
        out.append({"via": "slider", "values": vals})
    knots = [list(x.schedule.knots()) for x in c.components]
    for i in range(max(len(k) for k in knots)):
        vals = [float(k[min(i, len(k) - 1)]) for k in knots]
        out.append({"via": "number", "values": vals})
    return out


def _check(c: Contract, probe: dict[str, Any]) -> None:
    assert probe["errors"] == []
    assert probe["svgs"] == len(c.components)
    assert len({st["total"] for st in probe["states"]}) > 3  # the sliders did move the total
    for st in probe["states"]:
        values = {x.indicator: v for x, v in zip(c.components, st["used"], strict=True)}
        res = c.evaluate(values, basis="point")
        expected = [r["amount_rounded"] for r in res.rows if r["kind"] == "outcome"]
        # exact: the page applies the same floating-point operations in the same order
        assert st["amounts"] == pytest.approx(expected, abs=1e-9), st
        assert st["total"] == pytest.approx(res.total, abs=1e-9), st


# exercise_band's and urasoe's schedule types and rounding rules are in ALL_TYPES below
@pytest.mark.parametrize("name", ["kobe", "cancer_screening"])
def test_explorer_matches_contract_evaluate(name: str, tmp_path: Path) -> None:
    c = Contract.from_toml(ROOT / f"examples/contracts/{name}.toml")
    scen = _scenarios(c, np.random.default_rng(len(name)), 30)
    _check(c, _run_page(explorer_html(c), scen, tmp_path))


def test_explorer_every_schedule_type_and_exact_thresholds(tmp_path: Path) -> None:
    c = Contract.from_dict(ALL_TYPES)
    scen = _scenarios(c, np.random.default_rng(7), 40)
    # typed into the number boxes: the mean of 10% and 70% meets the 0.4 step, a value just
    # below it does not
    base = [0.5, 3.0, 0.0, 15, 0.15, 0.2, 0.1, 4.0, 3, 0.25, 321.5]
    for x in ((0.1 + 0.7) / 2, 0.3999):
        v = list(base)
        v[2] = x
        scen.append({"via": "number", "values": v})
    probe = _run_page(explorer_html(c), scen, tmp_path)
    _check(c, probe)
    used_c = [s["used"][2] for s in probe["states"][-2:]]
    assert used_c == [(0.1 + 0.7) / 2, 0.3999]
    assert [s["amounts"][2] for s in probe["states"][-2:]] == [1000, 100]


def test_explore_command_with_results_shows_payment_at_ci_bounds(tmp_path: Path) -> None:
    results = {
        "indicators": {
            "completion_rate": {"value": 1.0, "conf_low": 0.93, "conf_high": 1.0},
            "lifestyle_improvement_rate": {"value": 0.95, "conf_low": 0.88, "conf_high": 0.98},
            "suppression_rate": {"value": 0.329, "conf_low": 0.21, "conf_high": 0.46},
        }
    }
    (tmp_path / "results.json").write_text(json.dumps(results), encoding="utf-8")
    out = tmp_path / "page.html"
    kobe = ROOT / "examples/contracts/kobe.toml"
    r = CliRunner().invoke(
        cli, ["explore", str(kobe), "--out", str(out), "--results", str(tmp_path / "results.json")]
    )
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html
    probe = _run_page(html, [{"via": "slider", "values": [1.0, 0.95, 0.329]}], tmp_path)
    c = Contract.from_toml(kobe)
    assert probe["states"][0]["total"] == 29435
    low = c.evaluate({k: v["conf_low"] for k, v in results["indicators"].items()}).total
    high = c.evaluate({k: v["conf_high"] for k, v in results["indicators"].items()}).total
    assert [float(x) for x in probe["bounds"]] == [low, high]
