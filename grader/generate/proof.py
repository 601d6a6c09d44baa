"""Proofs, with ``ast``, that what students get holds nothing of the instructor's secrets.

Three checks, each an error naming a file and line:

* :func:`check_stub`: the generated stub is, statement for statement, the solution with
  each solution region replaced by ``raise NotImplementedError``; derived here from the
  solution's syntax tree, independently of the text transformation that wrote the stub.
* :func:`check_public_tests`: the public test file is the grader file without its hidden
  regions, statement for statement.
* :class:`Secrets` / :func:`leaked`: no statement of any solution region (compared as
  normalised syntax trees, so formatting, comments and line breaks do not hide a copy)
  appears anywhere in a file handed to students: stubs, public tests, the ``grader``
  package of a release, the code cells of a notebook.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.errors import FileLineError, display_path
from grader.generate.markers import BEGIN_SOLUTION, Region

# Statements this small say nothing of a solution (`return Q`, `done = False`, `i += 1`): a
# public file may hold them by chance. Counted in syntax-tree nodes, contexts and operators
# left out; `e = np.exp(shifted)` has 6.
MIN_NODES = 6
_NOT_COUNTED = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


def _raise_not_implemented() -> ast.stmt:
    return ast.Raise(exc=ast.Name(id="NotImplementedError", ctx=ast.Load()), cause=None)


def _parse(source: str, path: Path) -> ast.Module:
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise FileLineError(path, exc.lineno, f"syntax error: {exc.msg}") from exc


def _span(node: ast.AST) -> tuple[int, int]:
    """The first and last line of a statement, its decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])  # type: ignore[attr-defined]
    return first, getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]


def _inside(node: ast.AST, region: Region) -> bool:
    first, last = _span(node)
    return region.begin < first and last < region.end


def _overlaps(node: ast.AST, region: Region) -> bool:
    first, last = _span(node)
    return first <= region.end and last >= region.begin


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _clear(body: list[ast.stmt], regions: list[Region], path: Path) -> list[ast.stmt]:
    """``body`` with the statements of each region replaced by one ``raise NotImplementedError``."""
    out: list[ast.stmt] = []
    cleared: set[Region] = set()
    for stmt in body:
        region = next((r for r in regions if _inside(stmt, r)), None)
        if region is not None:
            if region not in cleared:
                out.append(_raise_not_implemented())
                cleared.add(region)
            continue
        crossing = [r for r in regions if _overlaps(stmt, r)]
        if crossing:
            r = crossing[0]
            first, _ = _span(stmt)
            if first > r.begin:  # starts inside the region, ends after it
                raise FileLineError(
                    path,
                    r.begin,
                    "this solution region cuts a statement in two: put whole "
                    "statements between the markers",
                )
            for field in _BODIES:  # the region lies within this statement's bodies
                value = getattr(stmt, field, None)
                if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                    setattr(stmt, field, _clear(value, regions, path))
                elif isinstance(value, list):
                    for child in value:  # except handlers, match cases
                        child.body = _clear(child.body, regions, path)
        out.append(stmt)
    return out


def expected_stub(solution: str, path: Path, regions: list[Region]) -> ast.Module:
    """The stub the solution should give: each region's statements become one raise."""
    tree = _parse(solution, path)
    for region in regions:
        if not any(_inside(node, region) for node in ast.walk(tree) if isinstance(node, ast.stmt)):
            raise FileLineError(
                path, region.begin, "an empty solution region: it holds no statement to write"
            )
    tree.body = _clear(tree.body, regions, path)
    return tree


def _first_difference(expected: list[ast.stmt], got: list[ast.stmt]) -> tuple[int | None, str]:
    """Where two statement lists first differ: the line in ``got`` (None at its end) and the
    innermost function or class there, when both sides have it."""
    for mine, theirs in zip(expected, got, strict=False):
        if ast.dump(mine) == ast.dump(theirs):
            continue
        named = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        if isinstance(mine, named) and isinstance(theirs, named) and mine.name == theirs.name:
            line, inner = _first_difference(mine.body, theirs.body)
            if inner:
                return line, f"{mine.name}.{inner}"
            return theirs.lineno, mine.name
        return theirs.lineno, ""
    if len(got) > len(expected):
        return got[len(expected)].lineno, ""
    return (got[-1].end_lineno if got else None), ""


