"""The terminal report of a check: a table of tests and points, then what went wrong."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.engine.results import ExerciseResult, TestResult

STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow"}


def points(value: float) -> str:
    return f"{value:g}"


def render_check(result: ExerciseResult, console: Console) -> None:
    hidden = " (hidden tests included)" if result.hidden_included else ""
    console.print(
        Text.assemble(
            (result.exercise, "bold"),
            f" — {result.submission}{hidden}, inputs from --seed {result.seed}",
        )
    )
    table = Table(show_footer=True, header_style="bold", footer_style="bold")
    table.add_column("test", footer="total")
    table.add_column("result")
    table.add_column(
        "points", justify="right", footer=f"{points(result.score)} / {points(result.max_score)}"
    )
    for test in result.tests:
        name = test.name + (" [dim](hidden)[/]" if test.hidden else "")
        table.add_row(
            name,
            f"[{STYLE[test.status]}]{test.status}[/]",
            f"{points(test.score)} / {points(test.max_score)}",
        )
    console.print(table)
    failures = [t for t in result.tests if t.status != "passed"]
    if failures:
        console.print()
        _render_failures(failures, console)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(_verdict(result))


def _render_failures(failures: list[TestResult], console: Console) -> None:
    """Each failing test with its explanation; tests that failed the same way share one message."""
    groups: dict[tuple[str, str | None], list[TestResult]] = {}
    for test in failures:
        groups.setdefault((test.message, test.hint), []).append(test)
    for (message, hint), tests in groups.items():
        if len(tests) == 1:
            test = tests[0]
            console.print(
                Text.assemble(
                    (test.name, f"bold {STYLE[test.status]}"),
                    (f" — {test.doc}" if test.doc else ""),
                )
            )
        else:
            names = ", ".join(t.name for t in tests)
            console.print(
                Text.assemble(
                    (f"{len(tests)} tests", f"bold {STYLE[tests[0].status]}"), f": {names}"
                )
            )
        console.print(Text("    " + message.replace("\n", "\n    ")))
        if hint:
            console.print(Text.assemble(("    hint: ", "bold cyan"), hint))
        output = tests[0].output.strip()
        if output and len(tests) == 1:
            lines = output.splitlines()
            shown = "\n    | ".join(lines[:8]) + ("\n    | ..." if len(lines) > 8 else "")
            console.print(Text(f"    your code printed:\n    | {shown}", style="dim"))
    console.print()


def _verdict(result: ExerciseResult) -> Text:
    if result.full_marks:
        return Text(
            f"Full marks: {points(result.score)} / {points(result.max_score)}.", style="bold green"
        )
    left = sum(1 for t in result.tests if t.status != "passed")
    return Text(
        f"Score: {points(result.score)} / {points(result.max_score)} — {left} test{'s' if left != 1 else ''} to go.",
        style="bold",
    )
