"""A quiz as a state machine under exam rules, with an injectable clock and no UI.

Rules it enforces: the questions come one at a time in their drawn order; a
question gets its deadline when it is first shown; an answer saved before the
deadline is recorded and closes the question; at the deadline the question
closes as timed out; a closed question never opens again (no way back); an
optional total limit closes everything still open when it runs out; every
question counts the same and a wrong answer costs nothing: score = correct /
questions. In practice mode each closed question is followed by its feedback
(the right answer and the explanation); in exam mode nothing is revealed
before the end.

A recorder (the SQLite store) hears of every question shown and closed, the
moment it happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from grader.quiz.bank import Rendered

Mode = Literal["practice", "exam"]
ItemStatus = Literal["pending", "open", "answered", "skipped", "timed_out"]
LETTERS = "abcdef"


@dataclass
class Item:
    """One question of an attempt: which one, which variant, in which choice order."""

    qid: str
    topic: str
    variant: int
    order: tuple[int, ...]  # order[k] = the bank index of the choice shown as letter k
    rendered: Rendered
    status: ItemStatus = "pending"
    shown_at: float | None = None
    deadline: float | None = None
    choice: int | None = None  # the letter index saved, if any

    @property
    def choices(self) -> list[str]:
        return [self.rendered.choices[i] for i in self.order]

    @property
    def answer(self) -> int:
        """The letter index of the right choice."""
        return self.order.index(self.rendered.answer)

    @property
    def correct(self) -> bool:
        return self.status == "answered" and self.choice == self.answer

    @property
    def closed(self) -> bool:
        return self.status in ("answered", "skipped", "timed_out")


@dataclass(frozen=True)
class Feedback:
    """What practice mode shows after a question closes."""

    item: Item
    correct: bool
    timed_out: bool


class Recorder(Protocol):
    def shown(self, position: int, item: Item) -> None: ...

    def closed(self, position: int, item: Item) -> None: ...

    def finished(self, session: Session) -> None: ...


class TooLate(Exception):
    """The question's time was up before the answer was saved."""


class QuizOver(Exception):
    pass


@dataclass
class Session:
    items: list[Item]
    mode: Mode = "practice"
    seconds_per_question: float | None = 60.0
    total_seconds: float | None = None
    clock: Callable[[], float] = time.monotonic
    recorder: Recorder | None = None
    started_at: float | None = None  # on the clock; set at the first question shown
    position: int = 0
    feedback_log: list[Feedback] = field(default_factory=list)

    # -- reading the state ----------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.position >= len(self.items)

    @property
    def current(self) -> Item | None:
        return None if self.finished else self.items[self.position]

    @property
    def total_deadline(self) -> float | None:
        if self.total_seconds is None or self.started_at is None:
            return None
        return self.started_at + self.total_seconds

    def remaining(self) -> float | None:
        """Seconds left for the open question (None: no limit)."""
        item = self.current
        if item is None or item.deadline is None:
            return None
        return max(0.0, item.deadline - self.clock())

    def total_remaining(self) -> float | None:
        deadline = self.total_deadline
        return None if deadline is None else max(0.0, deadline - self.clock())

    @property
    def score(self) -> int:
        return sum(item.correct for item in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    # -- moving on --------------------------------------------------------------------------------
    def show(self) -> Item | None:
        """The question to show now, opened (its deadline set) on first showing; None at the end."""
        self.tick()
        item = self.current
        if item is None:
            return None
        if item.status == "pending":
            now = self.clock()
            if self.started_at is None:
                self.started_at = now
            deadlines = [
                d
                for d in (
                    now + self.seconds_per_question if self.seconds_per_question else None,
                    self.total_deadline,
                )
                if d is not None
            ]
            item.status, item.shown_at = "open", now
            item.deadline = min(deadlines) if deadlines else None
            if self.recorder:
                self.recorder.shown(self.position, item)
        return item

    def save(self, letter: int) -> Feedback:
        """Saves the answer ``letter`` (0 = a) of the open question; TooLate after its deadline."""
        item = self._open_item()
        if not 0 <= letter < len(item.choices):
            raise ValueError(f"choice {letter} out of range")
        if item.deadline is not None and self.clock() >= item.deadline:
            self.tick()
            raise TooLate(item.qid)
        item.choice = letter
        return self._close(item, "answered")

    def skip(self) -> Feedback:
        """Moves on without an answer (it counts as not correct, nothing more)."""
        return self._close(self._open_item(), "skipped")

    def tick(self) -> list[Feedback]:
        """Closes what has run out of time: the open question, or everything at the total limit."""
        closed: list[Feedback] = []
        now = self.clock()
        total = self.total_deadline
        while not self.finished:
            item = self.items[self.position]
            if total is not None and now >= total:
                closed.append(self._close(item, "timed_out"))
            elif item.status == "open" and item.deadline is not None and now >= item.deadline:
                closed.append(self._close(item, "timed_out"))
            else:
                break
        return closed

    def _open_item(self) -> Item:
        item = self.current
        if item is None:
            raise QuizOver
        if item.status == "pending":
            raise RuntimeError("the question has not been shown")
        return item

    def _close(self, item: Item, status: ItemStatus) -> Feedback:
        item.status = status
        if self.recorder:
            self.recorder.closed(self.position, item)
        self.position += 1
        feedback = Feedback(item, item.correct, status == "timed_out")
        self.feedback_log.append(feedback)
        if self.finished and self.recorder:
            self.recorder.finished(self)
        return feedback

    def to_json(self) -> dict:
        """The object `dlgrade quiz --json` prints (grader/schemas/quiz.schema.json)."""
        return {
            "score": self.score,
            "total": self.total,
            "questions": [
                {
                    "id": item.qid,
                    "topic": item.topic,
                    "answered": LETTERS[item.choice]
                    if item.status == "answered" and item.choice is not None
                    else None,
                    "correct": item.correct,
                    "timed_out": item.status == "timed_out",
                }
                for item in self.items
            ],
        }
