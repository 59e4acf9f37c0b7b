"""The layout's rules, read from the source: which layer may import which, and how big things get.

data flows one way: tencent/ (no Django) <- upstream/ <- the page apps; core/ imports no app.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "muteadmin"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
PAGE_APPS = ("mutes", "audit", "reports", "bulk")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module (or module.name), dotted
    line: int


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        yield dotted.removesuffix(".__init__"), path


def _imports(module: str, path: Path) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", node.lineno)


MODULES = dict(_modules())
IMPORTS = [found for module, path in MODULES.items() for found in _imports(module, path)]


def _resolve(target: str) -> str | None:
    """The muteadmin module an import names (dropping a trailing attribute), or None if outside."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _breaking(rule) -> list[str]:
    return [
        f"{found.module}:{found.line} imports {found.target}" for found in IMPORTS if rule(found)
    ]


def test_the_tencent_client_imports_no_django_and_no_app():
    assert (
        _breaking(
            lambda found: (
                _layer(found.module) == "tencent"
                and (
                    found.target.split(".")[0] == "django"
                    or (found.target.startswith("muteadmin.") and _layer(found.target) != "tencent")
                )
            )
        )
        == []
    )


def test_core_imports_no_app():
    allowed = {"core", "tencent"}
    assert (
        _breaking(
            lambda found: (
                _layer(found.module) == "core"
                and found.target.startswith("muteadmin.")
                and _layer(found.target) not in allowed
            )
        )
        == []
    )


def test_upstream_imports_no_page_app():
    assert (
        _breaking(
            lambda found: (
                _layer(found.module) == "upstream"
                and found.target.startswith("muteadmin.")
                and _layer(found.target) in PAGE_APPS
            )
        )
        == []
    )


def test_no_app_imports_another_apps_views_or_template_tags():
    def crosses(found: Import) -> bool:
        target = _resolve(found.target) or ""
        parts = target.split(".")
        private = any(part in ("views", "templatetags") for part in parts[2:3])
        # The project's URLconf mounts every app's views; nothing else reaches across.
        return (
            private and _layer(target) != _layer(found.module) and found.module != "muteadmin.urls"
        )

    assert _breaking(crosses) == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for found in IMPORTS:
        target = _resolve(found.target)
        if target is not None and target != found.module:
            graph[found.module].add(target)
    # A package's __init__ is imported on the way to its modules; it is not an edge of its own.
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


def test_no_module_is_longer_than_the_limit():
    long = {
        module: lines
        for module, path in MODULES.items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_the_limit():
    long = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{module}.{node.name}"] = lines
    assert long == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from django.db import models\n", ["django.db.models"]),
        ("from . import views\n", ["muteadmin.audit.views"]),
        ("from .models import AuditEntry\n", ["muteadmin.audit.models.AuditEntry"]),
        ("def f():\n    import muteadmin.bulk.tasks\n", ["muteadmin.bulk.tasks"]),
    ],
)
def test_the_reader_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "selectors.py"
    path.write_text(source, encoding="utf-8")
    assert [found.target for found in _imports("muteadmin.audit.selectors", path)] == expected


def test_the_rules_catch_a_module_that_breaks_them(tmp_path):
    path = tmp_path / "client.py"
    path.write_text("from django.conf import settings\n", encoding="utf-8")
    (found,) = _imports("muteadmin.tencent.client", path)
    assert _layer(found.module) == "tencent" and found.target.startswith("django")
