"""The `dlgrade` command: parses options, calls the engine, prints. No grading logic lives here."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from grader.clitools import AppContext, console, exit_with, pass_app
from grader.course import Course
from grader.errors import GraderError, UserError, display_path
from grader.instructor.cli import (
    grade,
    gradebook_command,
    gradescope,
    import_command,
    nbgrader_group,
    release,
    report,
    sandbox_group,
)
from grader.quiz.cli import quiz  # the quiz group; it imports nothing heavy
from grader.serve.cli import serve  # imports only click; the web stack loads on use


class DlgradeGroup(click.Group):
    """Turns our exceptions into one line and an exit code; the traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("dlgrade: interrupted", err=True)
            exit_with(130)
        except UserError as exc:
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(f"dlgrade: error: {exc}", err=True)
            exit_with(2)
        except GraderError as exc:
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(
                f"dlgrade: grader problem (not your fault; tell your instructor): {exc}", err=True
            )
            exit_with(3)
        except Exception as exc:
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(
                f"dlgrade: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                err=True,
            )
            exit_with(3)


@click.group(cls=DlgradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--course",
    "course_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The course folder (the one with course.yaml); default: the one holding the working directory.",
)
@click.option("--debug", is_flag=True, help="Show Python tracebacks of errors.")
@click.version_option(package_name="dlgrade")
@click.pass_context
def cli(ctx: click.Context, course_dir: Path | None, debug: bool) -> None:
    """Self-grading deep-learning exercises and quizzes.

    \b
    Students:     dlgrade list
                  dlgrade check softmax
                  dlgrade quiz practice --n 5
    Instructors:  dlgrade check softmax --solution
                  dlgrade generate --check
                  dlgrade release assignments/week3.yaml --out release/week3
                  dlgrade grade submissions/ --out grades/
    """
    ctx.obj = AppContext(course_dir=course_dir, debug=debug)


@cli.command("list")
@pass_app
def list_cmd(app: AppContext) -> None:
    """The exercises, their points, and where you stand on each.

    \b
    Example:
      dlgrade list
    """
    from rich.table import Table

    from grader.engine.runner import collect_graders
    from grader.progress import progress_of

    course = app.course()
    rows, course_total, checked, earned = [], 0.0, 0.0, 0.0
    for name in course.exercises:
        tests = course.public_tests(name)
        total = sum(t.max_score for t in collect_graders(tests, name)) if tests.is_file() else 0
        progress = progress_of(course.stub(name))
        status = (
            progress.status() if progress else f"[red]missing {display_path(course.stub(name))}[/]"
        )
        rows.append((name, f"{total:g}", status))
        course_total += total
        if progress and progress.last_score is not None and progress.last_max is not None:
            checked, earned = checked + progress.last_max, earned + progress.last_score
    summary = f"last checks: {earned:g} of {checked:g} points" if checked else ""
    table = Table(title=course.title or None, header_style="bold", show_footer=True)
    table.add_column("exercise", footer="total")
    table.add_column("public points", justify="right", footer=f"{course_total:g}")
    table.add_column("status", footer=summary)
    for row in rows:
        table.add_row(*row)
    out = console()
    out.print(table)
    out.print(
        "Check one with:  dlgrade check EXERCISE   (public tests; the final grade adds hidden tests)"
    )


@cli.command()
@click.argument("exercise", required=False)
@click.option(
    "--all",
    "all_exercises",
    is_flag=True,
    help="Check every exercise of the course, in teaching order, and give the course total.",
)
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The file to grade (default: exercises/EXERCISE.py).",
)
@click.option(
    "--solution",
    is_flag=True,
    help="Grade the reference solution with all graders, hidden tests included.",
)
@click.option(
    "--hidden", is_flag=True, help="Include the hidden tests (needs the instructor's solutions/)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Base seed of the inputs (default: derived from your user name).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw the learning curve of your training run beside the reference's to this PNG (qlearning).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Recompute every PyTorch reference instead of reusing the ones stored by earlier checks.",
)
@click.option(
    "--student",
    "as_student",
    default=None,
    help="Instructors: the inputs `dlgrade grade` gave this student id (needs the class secret "
    "in solutions/), to reproduce a graded run.",
)
@pass_app
def check(
    app: AppContext,
    exercise: str | None,
    all_exercises: bool,
    path: Path | None,
    solution: bool,
    hidden: bool,
    as_json: bool,
    seed: int | None,
    plot: Path | None,
    no_cache: bool,
    as_student: str | None,
) -> None:
    """Grade one exercise and explain every failure.

    Exits 0 with full marks, 1 otherwise.

    \b
    Examples:
      dlgrade check softmax
      dlgrade check softmax --path my_softmax.py --json
      dlgrade check qlearning --plot curve.png
      dlgrade check --all
      dlgrade check softmax --solution        (instructors)
    """
    from grader.engine.plan import plan_check
    from grader.engine.seeding import default_seed
    from grader.engine.session import start_check

    course = app.course()
    if as_student is not None:
        from grader.engine.seeding import seed_for_student
        from grader.instructor.secret import class_secret

        if seed is not None:
            raise UserError("--student chooses the seed; it cannot be combined with --seed")
        seed = seed_for_student(as_student, class_secret(course, create=False))
    if all_exercises:
        if exercise is not None or path is not None or plot is not None:
            raise UserError("--all checks every exercise: give no EXERCISE, --path or --plot")
        _check_all(course, solution, hidden, as_json, seed, not no_cache)
        return
    if exercise is None:
        raise UserError("name the exercise to check (dlgrade list shows them), or use --all")
    plan = plan_check(course, exercise, path=path, solution=solution, hidden=hidden)
    seed = default_seed() if seed is None else seed
    # the sandbox and the reference process start now, and run while pytest and the graders load
    with start_check(plan, seed, use_cache=not no_cache) as session:
        from grader.engine.runner import run_check

        wanted = frozenset({"learning_curve"}) if plot is not None else frozenset()
        result = run_check(course, plan, session, seed=seed, wanted_artifacts=wanted)

    from grader.progress import record_check

    if not solution and not hidden:
        record_check(result, path if path is not None else course.stub(exercise))
    plot_error = _write_plot(result, plot) if plot is not None else None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        from grader.check_report import render_check

        render_check(result, console())
    if plot_error is not None:  # the results are out; the plot that was asked for is not
        click.echo(f"dlgrade: error: {plot_error}", err=True)
    problem = _grader_problem(result, solution)
    if problem:
        click.echo(
            f"dlgrade: grader problem (not your fault; tell your instructor): {problem}", err=True
        )
        exit_with(3)
    if plot_error is not None:
        exit_with(2)
    exit_with(0 if result.full_marks else 1)