def check_stub(
    solution: str, solution_path: Path, regions: list[Region], stub: str, stub_path: Path
) -> None:
    """The generated ``stub`` is exactly the solution with each region's statements replaced by
    ``raise NotImplementedError`` (so every function that held a region has the stub body)."""
    expected = expected_stub(solution, solution_path, regions)
    got = _parse(stub, stub_path)
    if ast.dump(expected) == ast.dump(got):
        return
    line, name = _first_difference(expected.body, got.body)
    what = f"`{name}` is not" if name else "this is not"
    raise FileLineError(
        stub_path,
        line,
        f"{what} what {display_path(solution_path)} gives with each solution region replaced by "
        "`raise NotImplementedError`: run dlgrade generate (never edit a stub by hand)",
    )


def check_public_tests(
    graders: str, graders_path: Path, hidden: list[Region], public: str, public_path: Path
) -> None:
    """The public test file is the grader file without its hidden regions, statement for statement."""
    tree = _parse(graders, graders_path)
    for region in hidden:
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and _overlaps(node, region) and not _inside(node, region):
                raise FileLineError(
                    graders_path,
                    region.begin,
                    "a hidden-test region must hold whole top-level statements (tests and their "
                    "helpers), not part of one",
                )
    hidden_names = _names_used([s for s in tree.body if any(_inside(s, r) for r in hidden)])
    tree.body = [s for s in tree.body if not any(_inside(s, r) for r in hidden)]
    _only_hidden_use(tree, graders_path, hidden_names)
    got = _parse(public, public_path)
    if ast.dump(tree) == ast.dump(got):
        return
    line, name = _first_difference(tree.body, got.body)
    what = f"`{name}` is not" if name else "this is not"
    raise FileLineError(
        public_path,
        line,
        f"{what} what {display_path(graders_path)} gives without its hidden tests: run dlgrade "
        "generate (never edit a public test file by hand)",
    )


def _is_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "fixture":
            return True
    return False


def _names_used(statements: list[ast.stmt]) -> set[str]:
    used: set[str] = set()
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
    return used


def _only_hidden_use(public: ast.Module, graders_path: Path, hidden_names: set[str]) -> None:
    """No function the public test file keeps is used by hidden tests alone (an ``@oracle``
    above all: a PyTorch reference is a working implementation of what the student writes).
    Such a helper belongs in their hidden region: in the public file it would show students a
    reference, or the hidden cases, for nothing."""
    defined: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    called = set()
    for stmt in public.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name.startswith("test") or _is_fixture(stmt):
                called.add(stmt.name)  # pytest calls these
            defined.append(stmt)
    used = called | _names_used(public.body)
    for stmt in defined:
        if stmt.name in hidden_names and stmt.name not in used:
            what = "the @oracle" if _is_oracle(stmt) else "the helper"
            raise FileLineError(
                graders_path,
                stmt.lineno,
                f"{what} `{stmt.name}` is used only by hidden tests, yet it would go into the "
                "public test file: move it inside their hidden region",
            )


# -- the secrets and the scan ---------------------------------------------------------------------
def _size(node: ast.AST) -> int:
    return sum(1 for n in ast.walk(node) if not isinstance(n, _NOT_COUNTED))


def _trivial(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass | ast.Break | ast.Continue | ast.Global | ast.Nonlocal):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True  # a docstring or a bare constant
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
            return True
    return _size(node) < MIN_NODES


def _key(node: ast.stmt) -> str:
    return ast.dump(node, annotate_fields=False)


def _statements(tree: ast.AST) -> Iterator[ast.stmt]:
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            yield node


