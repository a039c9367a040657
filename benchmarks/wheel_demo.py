"""Build the wheel, install it into a fresh virtual environment, run `pfseval demo` there.

Checks that the wheel carries the example evaluations (issue 12, item 7): the demo runs in an
empty folder outside the repository. Too slow for the default test run (about a minute:
the wheel build plus the demo), so it is a script:

    .venv/bin/python benchmarks/wheel_demo.py            # reuse this environment's dependencies
    .venv/bin/python benchmarks/wheel_demo.py --full     # also install every dependency afresh

Without ``--full`` the new environment sees the current environment's third-party packages
through a ``.pth`` file (pfseval itself comes only from the wheel, installed with
``--no-deps``), so the check takes about a minute instead of several. Writes
``benchmarks/results/wheel_demo.txt``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)  # type: ignore[call-overload]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="install every dependency afresh")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(t / "w"), str(ROOT)]
        )
        wheel = next((t / "w").glob("pfseval-*.whl"))
        venv = t / "venv"
        _run([sys.executable, "-m", "venv", str(venv)])
        py = venv / "bin" / "python"
        if args.full:
            _run([str(py), "-m", "pip", "install", "-q", str(wheel)])
        else:
            purelib = _run(
                [str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
            )
            (Path(purelib.stdout.strip()) / "deps.pth").write_text(
                sysconfig.get_path("purelib") + "\n", encoding="utf-8"
            )
            _run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)])
        empty = t / "empty"
        empty.mkdir()
        where = _run([str(py), "-c", "import pfseval; print(pfseval.__file__)"], cwd=empty)
        assert str(venv) in where.stdout, f"pfseval not imported from the wheel: {where.stdout}"
        demo = _run([str(venv / "bin" / "pfseval"), "demo", "--quiet"], cwd=empty)
        results = sorted(p.relative_to(empty).as_posix() for p in empty.rglob("results.json"))
        assert results == [
            "pfseval-demo/kobe_evaluation/results.json",
            "pfseval-demo/screening_evaluation/results.json",
        ], results
    seconds = time.perf_counter() - t0
    report = (
        f"wheel {wheel.name}: installed into a fresh venv ({'full' if args.full else '--no-deps'}), "
        f"`pfseval demo` in an empty folder wrote {len(results)} results.json in {seconds:.0f} s\n"
        f"command: .venv/bin/python benchmarks/wheel_demo.py{' --full' if args.full else ''}\n"
        f"last demo line: {demo.stdout.strip().splitlines()[-1]}\n"
    )
    out = ROOT / "benchmarks" / "results" / "wheel_demo.txt"
    out.write_text(report, encoding="utf-8")
    print(report, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
