"""Start-up time: ``import pfseval`` and ``pfseval --help`` (target: under 0.5 s each).

Each is run ``--repeat`` times in a fresh interpreter; the table gives the median and the
fastest wall-clock time, and which heavy libraries the import loaded (none should be: numpy,
pandas, scipy, statsmodels, matplotlib, jinja2, duckdb and dask load on first use).

Usage::

    python benchmarks/import_time.py            # 7 runs each

Writes ``benchmarks/results/import_time.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import write_report  # noqa: E402  (a script folder, not a package)

HEAVY = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "jinja2", "duckdb", "dask")


def _time(cmd: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each run."""
    wall, cpu = [], []
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        wall.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "import_time.md")
    args = ap.parse_args()
    exe = shutil.which("pfseval") or str(Path(sys.executable).parent / "pfseval")
    cases = [
        ("`python -c 'pass'` (the interpreter alone)", [sys.executable, "-c", "pass"]),
        ("`import pfseval`", [sys.executable, "-c", "import pfseval"]),
        ("`pfseval --help`", [exe, "--help"]),
    ]
    probe = "import sys, pfseval, pfseval.cli; print(' '.join(m for m in %r if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe % (HEAVY,)], check=True, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# Start-up time",
        "",
        f"Command: `python benchmarks/import_time.py --repeat {args.repeat}`; Python "
        f"{platform.python_version()}, {platform.machine()}, machine shared with other jobs "
        "(2 cores): wall-clock seconds of a fresh process, which include waiting for the "
        "CPU while other jobs run, and its CPU seconds.",
        "",
        "| command | median wall s | fastest wall s | median CPU s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, cmd in cases:
        ts, cs = _time(cmd, args.repeat)
        lines.append(
            f"| {label} | {statistics.median(ts):.3f} | {min(ts):.3f} | "
            f"{statistics.median(cs):.3f} |"
        )
    lines += [
        "",
        f"Heavy libraries loaded by `import pfseval, pfseval.cli`: {loaded or 'none'}.",
        "",
        "Target (issue 15): `import pfseval` and `pfseval --help` under 0.5 s.",
        "",
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
