"""Every third-party package the runtime code imports is pinned in requirements.txt by name.

A package that only arrives through another package (or, worse, only through the dev tools) is one
upgrade away from a web or worker process that cannot start: psutil came only through dash[testing],
cryptography only through selenium's urllib3[secure] extra. This test reads every ``import`` of the runtime
packages (including those inside functions) and maps each top-level module to its distribution with
``importlib.metadata.packages_distributions()``."""
from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("app", "workers", "ml", "callbacks", "pages")
OURS = {"app", "workers", "ml", "callbacks", "pages", "wsgi", "tests", "bench", "__future__"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> set[str]:
    names = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(_norm(re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0]))
    return names


def imported_top_levels() -> dict[str, str]:
    """Top-level module -> one file that imports it, for every absolute import outside the standard library."""
    found: dict[str, str] = {}
    for package in RUNTIME:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_runtime_import_is_pinned_in_requirements():
    dists = packages_distributions()
    req = pinned()
    unpinned = []
    for top, where in sorted(imported_top_levels().items()):
        owners = {_norm(d) for d in dists.get(top, [])}
        if not owners & req:
            unpinned.append(f"{top} ({', '.join(sorted(owners)) or 'not installed'}; imported in {where})")
    assert not unpinned, "imported but not named in requirements.txt: " + "; ".join(unpinned)


def test_the_check_sees_the_imports_it_guards():
    tops = imported_top_levels()
    # the two that once slipped through, and a few that are surely imported
    assert {"psutil", "cryptography", "flask", "sqlalchemy", "pandas"} <= set(tops)
    assert "psutil" in pinned() and "cryptography" in pinned()
