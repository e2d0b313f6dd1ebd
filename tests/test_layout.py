"""The package's layout is its data flow (issue 13): no import cycle, and imports go down the stages.

Every module is parsed (imports inside functions included, since a lazy import is still a
dependency). A module may import its own stage and the stages listed before it; never a later
one. The order and the reasons are in docs/architecture.md.
"""

import ast
from pathlib import Path

import s2s_live

PKG = Path(s2s_live.__file__).parent

#: stage order, lowest first; a module belongs to the longest matching prefix
STAGES = [
    ("base", ["s2s_live", "s2s_live._version", "s2s_live.errors", "s2s_live.processor", "s2s_live.stats", "s2s_live.jsonvalues",
              "s2s_live.labels", "s2s_live.kernels"]),
    ("dsp", ["s2s_live.dsp"]),
    ("capture", ["s2s_live.capture"]),
    ("frames", ["s2s_live.frames"]),
    ("features", ["s2s_live.features"]),
    ("inference", ["s2s_live.inference"]),
    ("osc", ["s2s_live.osc"]),
    ("mapping", ["s2s_live.mapping"]),
    ("config", ["s2s_live.config"]),  # validates every setting with the stages' own checkers
    ("pipeline", ["s2s_live.pipeline"]),
    ("visuals", ["s2s_live.visuals"]),
    ("offline", ["s2s_live.offline"]),
    ("dataset", ["s2s_live.dataset"]),
    ("train", ["s2s_live.train"]),
    ("app", ["s2s_live.engine", "s2s_live.operator", "s2s_live.midi", "s2s_live.liveview", "s2s_live.warmup",
             "s2s_live.doctor", "s2s_live.cli", "s2s_live.__main__"]),
]


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def stage(mod: str) -> int:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(STAGES):
        for pre in prefixes:
            if (mod == pre or (mod.startswith(pre + ".") and pre != "s2s_live")) and len(pre) > best:
                best, rank = len(pre), i
    assert rank is not None, f"{mod} belongs to no stage: add it to STAGES and docs/architecture.md"
    return rank


def imports(mod: str) -> set[str]:
    """The package modules ``mod`` imports anywhere in its body."""
    path = MODULES[mod]
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "s2s_live"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = ".".join(base[: len(base) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            elif (node.module or "").split(".")[0] == "s2s_live":
                target = node.module
            else:
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.add(sub if sub in MODULES else target)
    out.discard(mod)
    return {m for m in out if m in MODULES}


GRAPH = {m: imports(m) for m in MODULES}


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Edges that go up the stage order, as readable lines."""
    return [f"{m} ({STAGES[stage(m)][0]}) imports {d} ({STAGES[stage(d)][0]})"
            for m, deps in sorted(graph.items()) for d in sorted(deps) if stage(d) > stage(m)]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, sccs, n = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


def test_every_module_has_a_stage():
    for m in MODULES:
        stage(m)


def test_imports_go_down_the_stage_order():
    bad = upward(GRAPH)
    assert not bad, "imports that go up the stage order:\n" + "\n".join(bad)


def test_no_import_cycle():
    found = cycles(GRAPH)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_checkers_catch_a_planted_cycle_and_upward_import():
    # the same checkers on a graph with one known fault each: they must report exactly it
    g = {"s2s_live.frames": {"s2s_live.visuals.web"}, "s2s_live.visuals.web": {"s2s_live.errors"},
         "s2s_live.dsp.mel": {"s2s_live.dsp.fft"}, "s2s_live.dsp.fft": {"s2s_live.dsp.mel"}}
    assert upward(g) == ["s2s_live.frames (frames) imports s2s_live.visuals.web (visuals)"]
    assert cycles(g) == [["s2s_live.dsp.fft", "s2s_live.dsp.mel"]]
    # and the parser sees a function-level import (kernels reads the version lazily)
    assert "s2s_live._version" in GRAPH["s2s_live.kernels"]
