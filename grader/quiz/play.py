"""Starting, resuming and playing a quiz: the plain line mode, and the review at the end.

The interactive terminal interface is in tui.py; both drive the same Session.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.errors import UserError
from grader.quiz.bank import Bank
from grader.quiz.markup import blocks, has_code_block
from grader.quiz.sampling import draw
from grader.quiz.session import LETTERS, Item, Session, TooLate
from grader.quiz.store import Store, weak_weights
from grader.quiz.texmath import readable


@dataclass
class QuizSettings:
    mode: str = "practice"
    n: int = 10
    topics: tuple[str, ...] = ()
    difficulty: tuple[int, ...] = ()
    seconds_per_question: float | None = 60.0
    total_seconds: float | None = None
    seed: int | None = None
    weak: bool = False
    calculator: bool = True  # False: only hand-computable questions (--no-calculator)


def start(
    bank: Bank, store: Store, settings: QuizSettings, clock: Callable[[], float] = time.monotonic
) -> tuple[Session, int]:
    """A new attempt, drawn and recorded; (session, seed)."""
    seed = settings.seed if settings.seed is not None else int.from_bytes(os.urandom(3), "big")
    weights = None
    if settings.weak:
        weights = weak_weights(store, {q.id: q.topic for q in bank.questions.values()})
    items = draw(
        bank,
        n=settings.n,
        seed=seed,
        topics=list(settings.topics) or None,
        difficulty=list(settings.difficulty) or None,
        weights=weights,
        calculator=settings.calculator,
    )
    store.begin(
        items,
        mode=settings.mode,
        seed=seed,
        settings={
            "seconds_per_question": settings.seconds_per_question,
            "total_seconds": settings.total_seconds,
            "topics": list(settings.topics),
            "calculator": settings.calculator,
        },
    )
    session = Session(
        items,
        mode=settings.mode,  # type: ignore[arg-type]
        seconds_per_question=settings.seconds_per_question,
        total_seconds=settings.total_seconds,
        clock=clock,
        recorder=store,
    )
    return session, seed


def resume(bank: Bank, store: Store, clock: Callable[[], float] = time.monotonic) -> Session:
    """The last unfinished attempt, from where it stopped: the question that was open when it
    died is closed as timed out; a total limit keeps counting from the original start."""
    stored = store.unfinished()
    if stored is None:
        raise UserError(
            "there is no unfinished quiz to resume (start one with dlgrade quiz practice)"
        )
    items = []
    for s in stored.items:
        q = bank.questions.get(s.qid)
        if q is None:
            raise UserError(
                f"the unfinished quiz has question {s.qid!r}, which is no longer in the banks"
            )
        item = Item(s.qid, s.topic, s.variant, s.order, q.render(s.variant))
        item.status = "timed_out" if s.status == "open" else s.status  # type: ignore[assignment]
        item.choice = s.choice
        items.append(item)
    store.attempt = stored.id
    settings = stored.settings
    session = Session(
        items,
        mode=stored.mode,  # type: ignore[arg-type]
        seconds_per_question=settings.get("seconds_per_question"),
        total_seconds=settings.get("total_seconds"),
        clock=clock,
        recorder=store,
    )
    for position, (s, item) in enumerate(zip(stored.items, items, strict=True)):
        if s.status == "open":
            store.closed(position, item)  # it was open when the quiz died: timed out, on record
    session.position = next((i for i, it in enumerate(items) if not it.closed), len(items))
    if session.total_seconds is not None:
        session.started_at = clock() - (time.time() - stored.started)
    if session.finished:
        store.finished(session)
    return session


# -- the plain mode: one answer a line --------------------------------------------------------
class LineReader:
    """Lines from a file descriptor, each with a deadline (select, so a pipe works too)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.eof = False

    def readline(self, timeout: float | None) -> str | None:
        """The next line; None when ``timeout`` seconds pass first; EOFError at the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if self.eof:
                if self.buffer:
                    line, self.buffer = self.buffer, b""
                    return line.decode("utf-8", "replace")
                raise EOFError
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                self.eof = True
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8", "replace")


def print_text(out: Console, text: str) -> None:
    """Question text for a line terminal: prose with readable math; code blocks as written,
    indented, never cropped (highlighted and wrapped in a terminal, plain in a pipe)."""
    if not has_code_block(text):
        out.print(escape(readable(text)))
        return
    for block in blocks(text):
        if not block.is_code:
            if block.text.strip():
                out.print(escape(readable(block.text.strip("\n"))))
            continue
        out.print()
        if out.is_terminal:
            from rich.syntax import Syntax

            lexer = block.language or "text"
            code = Syntax(block.text, lexer, theme="ansi_dark", background_color="default")
            code.word_wrap, code.padding = True, (0, 0, 0, 4)
            out.print(code)
        else:
            indented = "\n".join("    " + line for line in block.text.splitlines())
            out.print(indented, soft_wrap=True, markup=False, highlight=False)
        out.print()


def _seconds(s: float | None) -> str:
    return "no time limit" if s is None else f"{s:.0f} s"


def play_plain(session: Session, out: Console, fd: int = 0) -> bool:
    """Runs the quiz reading answers from ``fd``; False if the input ended first (resumable)."""
    reader = LineReader(fd)
    while True:
        for fb in session.tick():
            _time_up(out, session, fb.item)
        item = session.show()
        if item is None:
            return True
        n_choices = len(item.choices)
        calculator = " · calculator allowed" if item.rendered.calculator else ""
        out.print(
            f"\n[bold]Question {session.position + 1} of {session.total}[/] · {escape(item.topic)} · "
            f"{_seconds(session.remaining())}{calculator}"
        )
        print_text(out, item.rendered.text)
        if item.rendered.figure is not None:
            from grader.quiz.figures import terminal

            out.print(terminal(item.rendered.figure, min(out.width, 100), 18))
        for k, choice in enumerate(item.choices):
            out.print(f"  {LETTERS[k]}) {escape(readable(choice))}")
        while True:
            out.print(f"answer (a-{LETTERS[n_choices - 1]}, empty line to skip): ", end="")
            try:
                line = reader.readline(session.remaining())
            except EOFError:
                out.print("\ninput ended")  # the caller says the quiz is saved, once
                return False
            if line is None:  # the deadline passed while waiting
                for fb in session.tick():
                    _time_up(out, session, fb.item)
                break
            answer = line.strip().lower()
            if answer == "":
                _feedback(out, session, session.skip().item)
                break
            if len(answer) == 1 and answer in LETTERS[:n_choices]:
                try:
                    fb = session.save(LETTERS.index(answer))
                except TooLate:
                    _time_up(out, session, item)
                    break
                out.print(f"saved: {answer})")
                _feedback(out, session, fb.item)
                break
            out.print(f"'{escape(line.strip())}' is not one of a-{LETTERS[n_choices - 1]}")


def _time_up(out: Console, session: Session, item: Item) -> None:
    out.print(f"\n[yellow]time is up[/] for question {item.qid}: it counts as not answered")
    _feedback(out, session, item)


def _feedback(out: Console, session: Session, item: Item) -> None:
    """Practice mode: the right answer and the explanation, at once. Exam mode: nothing."""
    if session.mode != "practice":
        return
    right = f"{LETTERS[item.answer]}) {item.choices[item.answer]}"
    if item.correct:
        out.print("[green]correct[/]")
    elif item.status == "skipped":
        out.print(f"skipped: the answer is {escape(readable(right))}")
    else:
        out.print(f"[red]not correct[/]: the answer is {escape(readable(right))}")
    out.print(f"[dim]{escape(readable(item.rendered.explanation))}[/]")


def review(session: Session, out: Console, seed: int | None = None) -> None:
    """The summary at the end; in exam mode the full review with every explanation."""
    table = Table(title=f"{session.mode} quiz: {session.score} / {session.total}", show_lines=False)
    for col in ("#", "question", "topic", "yours", "answer", "result"):
        table.add_column(col)
    for i, item in enumerate(session.items, 1):
        yours = (
            LETTERS[item.choice] if item.status == "answered" and item.choice is not None else "-"
        )
        result = {
            "answered": "[green]correct[/]" if item.correct else "[red]wrong[/]",
            "skipped": "skipped",
            "timed_out": "[yellow]time up[/]",
        }.get(item.status, item.status)
        table.add_row(
            str(i), escape(item.qid), escape(item.topic), yours, LETTERS[item.answer], result
        )
    out.print(table)
    if session.mode == "exam":
        for i, item in enumerate(session.items, 1):
            out.print(f"\n[bold]{i}. {escape(item.qid)}[/] {escape(readable(item.rendered.text))}")
            out.print(
                f"   answer: {LETTERS[item.answer]}) {escape(readable(item.choices[item.answer]))}"
            )
            out.print(f"   [dim]{escape(readable(item.rendered.explanation))}[/]")
    out.print(
        f"\nScore: {session.score} / {session.total} (every question counts the same; no penalty)"
    )
    if seed is not None:
        out.print(f"[dim]seed {seed}: `--seed {seed}` draws the same quiz again[/]")


WEAK_SHARE = 0.8  # a topic under 80 % correct is one of the weakest


def history_data(store: Store, titles: dict[str, str]) -> dict:
    """Past attempts, the score per topic (overall and by attempt, oldest first), the weakest
    topics: what `quiz history` shows, and prints with ``--json``."""
    attempts = [
        {
            "id": a["id"],
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(a["started"])),
            "finished": a["finished"] is not None,
            "mode": a["mode"],
            "score": a["score"],
            "total": a["total"],
        }
        for a in store.attempts()
    ]
    per_attempt: dict[str, list[dict[str, int]]] = {}
    for attempt, topic, seen, correct in store.topic_by_attempt():
        per_attempt.setdefault(topic, []).append(
            {"attempt": attempt, "seen": seen, "correct": correct}
        )
    stats = store.topic_stats()
    ranked = sorted(stats.items(), key=lambda kv: (kv[1]["correct"] / kv[1]["seen"], kv[0]))
    topics: list[dict[str, Any]] = [
        {
            "topic": topic,
            "title": titles.get(topic, topic),
            "seen": s["seen"],
            "correct": s["correct"],
            "share": round(s["correct"] / s["seen"], 4),
            "by_attempt": per_attempt.get(topic, []),
        }
        for topic, s in ranked
    ]
    weakest = [t["topic"] for t in topics if t["share"] < WEAK_SHARE][:3]
    return {"attempts": attempts, "topics": topics, "weakest": weakest}


def history(store: Store, out: Console, titles: dict[str, str]) -> None:
    data = history_data(store, titles)
    if not data["attempts"]:
        out.print("no quiz attempts yet: start one with `dlgrade quiz practice`")
        return
    table = Table(title="attempts")
    for col in ("#", "date", "mode", "score", "state"):
        table.add_column(col)
    for a in data["attempts"]:
        state = "finished" if a["finished"] else "unfinished (dlgrade quiz resume)"
        when = a["started"].replace("T", " ")[:16]
        table.add_row(str(a["id"]), when, a["mode"], f"{a['score']} / {a['total']}", state)
    out.print(table)
    topics = Table(title="score per topic (over time, oldest first)")
    for col in ("topic", "correct", "share", "by attempt"):
        topics.add_column(col)
    for t in data["topics"]:
        by_attempt = [f"{100 * a['correct'] / a['seen']:.0f}%" for a in t["by_attempt"]]
        topics.add_row(
            escape(t["title"]),
            f"{t['correct']} / {t['seen']}",
            f"{t['share']:.0%}",
            " ".join(by_attempt[-8:]),
        )
    out.print(topics)
    if data["weakest"]:
        out.print(
            "weakest topics: "
            + ", ".join(titles.get(t, t) for t in data["weakest"])
            + " — `dlgrade quiz practice --weak` draws more from them"
        )


def use_plain_mode(stdin: IO[str]) -> bool:
    try:
        return not stdin.isatty()
    except (AttributeError, ValueError):
        return True
