"""An exam's results, for the dashboard and `dlgrade serve export`: scores, their distribution,
item analysis (the quiz's own, grader/quiz/stats.py) and gradebook rows.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from sqlalchemy import Connection

from grader.gradebook import GradeRow
from grader.quiz.stats import ItemStats, analyse
from grader.serve.db import Database
from grader.serve.exam import Exam

RELEASED_KEY = "results_released"
ACCEPTED_COLUMN = "accepted questions"


def release_time(exam: Exam, db: Database, conn: Connection) -> float:
    """When students see their results: the exam file's time, or earlier if the instructor
    released them in the dashboard."""
    early = db.get_meta(conn, RELEASED_KEY)
    return min(exam.results, float(early)) if early is not None else exam.results


def released(exam: Exam, db: Database, conn: Connection, now: float) -> bool:
    return now >= release_time(exam, db, conn)


@dataclass
class Overview:
    """The class at a glance: one dict per roster student (see Database.overview)."""

    rows: list[dict]
    n: int

    def scores(self) -> list[int]:
        return [int(r["score"] or 0) for r in self.rows if r["attempt"] is not None]


def overview(exam: Exam, db: Database, conn: Connection) -> Overview:
    return Overview(db.overview(conn), exam.n)


def distribution(scores: list[int], n: int) -> list[tuple[int, int]]:
    """(score, how many students got it) for every score from 0 to n."""
    return [(s, scores.count(s)) for s in range(n + 1)]


def summary(scores: list[int], n: int) -> dict[str, float]:
    if not scores:
        return {"students": 0, "mean": math.nan, "median": math.nan, "max": n}
    ordered = sorted(scores)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return {"students": len(scores), "mean": sum(scores) / len(scores), "median": median, "max": n}


def item_stats(db: Database, conn: Connection) -> list[ItemStats]:
    return analyse(db.closed_items(conn))


def items_csv(stats: list[ItemStats]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "id",
            "topic",
            "attempts",
            "difficulty",
            "discrimination",
            "choices",
            "unanswered",
            "flags",
        ]
    )
    for s in stats:
        writer.writerow(
            [
                s.qid,
                s.topic,
                s.attempts,
                f"{s.difficulty:.3f}",
                "" if s.discrimination is None else f"{s.discrimination:.3f}",
                " ".join(f"{'abcdef'[k]}:{v}" for k, v in sorted(s.choices.items())),
                s.unanswered,
                "; ".join(s.flags),
            ]
        )
    return buffer.getvalue()


def gradebook_rows(exam: Exam, db: Database, conn: Connection) -> list[GradeRow]:
    """One row per roster student: the score (None for one who never started) and their count
    of accepted questions."""
    accepted = db.accepted_counts(conn)
    return [
        GradeRow(
            student_id=r["id"],
            name=r["name"],
            email=r["email"],
            section=r["section"] or "",
            lms_id=r["lms_id"] or "",
            score=None if r["attempt"] is None else float(r["score"] or 0),
            extra={ACCEPTED_COLUMN: accepted.get(r["id"], 0)},
        )
        for r in db.overview(conn)
    ]
