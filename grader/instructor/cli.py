"""Instructor commands: grade a class, release an assignment, Gradescope, the grade report."""

from __future__ import annotations

from pathlib import Path

import click

from grader.clitools import AppContext, console, pass_app
from grader.wording import plural


@click.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where grades go.",
)
@click.option(
    "--exercise", "exercises", multiple=True, help="Only this exercise (repeatable; default: all)."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions graded at once (default: the cores).",
)
@click.option(
    "--trust-submissions",
    is_flag=True,
    help="Grade without bubblewrap: only for submissions you trust (they could read the "
    "solutions and reach each other).",
)
@click.option(
    "--assignment",
    default=None,
    help="An assignment file (its weights, due date, late policy and extensions go into "
    "grades.csv), or the name of nbgrader's assignment folder: SUBMISSIONS/<student_id>/"
    "<assignment>/ (an assignment file's name is its folder's too).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Grade on the workers of this running Dask scheduler (e.g. tcp://10.0.0.5:8786); "
    "needs dlgrade[cluster].",
)
@click.option(
    "--cluster",
    default=None,
    metavar="KIND:ARG",
    help="Start a Dask cluster for the run: local:N (N worker processes here), "
    "slurm:cluster.yaml (dask-jobqueue) or kubernetes:cluster.yaml (dask-kubernetes); see "
    "examples/.",
)
@pass_app
def grade(
    app: AppContext,
    submissions: Path,
    out: Path,
    exercises: tuple[str, ...],
    workers: int | None,
    trust_submissions: bool,
    assignment: str | None,
    scheduler: str | None,
    cluster: str | None,
) -> None:
    """Grade a class: SUBMISSIONS/<student_id>/<exercise>.py, hidden tests included.

    A notebook, <exercise>.ipynb, is graded by the code of its solution cells, in the sandbox
    like a .py file; nbgrader's submitted/<student_id>/<assignment>/ folders work as they are.
    Only regular files are graded; a near miss (Softmax.py, softmax (1).py, a subfolder) is
    taken and said, anything else is that student's error and the run goes on.

    Writes OUT/grades.csv (a row per student, a column per exercise, the total; with
    --assignment also the weighted total, lateness and the grade), OUT/<student_id>.json and
    OUT/gradescope/<student_id>/results.json. Started again, it grades only what is new, or
    what changed since (a submission, the graders, the reference, dlgrade...), and says why.

    \b
    Examples:
      dlgrade grade submissions/ --out grades/ --workers 4
      dlgrade grade submissions/ --out grades/ --assignment assignments/week3.yaml
      dlgrade grade nbcourse/submitted/ --out grades/ --assignment week3
      dlgrade grade submissions/ --out grades/ --cluster slurm:cluster.yaml
    """
    import contextlib

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from grader.errors import UserError
    from grader.instructor.assignment import load_assignment
    from grader.instructor.grade import grade_class, protected_for_class, students_in
    from grader.sandbox.isolation import detect, require

    course = app.course()
    students_in(submissions, out)  # bad input is reported before any progress bar
    for exercise in exercises:
        course.require_exercise(exercise)
    policy, folder = None, assignment
    if assignment is not None and (
        assignment.endswith((".yaml", ".yml")) or Path(assignment).is_file()
    ):
        policy = load_assignment(Path(assignment), course, check_quiz=False)
        folder = policy.name
    target = None
    if scheduler or cluster:  # Dask only then: the local pool imports none of it
        from grader.instructor.cluster import open_cluster, parse_target

        target = parse_target(scheduler, cluster)
        if workers is not None:
            raise UserError(
                "--workers sizes the local pool; a cluster's size is its own (local:N, or the "
                "jobs or workers of its cluster.yaml)"
            )
    else:
        isolation = detect(protected_for_class(course, out))
        require(isolation, "bubblewrap", "grading a class", trust_submissions)
    err = console(stderr=True)
    columns = (
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with contextlib.ExitStack() as stack:
        dispatch = None
        if target is not None:
            dispatch = stack.enter_context(open_cluster(target))
            click.echo(dispatch.describe(), err=True)
        bar = stack.enter_context(Progress(*columns, console=err, transient=False))
        task = bar.add_task("grading", total=None, rate="")
        start: list[float] = []

        def progress(done: int, total: int) -> None:
            import time

            now = time.perf_counter()
            if not start:
                start.extend([now, done])
            rate = (done - start[1]) / (now - start[0]) if now > start[0] else 0.0
            bar.update(task, completed=done, total=total, rate=f"{rate:.2f}/s")

        summary = grade_class(
            course,
            submissions,
            out,
            exercises=list(exercises) or None,
            workers=workers,
            progress=progress,
            trusted=trust_submissions,
            assignment=folder,
            policy=policy,
            dispatch=dispatch,
        )
    for note in summary["notes"]:
        click.echo(f"note: {note}", err=True)
    why = ", ".join(f"{n} for {reason}" for reason, n in summary["why"].items())
    click.echo(
        f"graded {plural(summary['graded'], 'submission')}{f' ({why})' if why else ''}; "
        f"{summary['kept']} unchanged since the last run kept; "
        f"{plural(summary['students'], 'student')} in {summary['seconds']:.1f} s; "
        f"grades in {out / 'grades.csv'}; sandbox: {summary['isolation'].level}"
    )
    if summary["stale"]:
        click.echo(
            f"note: {plural(summary['stale'], 'result')} of other exercises in {out} were graded "
            "with graders or a dlgrade that changed since: run without --exercise to regrade them",
            err=True,
        )


@click.command()
@click.argument("assignment", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="A new folder for the bundle.",
)
@pass_app
def release(app: AppContext, assignment: Path, out: Path) -> None:
    """Write the student bundle of an assignment: stubs, public tests, quiz banks, a README.

    Nothing of solutions/ and no hidden test goes in.

    \b
    Example:
      dlgrade release assignments/week3.yaml --out release/week3
    """
    from grader.instructor.assignment import load_assignment
    from grader.instructor.assignment import release as write_release

    course = app.course()
    a = load_assignment(assignment, course)
    files = write_release(a, course, out)
    click.echo(f"wrote {len(files)} files to {out}: {', '.join(a.exercises)} and their README")


@click.group()
def gradescope() -> None:
    """Run the course's graders as a Gradescope autograder."""


@gradescope.command("build")
@click.argument("assignment", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The zip to upload.",
)
@pass_app
def gradescope_build(app: AppContext, assignment: Path, out: Path) -> None:
    """Build autograder.zip (setup.sh, run_autograder, the graders) for Gradescope.

    \b
    Example:
      dlgrade gradescope build assignments/week3.yaml --out autograder.zip
    """
    from grader.instructor.assignment import load_assignment
    from grader.instructor.gradescope import build

    course = app.course()
    names = build(load_assignment(assignment, course), course, out)
    click.echo(f"wrote {out} ({len(names)} files); upload it as the assignment's autograder")


@gradescope.command("run")
@click.argument("assignment", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--submission", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("/autograder/submission_metadata.json"),
)
@click.option(
    "--trust-submissions",
    is_flag=True,
    help="Grade below the uid isolation level (the submission could read the solutions).",
)
@pass_app
def gradescope_run(
    app: AppContext,
    assignment: Path,
    submission: Path,
    results: Path,
    metadata: Path,
    trust_submissions: bool,
) -> None:
    """Grade one submission the way Gradescope asks (called by run_autograder)."""
    from grader.instructor.assignment import load_assignment
    from grader.instructor.gradescope import run

    course = app.course()
    a = load_assignment(assignment, course, check_quiz=False)  # the quiz banks are not graded here
    out = run(a, course, submission, results, metadata, trusted=trust_submissions)
    click.echo(f"score {out['score']:g} / 100 written to {results}")


@click.command()
@click.argument("grades_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML file to write.",
)
def report(grades_dir: Path, out: Path) -> None:
    """The grade report of a graded class: distributions, tests most often failed, mistakes named.

    \b
    Example:
      dlgrade report grades/ --out report.html
    """
    from grader.instructor.class_report import write_report

    write_report(grades_dir, out)
    click.echo(f"wrote {out}")


@click.group("nbgrader")
def nbgrader_group() -> None:
    """Run the course on nbgrader (Jupyter notebooks)."""


@nbgrader_group.command("export")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The nbgrader course folder to write into.  [required]",
)
@click.option(
    "--course",
    "deprecated_out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    hidden=True,
    help="Deprecated: the old name of --out.",
)
@click.option(
    "--assignment",
    default=None,
    help="The assignment (assignments/NAME.yaml gives its exercises); default: all exercises as 'dlgrade'.",
)
@click.option("--exercise", "exercises", multiple=True, help="Only this exercise (repeatable).")
@pass_app
def nbgrader_export(
    app: AppContext,
    out: Path | None,
    deprecated_out: Path | None,
    assignment: str | None,
    exercises: tuple[str, ...],
) -> None:
    """Write nbgrader source notebooks and nbgrader_config.py for the course's exercises.

    \b
    Example:
      dlgrade nbgrader export --out nbcourse --assignment week3
      cd nbcourse && nbgrader generate_assignment week3
    """
    from grader.instructor.nbgrader_export import export

    if deprecated_out is not None:
        click.echo("dlgrade: nbgrader export --course is deprecated: use --out", err=True)
        if out is not None and out != deprecated_out:
            raise click.UsageError("give the nbgrader course folder once, with --out")
        out = deprecated_out
    if out is None:
        raise click.UsageError("Missing option '--out'.")
    course = app.course()
    name = assignment or "dlgrade"
    chosen = list(exercises)
    if not chosen:
        spec = course.root / "assignments" / f"{name}.yaml"
        if assignment and spec.is_file():
            from grader.instructor.assignment import load_assignment

            chosen = load_assignment(spec, course).exercises
        else:
            chosen = list(course.exercises)
    written = export(course, out, name, chosen)
    click.echo(
        f"wrote {len(written)} files to {out}; next: cd {out} && nbgrader generate_assignment {name}"
    )


