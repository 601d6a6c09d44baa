"""`dlgrade serve ...`: the class exam server and the instructor's commands around it.

This module imports only click at the top: the web stack (Starlette, SQLAlchemy, uvicorn)
is loaded by the command that runs, so `dlgrade quiz` and the rest stay light.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.clitools import AppContext, banks_folder, pass_app
from grader.errors import UserError
from grader.wording import plural

EXAM_PATH = click.Path(dir_okay=False, path_type=Path)
DATABASE_HELP = "sqlite:///FILE or postgresql://USER@HOST/DB (default: the exam file's, else EXAM.sqlite beside it)."


class DefaultRun(click.Group):
    """``dlgrade serve EXAM.yaml`` means ``dlgrade serve run EXAM.yaml``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _open(app: AppContext, exam_path: Path, database: str | None, create: bool = True):
    """(exam, bank, bank folder, database): everything checked, the tables made."""
    from grader.quiz.bank import load
    from grader.serve.attempts import exam_bank
    from grader.serve.db import Database
    from grader.serve.exam import load_exam

    exam = load_exam(exam_path)
    folder = exam.banks if exam.banks is not None else banks_folder(app, None)
    bank = load([folder])
    if bank.problems:
        raise UserError(f"{bank.problems[0]} (dlgrade quiz validate {folder} lists every problem)")
    exam_bank(exam, bank)  # the exam's topics or question ids are in the banks
    db = Database(exam.database_url(database))
    if create:
        db.create()
        with db.write() as conn:
            db.sync_roster(conn, exam.roster)
    return exam, bank, folder, db


@click.group(cls=DefaultRun)
def serve() -> None:
    """Exams in the browser: the class exam server and its instructor commands.

    \b
    Examples:
      dlgrade serve password exams/final.yaml         (the instructor's password, once)
      dlgrade serve codes exams/final.yaml --out codes.csv
      dlgrade serve exams/final.yaml --port 8000      (students sign in at http://HOST:8000/)
      dlgrade serve export exams/final.yaml --format canvas --out grades.csv
    """


@serve.command("run")
@click.argument("exam_path", metavar="EXAM.yaml", type=EXAM_PATH)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--database", default=None, help=DATABASE_HELP)
@click.option(
    "--https-only", is_flag=True, help="Cookies only over HTTPS (behind a TLS proxy in production)."
)
@pass_app
def run_cmd(
    app: AppContext, exam_path: Path, host: str, port: int, database: str | None, https_only: bool
) -> None:
    """Serve the exam: students at /, the instructor at /instructor.

    \b
    Example:
      dlgrade serve exams/final.yaml --host 0.0.0.0 --port 8000
    """
    exam, bank, folder, db = _open(app, exam_path, database)
    from grader.serve.app import create_app
    from grader.serve.auth import PASSWORD_KEY

    with db.read() as conn:
        has_password = db.get_meta(conn, PASSWORD_KEY) is not None
        codes = sum(1 for s in db.students(conn) if s["code_hash"])
    import uvicorn

    application = create_app(exam, bank, folder, db, https_only=https_only)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"{exam.title}: {exam.mode}, {exam.n} questions, {len(exam.roster)} students")
    click.echo(f"serving on http://{shown}:{port}/  (instructor: http://{shown}:{port}/instructor)")
    click.echo(f"database: {db.url.split('@')[-1]}")
    if not has_password:
        click.echo(
            f"note: no instructor password yet: dlgrade serve password {exam_path}", err=True
        )
    if codes < len(exam.roster):
        click.echo(
            f"note: {len(exam.roster) - codes} students have no sign-in code yet: "
            f"dlgrade serve codes {exam_path}",
            err=True,
        )
    sys.stdout.flush()
    # students' connections idle between questions: keep them open longer than uvicorn's 5 s, so a
    # save never races the server closing its connection
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,
    )


