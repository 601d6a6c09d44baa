"""`dlgrade quiz ...`: practice, exam, resume, history, validate. Never imports torch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from grader.clitools import AppContext, bank_option, banks_folder, console, exit_with, pass_app
from grader.errors import UserError
from grader.paths import data_home
from grader.wording import plural

if TYPE_CHECKING:  # the bank, session and linter load on use: `dlgrade quiz` stays light
    from grader.quiz.bank import Bank
    from grader.quiz.lint import Report
    from grader.quiz.session import Session


def _load(app: AppContext, bank_dir: Path | None) -> Bank:
    from grader.quiz.bank import load

    bank = load([banks_folder(app, bank_dir)])
    if bank.problems:
        first = bank.problems[0]
        more = (
            f" (and {len(bank.problems) - 1} more: dlgrade quiz validate)"
            if len(bank.problems) > 1
            else ""
        )
        raise UserError(f"{first}{more}")
    return bank


def _store():
    from grader.quiz.store import Store

    return Store(data_home() / "quiz.sqlite")


def _play(session, seed: int | None, as_json: bool) -> None:
    from grader.quiz.play import play_plain, review, use_plain_mode

    out = console(stderr=as_json)  # with --json, stdout holds only the JSON object
    if use_plain_mode(sys.stdin):
        completed = play_plain(session, out)
    else:
        from grader.quiz.tui import play_interactive

        completed = play_interactive(session)
    if not completed:
        out.print("the quiz is saved; continue it with `dlgrade quiz resume`")
        if as_json:
            click.echo(json.dumps(session.to_json()))
        exit_with(1)
    review(session, out, seed)
    if as_json:
        click.echo(json.dumps(session.to_json()))


def quiz_options(fn):
    for decorator in reversed(
        [
            click.option(
                "--topic",
                "topics",
                multiple=True,
                help="Only this topic, by key (repeatable; `dlgrade quiz topics` lists them).",
            ),
            click.option(
                "--n", "n", type=int, default=10, show_default=True, help="How many questions."
            ),
            click.option(
                "--difficulty",
                type=click.IntRange(1, 3),
                multiple=True,
                help="Only questions of this difficulty, 1 to 3 (repeatable).",
            ),
            click.option(
                "--no-calculator",
                "no_calculator",
                is_flag=True,
                help="Only questions whose numbers are hand-computable (a closed-book exam).",
            ),
            click.option(
                "--seconds-per-question",
                type=click.FloatRange(min=0),
                default=60.0,
                show_default=True,
                help="Time for each question, from when it is shown; 0 for no limit.",
            ),
            click.option(
                "--total-seconds",
                type=click.FloatRange(min=1),
                default=None,
                help="A limit for the whole quiz.",
            ),
            click.option(
                "--seed",
                type=int,
                default=None,
                help="Draw the same quiz again (the seed is printed).",
            ),
            bank_option,
            click.option(
                "--json", "as_json", is_flag=True, help="Print one JSON object at the end."
            ),
        ]
    ):
        fn = decorator(fn)
    return fn


def _run(app: AppContext, mode: str, weak: bool, **opts: Any) -> None:
    from grader.quiz.play import QuizSettings, start

    bank = _load(app, opts["bank_dir"])
    store = _store()
    settings = QuizSettings(
        mode=mode,
        n=opts["n"],
        topics=opts["topics"],
        difficulty=opts["difficulty"],
        seconds_per_question=opts["seconds_per_question"] or None,
        total_seconds=opts["total_seconds"],
        seed=opts["seed"],
        weak=weak,
        calculator=not opts["no_calculator"],
    )
    session, seed = start(bank, store, settings)
    out = console(stderr=opts["as_json"])
    rules = (
        "practice: after each answer, the right one and why"
        if mode == "practice"
        else "exam rules: single best answer, no going back, no feedback until the end"
    )
    out.print(f"[bold]{mode} quiz[/] · {plural(session.total, 'question')} · seed {seed} · {rules}")
    try:
        _play(session, seed, opts["as_json"])
    finally:
        store.close()


@click.group()
def quiz() -> None:
    """Timed multiple-choice quizzes: practice, exams, history.

    \b
    Examples:
      dlgrade quiz practice --topic convolution --n 5
      dlgrade quiz exam --n 20 --seconds-per-question 90
      dlgrade quiz history
    """


@quiz.command()
@quiz_options
@click.option(
    "--weak", is_flag=True, help="Draw more from your weakest topics and the questions you missed."
)
@pass_app
def practice(app: AppContext, weak: bool, **opts: Any) -> None:
    """A practice quiz: after each answer, the right one and the explanation.

    \b
    Example:
      dlgrade quiz practice --n 5 --seconds-per-question 30
    """
    _run(app, "practice", weak, **opts)


@quiz.command()
@quiz_options
@pass_app
def exam(app: AppContext, **opts: Any) -> None:
    """A quiz under exam rules: no feedback until the end, no way back to a closed question.

    \b
    Example:
      dlgrade quiz exam --n 20 --seconds-per-question 90 --total-seconds 1800
    """
    _run(app, "exam", False, **opts)


@quiz.command("resume")
@bank_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
@pass_app
def resume_cmd(app: AppContext, bank_dir: Path | None, as_json: bool) -> None:
    """Continue the last quiz that did not finish (the question open when it stopped counts as
    timed out).

    \b
    Example:
      dlgrade quiz resume
    """
    from grader.quiz.play import resume

    bank = _load(app, bank_dir)
    store = _store()
    try:
        session = resume(bank, store)
        console(stderr=as_json).print(resume_message(session))
        _play(session, None, as_json)
    finally:
        store.close()


def resume_message(session: Session) -> str:
    """Where a resumed quiz stands: never a question past the last, and in exam mode nothing about
    correctness (exam rules: no feedback until the end)."""
    answered = sum(1 for item in session.items if item.status == "answered")
    if session.finished:
        return f"resuming: no question left of {session.total}; the quiz is finished"
    so_far = (
        f"{session.score} correct so far"
        if session.mode == "practice"
        else f"{answered} answered so far"
    )
    return f"resuming: question {session.position + 1} of {session.total} ({so_far})"


@quiz.command("history")
@bank_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@pass_app
def history_cmd(app: AppContext, bank_dir: Path | None, as_json: bool) -> None:
    """Past attempts, the score per topic over time, and the weakest topics.

    \b
    Example:
      dlgrade quiz history
      dlgrade quiz history --json
    """
    from grader.quiz.play import history, history_data

    titles: dict[str, str] = {}
    try:
        titles = _load(app, bank_dir).titles
    except UserError:
        pass  # history does not need the banks
    store = _store()
    try:
        if as_json:
            click.echo(json.dumps(history_data(store, titles)))
        else:
            history(store, console(), titles)
    finally:
        store.close()


@quiz.command("topics")
@bank_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead.")
@pass_app
def topics_cmd(app: AppContext, bank_dir: Path | None, as_json: bool) -> None:
    """The topics (the keys --topic takes), their titles and how many questions each has.

    \b
    Example:
      dlgrade quiz topics
      dlgrade quiz practice --topic convolution
    """
    from grader.quiz.bank import topic_counts

    rows = topic_counts(_load(app, bank_dir))
    if as_json:
        click.echo(json.dumps(rows))
        return
    key_w = max([len("key"), *(len(r["topic"]) for r in rows)])
    title_w = max([len("title"), *(len(r["title"]) for r in rows)])
    click.echo(f"{'key':<{key_w}}  {'title':<{title_w}}  questions  static  parametric")
    for r in rows:
        click.echo(
            f"{r['topic']:<{key_w}}  {r['title']:<{title_w}}  {r['questions']:>9}  "
            f"{r['static']:>6}  {r['parametric']:>10}"
        )
    total = sum(r["questions"] for r in rows)
    click.echo(f"{len(rows)} topics, {total} questions; choose with --topic KEY (repeatable)")


@quiz.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@pass_app
def validate(app: AppContext, paths: tuple[Path, ...], as_json: bool) -> None:
    """Check question banks, and lint them for what a test-wise student could exploit.

    Every problem is printed with its file, line and question id. The linter's table gives,
    per file, the share of questions whose key is the longest choice and of those where only
    distractors carry absolute words ("always", "only"...): over 35 % fails; and the share whose
    key alone repeats a word of the stem: over 10 % fails. Problems of single questions include
    majority and precision cues, double negatives, choices that deny the stem's premise and
    stems that ask nothing. Exit 1 on any problem or failed file.

    \b
    Example:
      dlgrade quiz validate quizzes/
    """
    from grader.quiz.bank import load
    from grader.quiz.bank import validate as check
    from grader.quiz.lint import lint

    targets = list(paths) or [banks_folder(app, None)]
    for p in targets:
        if not p.exists():
            raise UserError(f"no such file or folder: {p}")
    problems = check(targets)
    bank = load(targets)
    report = lint(bank)
    problems += report.problems
    passed = not problems and report.passed
    if as_json:
        out = report.to_json()
        out["passed"] = passed
        out["questions"] = len(bank.questions)
        out["problems"] = [
            {"path": str(p.path), "line": p.line, "id": p.qid, "message": p.message}
            for p in problems
        ]
        click.echo(json.dumps(out))
    else:
        for problem in problems:
            click.echo(str(problem))
        _lint_table(report)
        generated = sum(1 for q in bank.questions.values() if q.generator)
        summary = f"{len(bank.questions)} questions ({generated} parametric) in {len(bank.topics())} topics"
        if passed:
            click.echo(f"ok: {summary}")
        else:
            failed = [f.name for f in report.files if f.failed]
            why = [plural(len(problems), "problem")] if problems else []
            if failed:
                why.append(f"{plural(len(failed), 'file')} over the linter's limit")
            click.echo(f"FAILED: {', '.join(why)} ({summary})", err=True)
    if not passed:
        exit_with(1)


def _lint_table(report: Report) -> None:
    from rich.table import Table

    from grader.quiz.lint import LEVEL3_TARGET, MAX_ECHO_SHARE, MAX_SHARE

    table = Table(
        title=f"bank linter: a file fails over {MAX_SHARE:.0%} (key longest; absolute words only "
        f"in distractors) or over {MAX_ECHO_SHARE:.0%} (stem echo: the key alone repeats a stem "
        "word)"
    )
    for col in ("file", "static", "key longest", "absolute", "stem echo", "level 3", "calc.", ""):
        table.add_column(
            col, justify="left" if col in ("file", "") else "right", no_wrap=col in ("file", "")
        )
    for f in [*report.files, report.overall]:
        verdict = "[red]FAIL[/]" if f.failed else "ok"
        if f is report.overall:
            verdict = ""
            table.add_section()
        table.add_row(
            f.name,
            str(f.static),
            f"{f.key_longest} ({f.share(f.key_longest):.0%})",
            f"{f.absolute_distractors} ({f.share(f.absolute_distractors):.0%})",
            f"{f.echo} ({f.share(f.echo):.0%})",
            f"{f.level3}/{f.items} ({f.share(f.level3, f.items):.0%})",
            str(f.calculator),
            verdict,
        )
    out = console()
    out.print(table)
    o = report.overall
    level3 = o.share(o.level3, o.items)
    out.print(
        f"level 3: {level3:.0%} of all {o.items} items (target at least {LEVEL3_TARGET:.0%}"
        f"{'' if level3 >= LEVEL3_TARGET else ': not met'}); kinds: "
        + ", ".join(
            f"{k} {o.share(o.kinds.get(k, 0), o.items):.0%}"
            for k in ("recall", "calculation", "reasoning", "code", "figure", "unlabelled")
        )
    )


@quiz.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["moodle-xml", "gift"]),
    required=True,
    help="The LMS format.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (GIFT: figures go to OUT's name + -figures/ beside it).",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="Only this topic, by key (repeatable; `dlgrade quiz topics` lists them).",
)
@click.option(
    "--variants",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Rendered variants per parametric question.",
)
@click.option(
    "--no-calculator",
    "no_calculator",
    is_flag=True,
    help="Leave out questions whose numbers need a calculator (a closed-book exam).",
)
@bank_option
@pass_app
def export_cmd(
    app: AppContext,
    fmt: str,
    out: Path,
    topics: tuple[str, ...],
    variants: int,
    no_calculator: bool,
    bank_dir: Path | None,
) -> None:
    """Export the banks for an LMS: Moodle XML or GIFT, one category per topic.

    Figures are drawn as PNG: embedded in Moodle XML, written beside a GIFT file.

    \b
    Example:
      dlgrade quiz export --format moodle-xml --out bank.xml --variants 10
      dlgrade quiz export --format gift --out bank.gift --no-calculator
    """
    from grader.quiz.export import figure_files, gift, items, moodle_xml

    bank = _load(app, bank_dir)
    bank.require_topics(topics)
    exported = items(bank, list(topics) or None, variants, calculator=not no_calculator)
    if fmt == "moodle-xml":
        out.write_text(moodle_xml(exported), encoding="utf-8")
        click.echo(f"wrote {len(exported)} questions to {out}")
        return
    folder = out.with_name(f"{out.stem}-figures")
    out.write_text(gift(exported, folder.name), encoding="utf-8")
    files = figure_files(exported)
    if files:
        from grader.quiz.figures import png

        folder.mkdir(exist_ok=True)
        for name, spec in files.items():
            (folder / name).write_bytes(png(spec))
    where = f" and {len(files)} figures to {folder}/" if files else ""
    click.echo(f"wrote {len(exported)} questions to {out}{where}")


@quiz.command("stats")
@click.option(
    "--db",
    "databases",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Attempt databases (repeatable; default: yours).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of the table.")
def stats_cmd(databases: tuple[Path, ...], as_json: bool) -> None:
    """Item analysis: difficulty, discrimination and choice counts per question, with flags.

    \b
    Example:
      dlgrade quiz stats --db class/*.sqlite
    """
    from grader.quiz.stats import item_analysis

    paths = list(databases) or [data_home() / "quiz.sqlite"]
    for p in paths:
        if not p.is_file():
            raise UserError(f"no such attempts database: {p}")
    stats = item_analysis(paths)
    if as_json:
        click.echo(json.dumps([s.to_json() for s in stats]))
        return
    from rich.table import Table

    table = Table(title=f"item analysis over {len(paths)} database(s)")
    for col in (
        "question",
        "topic",
        "n",
        "difficulty",
        "discrimination",
        "choices picked",
        "flags",
    ):
        table.add_column(col)
    for s in stats:
        picked = " ".join(f"{'abcdef'[k]}:{v}" for k, v in sorted(s.choices.items()))
        disc = "-" if s.discrimination is None else f"{s.discrimination:+.2f}"
        table.add_row(
            s.qid, s.topic, str(s.attempts), f"{s.difficulty:.2f}", disc, picked, ", ".join(s.flags)
        )
    console().print(table)
    console().print("choices are letters of the bank's order (a = the first choice in the file)")
