"""The terminal report of a check: a table of tests and points, then what went wrong."""

from __future__ import annotations

import textwrap

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from grader.engine.results import ExerciseResult, TestResult
from grader.runtime.plain import clean_text
from grader.wording import plural

STYLE = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "timeout": "yellow",
    "grader_error": "magenta",
}
SHOWN = {"grader_error": "grader error"}


def points(value: float) -> str:
    return f"{value:g}"


def render_check(result: ExerciseResult, console: Console) -> None:
    where = f"{result.submission}" + (", hidden tests included" if result.hidden_included else "")
    sandbox = f", sandbox: {result.isolation}" if result.isolation else ""
    console.print(
        Text.assemble((result.exercise, "bold"), f" — {where} (--seed {result.seed}{sandbox})")
    )
    table = Table(show_footer=True, header_style="bold", footer_style="bold")
    table.add_column("test", footer="total", overflow="fold")
    if result.hidden_included:
        table.add_column("", footer="")
    table.add_column("result")
    table.add_column(
        "points", justify="right", footer=f"{points(result.score)} / {points(result.max_score)}"
    )
    for test in result.tests:
        cells = [escape(test.name)]  # a parametrised test's [parameters] are not markup
        if result.hidden_included:
            cells.append("[dim]hidden[/]" if test.hidden else "")
        cells += [
            f"[{STYLE[test.status]}]{SHOWN.get(test.status, test.status)}[/]",
            f"{points(test.score)} / {points(test.max_score)}",
        ]
        table.add_row(*cells)
    console.print(table)
    failures = [t for t in result.tests if t.status != "passed"]
    if failures:
        console.print()
        _render_failures(failures, console)
    for note in result.notes:
        console.print(Text.assemble(("note: ", "yellow"), clean_text(note)))
    console.print(_verdict(result))


def _indented(
    console: Console, text: str, style: str = "", label: str = "", label_style: str = ""
) -> None:
    """Prints ``label + text`` wrapped to the console's width, every line indented by four spaces."""
    width = max(console.width - 4, 20)
    text = clean_text(text, 20_000)  # no escape sequence reaches the terminal, whoever wrote it
    first = True
    for paragraph in text.splitlines() or [""]:
        lines = textwrap.wrap(paragraph, width - (len(label) if first else 0)) or [""]
        for line in lines:
            head = Text(label, style=label_style) if first and label else Text("")
            console.print(Text("    ") + head + Text(line, style=style), soft_wrap=True)
            first = False


def _render_failures(failures: list[TestResult], console: Console) -> None:
    """Each failing test with its explanation; tests that failed the same way share one message."""
    groups: dict[tuple[str, str | None], list[TestResult]] = {}
    for test in failures:
        groups.setdefault((test.message, test.hint), []).append(test)
    for (message, hint), tests in groups.items():
        style = f"bold {STYLE[tests[0].status]}"
        if len(tests) == 1:
            console.print(Text(tests[0].name, style=style))
            if tests[0].doc:
                _indented(console, tests[0].doc, style="italic")
        else:
            console.print(
                Text.assemble(
                    (f"{len(tests)} tests", style), ": " + ", ".join(t.name for t in tests)
                )
            )
        _indented(console, message)
        if hint:
            _indented(console, hint, label="hint: ", label_style="bold cyan")
        output = clean_text(tests[0].output, 20_000).strip()
        if output and len(tests) == 1:
            lines = output.splitlines()
            console.print(Text("    your code printed:", style="dim"))
            for line in lines[:8] + (["..."] if len(lines) > 8 else []):
                console.print(Text(f"    | {line}", style="dim"), soft_wrap=True)
        console.print()


def render_course(results: list[ExerciseResult], console: Console) -> None:
    """The course total of `dlgrade check --all`: one row per exercise."""
    table = Table(show_footer=True, header_style="bold", footer_style="bold")
    table.add_column("exercise", footer="course total")
    table.add_column("tests passed", justify="right")
    total = sum(r.score for r in results)
    most = sum(r.max_score for r in results)
    table.add_column("points", justify="right", footer=f"{points(total)} / {points(most)}")
    for r in results:
        passed = sum(1 for t in r.tests if t.status == "passed")
        style = "green" if r.full_marks else "red"
        table.add_row(
            r.exercise,
            f"{passed} / {len(r.tests)}",
            f"[{style}]{points(r.score)} / {points(r.max_score)}[/]",
        )
    console.print(table)
    done = sum(1 for r in results if r.full_marks)
    console.print(
        Text(
            f"{done} of {len(results)} exercises at full marks; {points(total)} / {points(most)} points.",
            style="bold",
        )
    )


def _verdict(result: ExerciseResult) -> Text:
    if result.full_marks:
        return Text(
            f"Full marks: {points(result.score)} / {points(result.max_score)}.", style="bold green"
        )
    left = sum(1 for t in result.tests if t.status != "passed")
    return Text(
        f"Score: {points(result.score)} / {points(result.max_score)} — {plural(left, 'test')} to go.",
        style="bold",
    )
