"""Layout metrics for a checkout: top-level modules, import cycles between modules, the longest functions.

    python scripts/layout_metrics.py [ROOT]

Imports inside functions count too (a cycle that is only broken by importing late is still a cycle)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for pkg in ("formcheck", "server"):
        for p in sorted((root / pkg).rglob("*.py")):
            if "migrations/versions" in p.as_posix():
                continue
            parts = list(p.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def longest_functions(mods: dict[str, Path], n: int = 8) -> list[tuple[int, str]]:
    out = []
    for name, p in mods.items():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((node.end_lineno - node.lineno + 1, f"{name}.{node.name}"))
    return sorted(out, reverse=True)[:n]


def main(root: Path) -> None:
    mods = modules(root)
    known = set(mods)
    # a package's __init__ importing its own submodules is how a package exports them, not a cycle
    graph = {m: {t for t in imports(p, m, known) if not (p.name == "__init__.py" and t.startswith(m + "."))}
             for m, p in mods.items()}
    top = [p for p in (root / "formcheck").glob("*.py")]
    print(f"top-level modules in formcheck/: {len(top)} ({', '.join(sorted(p.stem for p in top))})")
    print(f"packages in formcheck/: {sorted(d.name for d in (root / 'formcheck').iterdir() if (d / '__init__.py').exists())}")
    cyc = cycles(graph)
    print(f"import cycles: {len(cyc)}")
    for c in cyc:
        print("  " + " <-> ".join(c))
    print("longest functions (lines):")
    for length, name in longest_functions(mods):
        print(f"  {length:4d}  {name}")
    longest = max((len(p.read_text().splitlines()), m) for m, p in mods.items())
    print(f"longest module: {longest[1]} ({longest[0]} lines)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve())
