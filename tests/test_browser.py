"""The HTML appendix renders in headless Chromium: every figure loads, no console errors.

The appendix itself has no scripts. The test renders a copy with a small probe script
injected at the top of ``<head>``: it records every error event (script errors and failed
resource loads, caught in the capture phase) and, once the page has loaded, writes the
``naturalWidth`` of every image and the state of the embedded font into the DOM, which
``--dump-dom`` returns. Chromium's console log (``--enable-logging=stderr``) is checked too.
A screenshot of the unmodified appendix is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (CI installs Debian's chromium)"
)

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target || {};
  window.__errors.push(t.tagName ? ('resource ' + t.tagName + ' ' + String(t.src).slice(0, 40))
                                 : String(e.message));
}, true);
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {complete: i.complete, w: i.naturalWidth, h: i.naturalHeight};
  });
  document.fonts.load('12px IPAexGothic', '腎機能').then(function (faces) {
    var out = document.createElement('pre');
    out.id = 'pfseval-probe';
    out.textContent = JSON.stringify({
      images: imgs, errors: window.__errors,
      fontStatus: faces.map(function (f) { return f.family + ':' + f.status; }),
      height: document.body.scrollHeight
    });
    document.body.appendChild(out);
  });
});
</script>"""


def _chromium(args: list[str], user_dir: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={user_dir}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def appendix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pfseval.batch import load_spec, run_spec, write_outputs

    d = tmp_path_factory.mktemp("browser")
    rng = np.random.default_rng(5)
    n = 200
    treated = (np.arange(n) % 2).astype(int)
    completed = np.where(treated == 1, (rng.random(n) < 0.9).astype(float), np.nan)
    dom = {
        f"lifestyle_{k}": np.where(completed == 1, (rng.random(n) < 0.8).astype(float), np.nan)
        for k in ("diet", "exercise", "monitoring", "medication")
    }
    pd.DataFrame(
        {"person_id": [f"B{i:04d}" for i in range(n)], "treated": treated, "completed": completed}
        | dom
    ).to_csv(d / "people.csv", index=False)
    contract = (ROOT / "examples/contracts/kobe.toml").as_posix()
    (d / "spec.toml").write_text(
        f"""
[evaluation]
title = "ブラウザ表示の確認"
[data.people]
path = "people.csv"
[cohorts.participants]
from = "people"
where = [{{ column = "treated", op = "==", value = 1 }}]
[cohorts.completers]
from = "participants"
where = [{{ column = "completed", op = "==", value = 1 }}]
[[indicators]]
id = "completion_rate"
label = "プログラム修了率"
design = "proportion.rate"
data = "participants"
options = {{ outcome = "completed" }}
[[indicators]]
id = "lifestyle_improvement_rate"
label = "生活習慣改善率"
design = "proportion.mean_of_rates"
data = "completers"
options = {{ outcomes = ["lifestyle_diet", "lifestyle_exercise", "lifestyle_monitoring", "lifestyle_medication"], n_boot = 200 }}
[[indicators]]
id = "suppression_rate"
label = "腎機能低下抑制率（表示確認用）"
design = "proportion.rate"
data = "completers"
options = {{ outcome = "lifestyle_diet" }}
[contract]
path = "{contract}"
""",
        encoding="utf-8",
    )
    write_outputs(run_spec(load_spec(d / "spec.toml")), d / "out")
    return d / "out" / "appendix.html"


def test_appendix_renders_with_every_figure(appendix: Path, tmp_path: Path) -> None:
    html = appendix.read_text(encoding="utf-8")
    n_img = html.count("<img ")
    assert n_img >= 2
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    res = _chromium(
        [
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe_page.as_uri(),
        ],
        tmp_path / "profile1",
    )
    m = re.search(r'<pre id="pfseval-probe">(.*?)</pre>', res.stdout, re.S)
    assert m is not None, res.stderr[-2000:]
    probe = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(probe["images"]) == n_img
    assert all(i["complete"] and i["w"] > 0 and i["h"] > 0 for i in probe["images"])
    assert probe["errors"] == []
    # the embedded IPAex subset is the face used for Japanese text, and it loaded
    assert probe["fontStatus"] == ["IPAexGothic:loaded"]
    assert probe["height"] > 1000
    console = [ln for ln in res.stderr.splitlines() if "CONSOLE" in ln]
    assert console == [], console

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "appendix.png"
    shot.unlink(missing_ok=True)
    res2 = _chromium(
        ["--window-size=1000,2400", "--hide-scrollbars", f"--screenshot={shot}", appendix.as_uri()],
        tmp_path / "profile2",
    )
    assert shot.is_file() and shot.stat().st_size > 20_000, res2.stderr[-2000:]
