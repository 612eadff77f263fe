"""No import cycles among the toolkit's modules (issue #32), lazy imports inside functions included.

Every module's AST is read (nothing is imported), each ``import``/``from ... import`` anywhere in it is an
arrow to the toolkit module it names, and the graph's strongly connected components are found: any with more
than one module is a cycle. A cycle hides the order in which a module may be read and makes a change in one
room reach the other; a lazy import only hides it from the import machinery, not from the reader.
"""

import ast
from pathlib import Path

TOOLKIT = Path(__file__).resolve().parents[2] / "toolkit"

# Cycles accepted for now (none: the last, data/folder.py <-> data/streaming.py, ended when the shared image
# decoders moved to data/decode.py).
KNOWN: list[set[str]] = []


def module_name(path: Path, root: Path = TOOLKIT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str], root: Path = TOOLKIT) -> set[str]:
    """The toolkit modules that ``path`` imports, anywhere in the file. ``from .pkg import name`` counts as
    an arrow to ``pkg.name`` when that is a module, else to ``pkg``. A package whose ``__init__.py`` calls
    ``import_module`` (``toolkit/families/`` finding its families by file name) imports every module of its
    folder."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        called = node.func if isinstance(node, ast.Call) else None
        if path.name == "__init__.py" and "import_module" in (
            getattr(called, "attr", ""),
            getattr(called, "id", ""),
        ):
            found |= {f"{me}.{p.stem}" for p in path.parent.glob("*.py") if p.name != "__init__.py"}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
            found |= set(subs) if len(subs) == len(node.names) else {target, *subs}
    return {m for m in found if m in modules and m != me}


def import_graph(root: Path = TOOLKIT) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    return {name: imports_of(path, set(files), root) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found, key=sorted)


def test_the_toolkit_has_no_import_cycle():
    found = cycles(import_graph())
    assert [sorted(c) for c in found if c not in KNOWN] == [], "import cycle among toolkit modules"


def test_the_cycle_finder_sees_lazy_and_package_imports(tmp_path):
    root = tmp_path / "toolkit"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from .sub import b\n")
    (root / "sub" / "__init__.py").write_text("from .b import thing\n")
    (root / "sub" / "b.py").write_text("def f():\n    from ..c import x\n")  # lazy: still an arrow
    (root / "c.py").write_text("import toolkit.a\n")
    (root / "d.py").write_text("from . import c\n")  # into the cycle, not part of it
    graph = import_graph(root)
    assert graph["toolkit.a"] == {"toolkit.sub.b"} and graph["toolkit.sub.b"] == {"toolkit.c"}
    assert graph["toolkit.d"] == {"toolkit.c"}
    assert cycles(graph) == [{"toolkit.a", "toolkit.c", "toolkit.sub.b"}]
    (root / "c.py").write_text("import torch\n")
    assert cycles(import_graph(root)) == []
    # a package that finds its modules at run time imports each of them: here one that imports the package
    (root / "found").mkdir()
    (root / "found" / "__init__.py").write_text(
        "import importlib\nimportlib.import_module('toolkit.found.e')\n"
    )
    (root / "found" / "e.py").write_text("def f():\n    from toolkit import found\n")
    graph = import_graph(root)
    assert graph["toolkit.found"] == {"toolkit.found.e"} and graph["toolkit.found.e"] == {"toolkit.found"}
    assert cycles(graph) == [{"toolkit.found", "toolkit.found.e"}]
