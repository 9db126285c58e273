"""Fail on any import cycle among the modules of ``tfq_layers`` (run by ``make lint``).

The graph is read statically from the source (``ast``), so it sees every import, not only the
ones a given run executes:

* module-level imports and imports inside functions or methods both count: a function-level
  import that only dodges a cycle at import time is still a cycle in the design;
* an import inside ``if TYPE_CHECKING:`` counts too: an annotation that names the importer's
  caller is the same dependency, only deferred;
* a function-level import marked ``# lazy: <reason>`` on its line (or the line above) does not
  count. The mark is for imports that are deferred because they pull in an optional or heavy
  dependency (TensorFlow Quantum, a backend's op library), not for cycles;
* importing ``a.b.c`` is an edge to ``a.b.c`` only, not to the packages ``a`` and ``a.b`` whose
  ``__init__`` Python also runs (counting those would make every package a cycle with its
  members).

``ALLOWED`` names the edges tolerated for now, each with its reason. Usage::

    python tests/import_cycles.py            # exit status 1 and the cycles if there are any
    python tests/import_cycles.py --graph    # also print every edge
"""

from __future__ import annotations

import argparse
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "tfq_layers"
LAZY_MARK = "# lazy:"

#: (importer, imported) edges that are tolerated, with the reason. Keep this short.
ALLOWED = {
    # compat/ is refactored after the compat-fidelity work lands (issue #24 follow-up): the
    # argument checks and the operator-tensor decoder share `is_keras_tensor` both ways.
    ("tfq_layers.compat.arguments", "tfq_layers.compat.operator_tensors"): "compat follow-up",
}


def module_files(root=ROOT, package=PACKAGE):
    """``{module name: path}`` for every ``.py`` file of the package."""
    found = {}
    for folder, dirs, files in os.walk(os.path.join(root, package)):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(folder, name), root)[: -len(".py")]
            parts = rel.split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = os.path.join(folder, name)
    return found


def _imports(tree):
    """Yield ``(node, in_function)`` for every import statement."""

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            yield from walk_one(child, in_function)

    def walk_one(node, in_function):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
            return
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from walk(node, inner)

    yield from walk(tree, False)


def _marked_lazy(lines, node):
    here = lines[node.lineno - 1]
    above = lines[node.lineno - 2] if node.lineno >= 2 else ""
    return LAZY_MARK in here or above.strip().startswith(LAZY_MARK)


def _targets(node, module, is_package, modules, package=PACKAGE):
    """The package modules an import statement reaches."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        name = ".".join(base + ([node.module] if node.module else []))
    else:
        name = node.module or ""
    if not (name == package or name.startswith(package + ".")):
        return []
    out = []
    for alias in node.names:
        sub = f"{name}.{alias.name}"
        if sub in modules:
            out.append(sub)
        elif name in modules:
            out.append(name)
    return out


def import_graph(root=ROOT, package=PACKAGE):
    """``{module: {imported module: first line number}}`` among the package's modules."""
    files = module_files(root, package)
    graph = {name: {} for name in files}
    for module, path in files.items():
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        lines = source.splitlines()
        tree = ast.parse(source, filename=path)
        is_package = path.endswith("__init__.py")
        for node, in_function in _imports(tree):
            if in_function and _marked_lazy(lines, node):
                continue
            for target in _targets(node, module, is_package, files, package):
                if target != module:
                    graph[module].setdefault(target, node.lineno)
    return graph


def strongly_connected(graph):
    """Tarjan's strongly connected components with more than one module."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def _one_cycle(graph, component):
    """A shortest cycle through the component's first module, as a list of modules."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for succ in sorted(graph[node]):
            if succ not in members:
                continue
            if succ == start:
                return paths[node] + [start]
            if succ not in paths:
                paths[succ] = paths[node] + [succ]
                queue.append(succ)
    return component


def find_cycles(graph, allowed=ALLOWED):
    """The cycles left once the allowed edges are removed: a list of module lists."""
    pruned = {m: {t: n for t, n in e.items() if (m, t) not in allowed} for m, e in graph.items()}
    return [_one_cycle(pruned, c) for c in strongly_connected(pruned)], pruned


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", action="store_true", help="print every edge")
    parser.add_argument("--root", default=ROOT, help="the repository to check")
    args = parser.parse_args(argv)
    graph = import_graph(args.root)
    if args.graph:
        for module in sorted(graph):
            for target, line in sorted(graph[module].items()):
                print(f"{module} -> {target} (line {line})")
    stale = [edge for edge in ALLOWED if edge[1] not in graph.get(edge[0], {})]
    cycles, pruned = find_cycles(graph)
    for cycle in cycles:
        steps = [f"{a} (line {pruned[a][b]})" for a, b in zip(cycle, cycle[1:])]
        print("import cycle: " + " -> ".join(steps + [cycle[-1]]))
    for edge in stale:
        print(f"ALLOWED names an edge that no longer exists, drop it: {edge[0]} -> {edge[1]}")
    if cycles or stale:
        return 1
    print(f"no import cycle among {len(graph)} {PACKAGE} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