@serve.command("codes")
@click.argument("exam_path", metavar="EXAM.yaml", type=EXAM_PATH)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CSV here (default: print it).",
)
@click.option(
    "--url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The server's address, for the links.",
)
@click.option("--student", "student_ids", multiple=True, help="Only this student (repeatable).")
@click.option(
    "--renew", is_flag=True, help="Replace codes already issued (the old ones stop working)."
)
@click.option("--database", default=None, help=DATABASE_HELP)
@pass_app
def codes_cmd(
    app: AppContext,
    exam_path: Path,
    out: Path | None,
    url: str,
    student_ids: tuple[str, ...],
    renew: bool,
    database: str | None,
) -> None:
    """One-time sign-in codes and links, as a CSV for a mail merge: id, name, email, code, link.

    Students who have a code keep it unless --renew (or --student) is given.

    \b
    Example:
      dlgrade serve codes exams/final.yaml --url https://exam.example.edu --out codes.csv
    """
    import csv
    import io

    from grader.serve.auth import issue_codes

    exam, _, _, db = _open(app, exam_path, database)
    roster = {s.id: s for s in exam.roster}
    for sid in student_ids:
        if sid not in roster:
            raise UserError(f"no student {sid!r} in {exam.roster_path}")
    with db.write() as conn:
        have = {s["id"] for s in db.students(conn) if s["code_hash"]}
        wanted = list(student_ids) or [s.id for s in exam.roster if renew or s.id not in have]
        issued = issue_codes(db, conn, wanted)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "email", "code", "link"])
    for c in issued:
        s = roster[c.student]
        writer.writerow([s.id, s.name, s.email, c.code, f"{url.rstrip('/')}/signin/{c.token}"])
    if out is None:
        click.echo(buffer.getvalue(), nl=False)
    else:
        out.write_text(buffer.getvalue(), encoding="utf-8")
        out.chmod(0o600)
    kept = len(exam.roster) - len(issued) if not student_ids else 0
    note = f"; {kept} students keep the codes they have (--renew replaces them)" if kept else ""
    click.echo(f"{len(issued)} codes issued{' to ' + str(out) if out else ''}{note}", err=True)


@serve.command("password")
@click.argument("exam_path", metavar="EXAM.yaml", type=EXAM_PATH)
@click.option("--database", default=None, help=DATABASE_HELP)
@pass_app
def password_cmd(app: AppContext, exam_path: Path, database: str | None) -> None:
    """Set the instructor's password (stored as an argon2 hash in the exam's database).

    \b
    Example:
      dlgrade serve password exams/final.yaml
    """
    from grader.serve.auth import MIN_PASSWORD, set_password

    exam, _, _, db = _open(app, exam_path, database)
    password = click.prompt(
        f"password for {exam.instructor}", hide_input=True, confirmation_prompt=True
    )
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    with db.write() as conn:
        set_password(db, conn, password)
    click.echo(f"password set: sign in at /instructor as {exam.instructor}")


@serve.command("grace")
@click.argument("exam_path", metavar="EXAM.yaml", type=EXAM_PATH)
@click.option(
    "--seconds", type=click.FloatRange(1, 3600), required=True, help="How many seconds more."
)
@click.option(
    "--student", "student_ids", multiple=True, help="Only this student (repeatable; default: all)."
)
@click.option("--database", default=None, help=DATABASE_HELP)
@pass_app
def grace_cmd(
    app: AppContext,
    exam_path: Path,
    seconds: float,
    student_ids: tuple[str, ...],
    database: str | None,
) -> None:
    """Grace after an outage: every open question gets SECONDS more (the dashboard does the same).

    Run it while the server is down, before starting it again, so that questions which ran
    out during the outage get their time back before any browser asks for them; a question
    that was already closed stays closed.

    \b
    Example:
      dlgrade serve grace exams/final.yaml --seconds 120
    """
    _, _, _, db = _open(app, exam_path, database)
    with db.write() as conn:
        granted = db.grace(conn, seconds, list(student_ids) or None)
    click.echo(f"{seconds:g} s more for {plural(granted, 'open question')}")


@serve.command("export")
@click.argument("exam_path", metavar="EXAM.yaml", type=EXAM_PATH)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["plain", "canvas", "moodle", "items"]),
    default="plain",
    show_default=True,
    help="A gradebook CSV (plain, canvas, moodle) or the item analysis (items).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here (default: print).",
)
@click.option("--database", default=None, help=DATABASE_HELP)
@pass_app
def export_cmd(
    app: AppContext, exam_path: Path, fmt: str, out: Path | None, database: str | None
) -> None:
    """The exam's gradebook (with each student's count of accepted questions) or item analysis.

    \b
    Examples:
      dlgrade serve export exams/final.yaml --format canvas --out canvas.csv
      dlgrade serve export exams/final.yaml --format items
    """
    from grader.gradebook import gradebook_csv
    from grader.serve import results

    exam, _, _, db = _open(app, exam_path, database)
    with db.read() as conn:
        if fmt == "items":
            text = results.items_csv(results.item_stats(db, conn))
        else:
            text = gradebook_csv(results.gradebook_rows(exam, db, conn), fmt, exam.title, exam.id)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
