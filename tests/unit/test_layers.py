"""The import layers of docs/architecture.md, checked from the code's own imports.

Every import counts, including those inside functions. A module may import its own layer or any
layer below it; domain code never imports ``workers``, ``dash``, ``plotly`` or Flask's request/app
globals; no import cycle among non-test modules; building the Flask server alone loads no Dash.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = {"tests", ".venv", "bench", "migrations", "docs", "scripts", "deploy", ".git", "var", "__pycache__"}

# (layer rank, module prefixes), most specific prefix wins. Higher layers may import lower ones.
LAYERS = {
    "base": (0, ("app.settings", "app.extensions", "app.models", "app.hot", "app.marketdata", "app.ops.metrics",
                 "app.ops.metric_store", "app.jsonsafe", "app.validation")),
    "domain": (1, ("app.market", "app.analysis", "app.backtest", "app.alerts", "app.portfolio", "ml",
                   "app.mlops", "app.demo", "app.audit", "app.auth.users", "app.auth.passwords", "app.auth.sessions", "app.auth.password_change",
                   "app.auth.tokens")),
    "presentation": (2, ("app.figures",)),
    "jobs": (3, ("workers",)),
    "web": (4, ("pages", "callbacks", "app.api", "app.auth", "app.theme", "app.ops", "app.stream",
                "app.market.cli", "app.mlops.cli")),
    "root": (5, ("app", "app.server", "wsgi")),
}
DOMAIN_FORBIDDEN = ("workers", "dash", "plotly")
# The one upward edge by design: a worker process builds its own server, as wsgi.py does for the web.
ALLOWED = {("workers.context", "app.server")}
FLASK_GLOBALS = {"request", "current_app", "g", "session"}


def layer_of(module: str) -> tuple[str, int] | None:
    best = None
    for name, (rank, prefixes) in LAYERS.items():
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                if best is None or len(p) > best[2]:
                    best = (name, rank, len(p))
    return None if best is None else best[:2]


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for p in root.rglob("*.py"):
        rel = p.relative_to(root)
        if any(part in SKIP or part.startswith(".") for part in rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            out[".".join(parts)] = p
    return out


def imports(path: Path, module: str) -> list[tuple[int, str, set[str]]]:
    """(line, imported module, names taken from it) for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, set()) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            names = {a.name for a in node.names}
            found.append((node.lineno, base, names))
            found += [(node.lineno, f"{base}.{n}", set()) for n in names]
    return found


def check(root: Path) -> list[str]:
    mods = modules(root)

    def resolve(target: str) -> str | None:
        while target and target not in mods:
            target = target.rpartition(".")[0]
        return target or None

    problems, graph = [], {m: set() for m in mods}
    for m, path in mods.items():
        mine = layer_of(m)
        rel = path.relative_to(root)
        for line, target, names in imports(path, m):
            top = target.split(".")[0]
            if mine and mine[0] == "domain":
                if top in DOMAIN_FORBIDDEN:
                    problems.append(f"{rel}:{line} domain imports {target}")
                if target == "flask" and names & FLASK_GLOBALS:
                    problems.append(f"{rel}:{line} domain imports Flask globals {sorted(names & FLASK_GLOBALS)}")
            t = resolve(target)
            if t is None or t == m or m.startswith(t + "."):
                continue  # outside the project, itself, or a submodule reaching its own package
            graph[m].add(t)
            theirs = layer_of(t)
            if mine and theirs and theirs[1] > mine[1] and (m, t) not in ALLOWED:
                problems.append(f"{rel}:{line} {mine[0]} module {m} imports {theirs[0]} module {t}")
    problems += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return list(dict.fromkeys(problems))  # one line per finding, in file order


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), package<->own submodule excluded."""
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
            if len(comp) > 1 and any(not (a.startswith(b + ".") or b.startswith(a + "."))
                                     for a in comp for b in comp if a != b):
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_code_keeps_its_layers_and_has_no_import_cycle():
    assert check(ROOT) == []


def test_every_project_module_has_a_layer():
    assert [m for m in modules(ROOT) if layer_of(m) is None] == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, expected", [
    ({"app/__init__.py": "", "app/market/__init__.py": "", "workers/__init__.py": "", "workers/queues.py": "",
      "app/market/seed.py": "def f():\n    from workers.queues import enqueue\n"},
     "domain imports workers.queues"),
    ({"app/__init__.py": "", "app/analysis/__init__.py": "", "app/analysis/views.py": "import plotly.graph_objects\n"},
     "domain imports plotly.graph_objects"),
    ({"app/__init__.py": "", "app/backtest/__init__.py": "", "app/backtest/x.py": "from flask import current_app\n"},
     "domain imports Flask globals ['current_app']"),
    ({"app/__init__.py": "", "app/hot/__init__.py": "from app.market.query import catalog\n",
      "app/market/__init__.py": "", "app/market/query.py": ""},
     "base module app.hot imports domain module app.market.query"),
    ({"app/__init__.py": "", "app/server.py": "import callbacks\n", "callbacks/__init__.py": "import workers.ingest\n",
      "workers/__init__.py": "", "workers/ingest.py": "import workers.context\n",
      "workers/context.py": "def f():\n    from app.server import create_server\n"},
     "import cycle"),
    ({"pages/__init__.py": "", "pages/backtests.py": "def layout():\n    from callbacks.backtests import rows\n",
      "callbacks/__init__.py": "", "callbacks/backtests.py": "from pages.backtests import ID\n"},
     "import cycle"),
])
def test_the_check_catches_each_kind_of_back_pointing_import(tmp_path, files, expected):
    """Today's code passes; these reproduce the kinds of imports the renovation removed."""
    problems = check(_tree(tmp_path, files))
    assert any(expected in p for p in problems), problems


def test_building_the_server_alone_imports_no_dash_pages_callbacks_plotly_or_numba():
    probe = ("import sys\nfrom app.server import create_server\ncreate_server()\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'dash', 'pages', 'callbacks', 'plotly', 'numba', 'tensorflow'}))")
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL="sqlite://", CANDLEWISE_ENV="development")
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
