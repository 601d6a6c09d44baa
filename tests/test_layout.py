"""The package's layering: the worker-side runtime imports nothing else of the package, the
sandbox nothing of the engine or the tools above it, no two modules import each other, and no
module reaches another through a try/except dual import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "grader"


def _imports(path: Path) -> list[tuple[int, str, int]]:
    """(line, module, relative level) of each import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or "", node.level))
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "runtime").glob("*.py")), ids=lambda p: p.name)
def test_the_runtime_imports_nothing_of_the_rest_of_the_package(path: Path) -> None:
    for line, module, level in _imports(path):
        assert level <= 1, f"{path.name}:{line} reaches outside grader/runtime/"
        assert not module.startswith(("grader", "dlgrade")), f"{path.name}:{line} imports {module}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "sandbox").glob("*.py")), ids=lambda p: p.name)
def test_the_sandbox_depends_on_no_layer_above_it(path: Path) -> None:
    above = (
        "grader.engine",
        "grader.instructor",
        "grader.quiz",
        "grader.cli",
        "grader.check_report",
    )
    for line, module, _ in _imports(path):
        assert not module.startswith(above), f"{path.name}:{line} imports {module}"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The import statements under ``if TYPE_CHECKING:``: annotations only, never run."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            for stmt in node.body:
                found |= set(ast.walk(stmt))
    return found


def module_imports(package: Path) -> dict[str, set[str]]:
    """Each module of ``package`` -> the modules of the package it imports when it runs: at the
    top or inside a function, absolute or relative (``from grader.engine import cache`` imports
    grader.engine.cache); the imports under ``if TYPE_CHECKING:`` are left out."""
    root = package.parent
    files = {_module_name(p, root): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_only(tree)
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(tree):
            if node in skip:
                continue
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in files}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                for alias in node.names:
                    if f"{base}.{alias.name}" in files:
                        found.add(f"{base}.{alias.name}")
                    elif base in files:
                        found.add(base)
        graph[name] = found - {name}
    return graph


def mutual_imports(package: Path) -> list[tuple[str, str]]:
    """The pairs of modules of ``package`` that import each other."""
    graph = module_imports(package)
    return sorted(
        (a, b) for a, deps in graph.items() for b in deps if a < b and a in graph.get(b, set())
    )


def test_no_two_modules_import_each_other() -> None:
    """Dependencies point one way: where a imports b, b does not import a, not even inside a
    function (grader/oracle.py and grader/engine/oracle_host.py once did)."""
    assert mutual_imports(PACKAGE) == []


def test_the_import_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The check above fails on a pair that imports each other only inside a function, and on
    relative imports; it leaves out what only a type checker reads."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from .. import a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import d\n"
    )
    (package / "d.py").write_text("def g():\n    import pkg.c\n")
    assert mutual_imports(package) == [("pkg.a", "pkg.sub.b")]


def _bound(nodes: list[ast.stmt]) -> set[str]:
    """The names the import statements among ``nodes`` bind."""
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_no_module_imports_through_a_try_except_dual_import() -> None:
    """No ``try: from a import x`` / ``except ImportError: from b import x``: one module, one
    place for each name (an optional import whose handler reports the missing package is fine)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            both = _bound(node.body) & {n for h in node.handlers for n in _bound(h.body)}
            assert not both, f"{path.relative_to(REPO)}:{node.lineno}: a dual import of {both}"


def test_the_sandbox_sees_the_runtime_as_a_package() -> None:
    """The sandbox copies (or binds) the runtime folder whole, as the package dlgrade_runtime,
    never file by file by name."""
    text = (PACKAGE / "sandbox" / "process.py").read_text()
    assert "dlgrade_runtime" in text and "dlgrade_rt_" not in text


def test_the_plugin_is_loaded_only_where_it_is_asked_for(tmp_path: Path) -> None:
    """dlgrade's pytest plugin (fixtures named student, rng, device) is not registered for every
    pytest session in the environment: a folder without exercises/conftest.py never sees it."""
    import subprocess
    import sys

    (tmp_path / "test_other.py").write_text("def test_nothing():\n    pass\n")
    other = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--fixtures",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "dlgrade" not in other.stdout and "student" not in other.stdout.split()
    course = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--fixtures",
            "-q",
            "-p",
            "no:cacheprovider",
            str(REPO / "exercises" / "test_softmax.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "The submission under test" in course.stdout  # exercises/conftest.py opts in


def test_the_failure_formatting_override_still_fits_pytest() -> None:
    """grader/engine/plugin.py skips pytest's traceback formatting of failures in grading runs
    (nothing reads it; it cost a third of class grading) by replacing two methods of each
    collected item: repr_failure, and _repr_failure_py, pytest's private one that setup and
    teardown errors go through. When pytest changes either, this test fails first."""
    import inspect

    assert list(inspect.signature(pytest.Function.repr_failure).parameters)[:2] == [
        "self",
        "excinfo",
    ]
    assert list(inspect.signature(pytest.Function._repr_failure_py).parameters)[:3] == [
        "self",
        "excinfo",
        "style",
    ]