@click.group("sandbox")
def sandbox_group() -> None:
    """What the sandbox guarantees on this machine, and how to raise it."""


@sandbox_group.command("status")
@pass_app
def sandbox_status(app: AppContext) -> None:
    """The isolation level submissions are graded at here, and why.

    \b
    Example:
      dlgrade sandbox status
    """
    from grader.engine.runner import protected_paths
    from grader.sandbox.isolation import detect
    from grader.sandbox.limits import counted_by

    try:
        protect = protected_paths(app.course())
    except Exception:  # outside a course: nothing of the instructor's to protect
        protect = ()
    isolation = detect(protect)
    click.echo(isolation.describe())
    click.echo(f"all of a sandbox's processes together are held to their limits by {counted_by()}")
    verdict = {
        "bubblewrap": "a class can be graded here (dlgrade grade)",
        "uid": "one submission per run can be graded here (Gradescope); a class needs bubblewrap",
        "process": "students can check their own work; grading others' needs bubblewrap",
    }
    click.echo(verdict[isolation.level])


@sandbox_group.command("lockdown")
def sandbox_lockdown() -> None:
    """Make the forbidden packages (torch, scipy...) unreadable to the sandbox's uids.

    Root only. With the course folder unreadable to others too, a machine without bubblewrap
    then offers the uid level (the Gradescope autograder's setup.sh runs this).

    \b
    Example:
      sudo dlgrade sandbox lockdown && chmod 700 /path/to/course
    """
    import os

    from grader.errors import UserError
    from grader.sandbox.isolation import lock_down

    if os.geteuid() != 0:
        raise UserError("dlgrade sandbox lockdown changes installed packages: run it as root")
    changed = lock_down()
    for path in changed:
        click.echo(f"locked {path}")
    click.echo(f"{plural(len(changed), 'folder')} locked")


