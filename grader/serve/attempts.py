"""A student's attempt: drawn with the quiz's sampler, played by the quiz's Session state machine.

The rules (a deadline fixed when a question is first shown, a save after it refused,
no way back, a total limit) live in grader/quiz/session.py only. This module restores a
Session from the database for each request, with the server's wall clock as its clock,
lets it decide, and records what it did through a Recorder that writes into the same
transaction. The database is the only state: a server killed and started again
restores the same Session, deadlines included.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from grader.errors import FileLineError
from grader.quiz.bank import Bank, Rendered
from grader.quiz.sampling import draw
from grader.quiz.session import Feedback, Item, QuizOver, Session, TooLate
from grader.serve.db import AttemptRow, Database
from grader.serve.exam import Exam

Clock = Callable[[], float]
SEEN_EVERY = 5.0  # seconds between two notes of a student's last request


def exam_bank(exam: Exam, bank: Bank) -> Bank:
    """The part of ``bank`` the exam draws from: its questions, else its topics, else all."""
    if exam.questions:
        missing = [q for q in exam.questions if q not in bank.questions]
        if missing:
            raise FileLineError(
                exam.path, exam.lines.get("questions"), f"no question {missing[0]!r} in the banks"
            )
        chosen = {q: bank.questions[q] for q in exam.questions}
    else:
        for topic in exam.topics:
            if topic not in bank.topics():
                raise FileLineError(
                    exam.path,
                    exam.lines.get("topics"),
                    f"no topic {topic!r}; the topics are: {', '.join(bank.topics())}",
                )
        chosen = {
            qid: q for qid, q in bank.questions.items() if not exam.topics or q.topic in exam.topics
        }
    return Bank(chosen, bank.titles, [])


class Refused(Exception):
    """A request the rules do not allow; ``reason`` is what the student is told."""

    def __init__(self, reason: str, status: int = 409) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class DbRecorder:
    """The Session's recorder: each question shown or closed is written in the request's
    transaction."""

    def __init__(self, db: Database, conn: Connection, attempt_id: int, clock: Clock) -> None:
        self.db, self.conn, self.attempt_id, self.clock = db, conn, attempt_id, clock

    def shown(self, position: int, item: Item) -> None:
        assert item.shown_at is not None
        self.db.item_shown(self.conn, self.attempt_id, position, item.shown_at, item.deadline)

    def closed(self, position: int, item: Item) -> None:
        if not self.db.item_closed(
            self.conn,
            self.attempt_id,
            position,
            item.status,
            item.choice,
            item.correct,
            self.clock(),
        ):  # another request closed it first: this one changes nothing
            raise Refused("this question is already closed")

    def finished(self, session: Session) -> None:
        self.db.attempt_finished(self.conn, self.attempt_id, self.clock())


@dataclass
class Attempt:
    """A restored attempt: its row and its Session, whose recorder writes in ``conn``'s
    transaction."""

    row: AttemptRow
    session: Session
    conn: Connection


class Attempts:
    """Starting, restoring and playing attempts of one exam."""

    def __init__(self, exam: Exam, bank: Bank, db: Database, clock: Clock = time.time) -> None:
        self.exam, self.bank, self.db, self.clock = exam, exam_bank(exam, bank), db, clock
        self._rendered: dict[tuple[str, int], Rendered] = {}

    def render(self, qid: str, variant: int) -> Rendered:
        key = (qid, variant)
        if key not in self._rendered:
            self._rendered[key] = self.bank.questions[qid].render(variant)
        return self._rendered[key]

    def draw(self, seed: int) -> list[Item]:
        """The student's questions, choice orders and variants: reproducible from the seed."""
        return draw(self.bank, n=self.exam.n, seed=seed)

    def total_seconds(self, started: float) -> float:
        """The attempt's total limit: the exam's, cut to the window's close."""
        limits = [self.exam.closes - started]
        if self.exam.total_minutes is not None:
            limits.append(self.exam.total_minutes * 60)
        return max(0.0, min(limits))

    def start(self, conn: Connection, sid: str) -> None:
        """A new attempt for ``sid`` (nothing if there is one) inside the exam's window."""
        now = self.clock()
        if now < self.exam.opens:
            raise Refused("the exam is not open yet", 403)
        if now >= self.exam.closes:
            raise Refused("the exam has closed", 403)
        seed = int.from_bytes(os.urandom(4), "big")
        drawn = [(it.qid, it.topic, it.variant, it.order) for it in self.draw(seed)]
        self.db.create_attempt(conn, sid, seed, now, self.total_seconds(now), drawn)

    def load(self, conn: Connection, sid: str, lock: bool = False) -> Attempt | None:
        """The attempt of ``sid`` as a live Session on the wall clock, or None before it starts."""
        row = self.db.attempt_of(conn, sid, lock=lock)
        if row is None:
            return None
        items = []
        for r in self.db.items_of(conn, row.id):
            item = Item(r.qid, r.topic, r.variant, r.order, self.render(r.qid, r.variant))
            item.status, item.shown_at, item.deadline = r.status, r.shown, r.deadline  # type: ignore[assignment]
            item.choice = r.choice
            items.append(item)
        session = Session(
            items,
            mode=self.exam.mode,
            seconds_per_question=self.exam.seconds_per_question,
            total_seconds=row.total_seconds,
            clock=self.clock,
            recorder=DbRecorder(self.db, conn, row.id, self.clock),
            started_at=row.started,
            position=next((i for i, it in enumerate(items) if not it.closed), len(items)),
        )
        return Attempt(row, session, conn)

    def seen(self, attempt: Attempt) -> None:
        """Notes that the student's browser was heard from (every few seconds at most: the
        dashboard calls a connection dropped after 30 s of silence)."""
        now = self.clock()
        if attempt.row.last_seen is None or now - attempt.row.last_seen >= SEEN_EVERY:
            self.db.touch(attempt.conn, attempt.row.id, now)

    def current(self, conn: Connection, sid: str) -> Attempt | None:
        """The attempt after the rules have run on the clock: what ran out is closed, and the
        question to answer now is shown (its deadline fixed the first time)."""
        attempt = self.load(conn, sid, lock=True)
        if attempt is None:
            return None
        attempt.session.show()
        self.seen(attempt)
        return attempt

    def answer(self, attempt: Attempt, position: int, letter: int | None) -> Feedback:
        """Saves ``letter`` (None: leaves the question unanswered) for the question at
        ``position`` of an attempt loaded with its lock, which must be the open one. Refused:
        another question, a closed one, a save after the deadline, an unknown choice."""
        session = attempt.session
        self.seen(attempt)
        item = session.current
        if item is None:
            raise Refused("the exam is over: nothing more can be saved")
        if position != session.position:
            raise Refused("that question is closed: answers can only be saved for the open one")
        if item.status == "pending":
            raise Refused("that question has not been shown yet")
        try:
            if letter is None:
                session.tick()
                if session.position != position:
                    raise TooLate(item.qid)
                return session.skip()
            if not 0 <= letter < len(item.choices):
                raise Refused("no such choice", 400)
            return session.save(letter)
        except TooLate:
            raise Refused("the time for this question was up: the answer was not saved") from None
        except QuizOver:
            raise Refused("the exam is over: nothing more can be saved") from None