def _grader_problem(result, solution: bool) -> str | None:
    """Why this check says more about the graders than about the submission, if it does: a
    grader's own code failed, or the reference solution is not given full marks."""
    broken = result.grader_errors
    if broken:
        first = broken[0]
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        return f"{result.exercise}: {first.name} failed in the grader's own code{more}: {first.message}"
    if solution and not result.full_marks:
        failing = [t.name for t in result.tests if t.status != "passed"]
        return (
            f"the reference solution of {result.exercise} scores {result.score:g} / "
            f"{result.max_score:g}: the graders are wrong (failing: {', '.join(failing)})"
        )
    return None


def _check_all(
    course: Course,
    solution: bool,
    hidden: bool,
    as_json: bool,
    seed: int | None,
    use_cache: bool,
) -> None:
    """`dlgrade check --all`: every exercise, one report each, then the course total."""
    from grader.check_report import render_check, render_course
    from grader.engine.runner import check as check_exercise
    from grader.progress import record_check

    results = []
    out = console()
    for name in course.exercises:
        result = check_exercise(
            course, name, solution=solution, hidden=hidden, seed=seed, use_cache=use_cache
        )
        if not solution and not hidden:
            record_check(result, course.stub(name))
        results.append(result)
        if not as_json:
            render_check(result, out)
            out.print()
    score = sum(r.score for r in results)
    max_score = sum(r.max_score for r in results)
    if as_json:
        data = {
            "score": score,
            "max_score": max_score,
            "exercises": [r.to_json() for r in results],
        }
        click.echo(json.dumps(data, indent=2))
    else:
        render_course(results, out)
    problems = [p for p in (_grader_problem(r, solution) for r in results) if p]
    for problem in problems:
        click.echo(
            f"dlgrade: grader problem (not your fault; tell your instructor): {problem}", err=True
        )
    if problems:
        exit_with(3)
    exit_with(0 if all(r.full_marks for r in results) else 1)


def _write_plot(result, path: Path) -> str | None:
    """Draws the learning curve to ``path``; the error that kept it from being written, if any."""
    curve = result.artifacts.get("learning_curve")
    if curve is None:
        result.notes.append(
            f"no learning curve to plot: {result.exercise} draws none, "
            "or its training test did not run to the end"
        )
        return None
    from grader.plots import plot_learning_curve

    try:
        plot_learning_curve(curve, path)
    except UserError as exc:
        result.notes.append(f"the learning curve was not drawn: {exc}")
        return str(exc)
    result.notes.append(f"learning curve written to {display_path(path)}")
    return None


@cli.command()
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Change nothing; exit 1 if exercises/ is out of date.",
)
@pass_app
def generate(app: AppContext, check_only: bool) -> None:
    """Rebuild exercises/ (stubs and public tests) from solutions/.

    \b
    Examples:
      dlgrade generate
      dlgrade generate --check      (in CI: fails when exercises/ has drifted)
    """
    from grader.generate import check_course, generate_course

    course = app.course()
    if check_only:
        drift = check_course(course)
        for item in drift:
            click.echo(f"{display_path(item.path)}: {item.reason}", err=True)
        if drift:
            click.echo("exercises/ is out of date: run dlgrade generate", err=True)
            exit_with(1)
        click.echo(f"exercises/ is up to date ({len(course.exercises)} exercises)")
        return
    changed = generate_course(course)
    for path in changed:
        click.echo(f"wrote {display_path(path)}")
    if not changed:
        click.echo("exercises/ is already up to date")


for command in (
    quiz,
    grade,
    release,
    gradescope,
    report,
    nbgrader_group,
    sandbox_group,
    import_command,
    gradebook_command,
    serve,
):
    cli.add_command(command)


def main() -> None:
    cli.main(prog_name="dlgrade")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