@nbgrader_group.command("import-grades")
@click.argument("grades_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--course",
    "nbcourse",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The nbgrader course folder (its gradebook.db receives the scores).",
)
@click.option("--assignment", required=True, help="The nbgrader assignment the scores are for.")
@click.option(
    "--db", "db_url", default=None, help="The gradebook's URL (default: COURSE/gradebook.db)."
)
def nbgrader_import_grades(
    grades_dir: Path, nbcourse: Path, assignment: str, db_url: str | None
) -> None:
    """Write the scores of `dlgrade grade` into nbgrader's gradebook as autograded scores.

    Grade the notebooks in the sandbox with dlgrade grade (nbgrader's autograde runs student
    code in the kernel beside the tests, where it can fool them), then keep nbgrader's
    formgrader, feedback and exports.

    \b
    Example:
      dlgrade grade nbcourse/submitted --out grades/ --assignment week3
      dlgrade nbgrader import-grades grades/ --course nbcourse --assignment week3
    """
    from grader.instructor.nbgrader_gradebook import import_grades

    done = import_grades(grades_dir, nbcourse, assignment, db_url)
    click.echo(
        f"wrote {plural(done.cells, 'score')} of {plural(done.notebooks, 'notebook')} of "
        f"{plural(done.students, 'student')} into {done.database} ({assignment})"
    )


