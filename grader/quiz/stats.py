"""Item analysis for instructors (`dlgrade quiz stats`): how each question behaves in a class.

For every question, over the attempts that contained it: the difficulty index
(the share answering correctly), the discrimination (the point-biserial
correlation between answering it correctly and the rest-score, i.e. the
attempt's other correct answers, as a share of its other questions), how often
each choice was picked, and flags: everyone right, nobody right, or a negative
discrimination (the stronger students miss it more than the weaker ones:
usually a flawed key or an ambiguous question).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIN_ATTEMPTS_FOR_FLAGS = 5


@dataclass
class ItemStats:
    qid: str
    topic: str
    attempts: int = 0
    correct: int = 0
    choices: dict[int, int] = field(default_factory=dict)  # bank index -> times picked
    unanswered: int = 0
    discrimination: float | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def difficulty(self) -> float:
        return self.correct / self.attempts if self.attempts else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.qid,
            "topic": self.topic,
            "attempts": self.attempts,
            "difficulty": round(self.difficulty, 4),
            "discrimination": None
            if self.discrimination is None
            else round(self.discrimination, 4),
            "choices": {str(k): v for k, v in sorted(self.choices.items())},
            "unanswered": self.unanswered,
            "flags": self.flags,
        }


Row = tuple[str, str, str, list[int], str, int | None, int]
"""One closed question of an attempt: (attempt key, qid, topic, choice order, status, choice,
correct), the columns of the quiz store's ``items`` table (the exam server's too)."""


def _rows(databases: list[Path]) -> list[Row]:
    rows: list[Row] = []
    for n, db in enumerate(databases):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            for attempt, qid, topic, order, status, choice, correct in con.execute(
                "SELECT attempt, qid, topic, choice_order, status, choice, correct FROM items "
                "WHERE status IN ('answered', 'skipped', 'timed_out')"
            ):
                rows.append(
                    (
                        f"{n}:{attempt}",
                        qid,
                        topic,
                        json.loads(order),
                        status,
                        choice,
                        int(correct or 0),
                    )
                )
        finally:
            con.close()
    return rows


def _point_biserial(xs: list[int], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy)


def item_analysis(databases: list[Path]) -> list[ItemStats]:
    """Item analysis over the attempts in these quiz databases."""
    return analyse(_rows(databases))


def analyse(rows: Iterable[Row]) -> list[ItemStats]:
    """Item analysis of closed questions, whatever store they come from."""
    by_attempt: dict[str, list[tuple[str, int]]] = {}
    stats: dict[str, ItemStats] = {}
    for attempt, qid, topic, order, status, choice, correct in rows:
        s = stats.setdefault(qid, ItemStats(qid, topic))
        s.attempts += 1
        s.correct += correct
        if status == "answered" and choice is not None and 0 <= choice < len(order):
            bank_index = order[choice]
            s.choices[bank_index] = s.choices.get(bank_index, 0) + 1
        else:
            s.unanswered += 1
        by_attempt.setdefault(attempt, []).append((qid, correct))
    for qid, s in stats.items():
        xs, ys = [], []
        for answers in by_attempt.values():
            mine = [c for q, c in answers if q == qid]
            others = [c for q, c in answers if q != qid]
            if mine and others:
                xs.append(mine[0])
                ys.append(sum(others) / len(others))
        s.discrimination = _point_biserial(xs, ys)
        if s.attempts >= MIN_ATTEMPTS_FOR_FLAGS:
            if s.correct == s.attempts:
                s.flags.append("everyone right")
            if s.correct == 0:
                s.flags.append("nobody right")
        if s.discrimination is not None and s.discrimination < 0:
            s.flags.append("stronger students miss it more")
    return sorted(stats.values(), key=lambda s: (s.topic, s.qid))
