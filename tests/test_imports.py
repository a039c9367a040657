"""The layering of the package, read from the source: no cycles between subpackages, no private
module imported across them.

A "unit" is a subpackage (``pfseval.batch``) or a top-level module (``pfseval.result``). Every
import counts, including those inside functions: a lazy import still ties two units together.
The package root (``pfseval/__init__.py``) is the public facade and is left out as a unit; an
import of a name from the root (``from pfseval import __version__``) is not an edge.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "pfseval"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute pfseval modules imported by a file, with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module_name(path).split(".")
    is_pkg = path.name == "__init__.py"
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("pfseval")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = me if is_pkg else me[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            if not mod.startswith("pfseval"):
                continue
            out.append((mod, node.lineno))
            # `from pfseval.x import y` may import the submodule y
            for a in node.names:
                sub = f"{mod}.{a.name}"
                if (SRC.parent / Path(*sub.split("."))).with_suffix(".py").exists() or (
                    SRC.parent / Path(*sub.split("."))
                ).is_dir():
                    out.append((sub, node.lineno))
    return out


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    private: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        src_mod = _module_name(path)
        src_unit = _unit(src_mod)
        if src_unit is None:
            continue
        for target, line in _imports(path):
            dst_unit = _unit(target)
            if dst_unit is None or dst_unit == src_unit:
                continue
            edges[src_unit].add(dst_unit)
            if any(p.startswith("_") and not p.startswith("__") for p in target.split(".")[1:]):
                private.append(f"{path.relative_to(SRC)}:{line} imports {target}")
    return edges, private


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_known_edges():
    edges, _ = _graph()
    assert "result" in edges["designs"]
    assert "errors" in edges["io"]


def test_no_cycle_between_subpackages():
    edges, _ = _graph()
    cycles = _cycles(edges)
    detail = {" ↔ ".join(c): {u: sorted(edges[u] & set(c)) for u in c} for c in cycles}
    assert not cycles, f"import cycles between units: {detail}"


def test_no_private_module_imported_across_subpackages():
    _, private = _graph()
    assert not private, "\n".join(private)


def test_io_does_not_import_designs():
    edges, _ = _graph()
    assert "designs" not in edges["io"]