@click.command("import")
@click.argument("lms", type=click.Choice(["canvas", "moodle", "gradescope"]))
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The submissions folder to fill: OUT/<student id>/<file>.",
)
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Who is who: Canvas's gradebook export CSV, or Moodle's grading worksheet CSV.",
)
def import_command(lms: str, archive: Path, out: Path, roster: Path | None) -> None:
    """Unpack an LMS's submission download into SUBMISSIONS/<student id>/.

    Also writes SUBMISSIONS/_students.csv (each folder's LMS identity, for `dlgrade gradebook`)
    and SUBMISSIONS/_submitted.csv (when each student handed in, for late days).

    \b
    Examples:
      dlgrade import canvas submissions.zip --roster canvas-gradebook.csv --out submissions/
      dlgrade import moodle week3.zip --roster grading-worksheet.csv --out submissions/
      dlgrade import gradescope export.zip --out submissions/
    """
    from grader.instructor.lms import import_archive

    notes = import_archive(lms, archive, out, roster)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    students = sum(1 for p in out.iterdir() if p.is_dir() and not p.name.startswith("_"))
    click.echo(f"{plural(students, 'student')} in {out}; next: dlgrade grade {out} --out grades/")


@click.command("gradebook")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["canvas", "moodle", "plain"]))
@click.argument("grades_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The CSV to write.",
)
@click.option(
    "--title", default="dlgrade", help="The grade column's title (the assignment's name)."
)
@click.option(
    "--assignment-id",
    default="",
    help='Canvas: the assignment\'s id (the number in its gradebook column, "Week 3 (123456)").',
)
def gradebook_command(
    fmt: str, grades_dir: Path, out: Path, title: str, assignment_id: str
) -> None:
    """Write a graded class's grades as the gradebook CSV Canvas or Moodle imports.

    The grade is grades.csv's `grade` column when the class was graded with --assignment (weights
    and late penalty applied), else its `total`.

    \b
    Examples:
      dlgrade gradebook canvas grades/ --title "Week 3" --assignment-id 123456 --out canvas.csv
      dlgrade gradebook moodle grades/ --title "Week 3" --out moodle.csv
    """
    from grader.instructor.lms import gradebook

    text = gradebook(grades_dir, fmt, title, assignment_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    rows = text.count("\n") - 1
    click.echo(f"wrote {out}: {plural(rows, 'student')}, for {fmt}'s gradebook import")