@dataclass(frozen=True)
class Secret:
    """A statement of a solution region: where it is written, and its first line."""

    path: Path
    line: int
    text: str


@dataclass
class Secrets:
    """Every statement of the course's solution regions, by normalised syntax tree; statements
    the same solution file also holds outside its regions (in what the stub keeps) left out."""

    statements: dict[str, Secret]

    @classmethod
    def of(cls, files: Iterable[tuple[Path, str, list[Region]]]) -> Secrets:
        found: dict[str, Secret] = {}
        for path, source, regions in files:
            tree = _parse(source, path)
            lines = source.splitlines()
            public: set[str] = set()
            inside: dict[str, Secret] = {}
            for stmt in _statements(tree):
                if any(_inside(stmt, r) for r in regions):
                    if not _trivial(stmt):
                        inside.setdefault(
                            _key(stmt), Secret(path, stmt.lineno, lines[stmt.lineno - 1].strip())
                        )
                elif not any(_overlaps(stmt, r) for r in regions):
                    public.add(_key(stmt))
            for key, secret in inside.items():
                if key not in public:
                    found.setdefault(key, secret)
        return cls(found)

    def __len__(self) -> int:
        return len(self.statements)


@dataclass(frozen=True)
class Leak:
    """A statement of a solution region found in a file students get."""

    path: Path
    line: int
    secret: Secret

    def error(self) -> FileLineError:
        where = f"{display_path(self.secret.path)}:{self.secret.line}"
        return FileLineError(
            self.path,
            self.line,
            f"holds a statement of the solution region at {where} ({self.secret.text!r}): "
            "students would get the solution",
        )


def _is_oracle(node: ast.AST) -> bool:
    """A function decorated with ``@oracle``: the PyTorch reference a grader compares with."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for decorator in node.decorator_list:
        name = (
            decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", "")
        )
        if name == "oracle":
            return True
    return False


def leaked(text: str, path: Path, secrets: Secrets, line_offset: int = 0) -> list[Leak]:
    """The statements of ``text`` (Python source) that are statements of a solution region.

    The bodies of ``@oracle`` functions are not compared: an oracle is the reference a public
    test needs on the student's machine, computed on tensors on the grading device, and for a
    formula such as the Q-learning update torch's syntax is NumPy's."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError:
        return []  # not Python (a cell with IPython magics): nothing to compare as statements
    oracles = [_span(node) for node in ast.walk(tree) if _is_oracle(node)]
    found = []
    for stmt in _statements(tree):
        if any(first <= stmt.lineno <= last for first, last in oracles):
            continue  # a PyTorch reference (design principle 3): see docs/writing-exercises.md
        secret = secrets.statements.get(_key(stmt))
        if secret is not None:
            found.append(Leak(path, stmt.lineno + line_offset, secret))
    return found


def leaked_in_file(path: Path, secrets: Secrets, shown_as: Path | None = None) -> list[Leak]:
    """The leaks of a file students get: a Python file, or the code cells of a notebook (the
    line is then counted in the notebook's code cells, one after another)."""
    shown = shown_as or path
    if path.suffix == ".py":
        return leaked(path.read_text(encoding="utf-8", errors="replace"), shown, secrets)
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        found, offset = [], 0
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            found += leaked(source, shown, secrets, offset)
            offset += source.count("\n") + 1
        return found
    return []


def solution_regions_required(path: Path, regions: list[Region], reading: bool) -> None:
    """A solution file with no solution region would be handed out whole, unless course.yaml
    says that students only read it."""
    if not regions and not reading:
        raise FileLineError(
            path,
            1,
            f"no '{BEGIN_SOLUTION}' region: students would get this file as it is, solution "
            "included. Mark the part they write, or list the exercise under `reading:` in "
            "course.yaml if they only read and run it",
        )
    if regions and reading:
        raise FileLineError(
            path,
            regions[0].begin,
            "course.yaml lists this exercise under `reading:` (nothing to write), but it has a "
            "solution region",
        )
