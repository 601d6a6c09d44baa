"""Quiz attempts in SQLite: every question shown and every answer saved is committed at once.

``$DLGRADE_HOME/quiz.sqlite`` (see grader/paths.py). A quiz killed at any point
(Ctrl-C, a closed terminal, ``kill -9``) loses no saved answer; ``resume``
continues the last unfinished attempt, with the question that was open when it
died counted as timed out. The Leitner boxes (1 to 5) of each question drive
``practice --weak``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.quiz.session import Item, Session

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,          -- wall clock (time.time)
    finished REAL,
    mode TEXT NOT NULL,
    seed INTEGER NOT NULL,
    settings TEXT NOT NULL          -- JSON: seconds_per_question, total_seconds, topics...
);
CREATE TABLE IF NOT EXISTS items (
    attempt INTEGER NOT NULL REFERENCES attempts(id),
    position INTEGER NOT NULL,
    qid TEXT NOT NULL,
    topic TEXT NOT NULL,
    variant INTEGER NOT NULL,
    choice_order TEXT NOT NULL,     -- JSON list
    status TEXT NOT NULL DEFAULT 'pending',
    shown REAL,
    choice INTEGER,
    correct INTEGER,
    closed REAL,
    PRIMARY KEY (attempt, position)
);
CREATE TABLE IF NOT EXISTS boxes (
    qid TEXT PRIMARY KEY,
    box INTEGER NOT NULL,
    seen REAL NOT NULL
);
"""
MAX_BOX = 5


@dataclass
class StoredItem:
    position: int
    qid: str
    topic: str
    variant: int
    order: tuple[int, ...]
    status: str
    choice: int | None


@dataclass
class StoredAttempt:
    id: int
    started: float
    mode: str
    seed: int
    settings: dict[str, Any]
    items: list[StoredItem]


class Store:
    """The attempts database; also the session's recorder for one attempt."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None)  # autocommit: each write lands
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.attempt: int | None = None

    def close(self) -> None:
        self.db.close()

    # -- recording an attempt ----------------------------------------------------------------
    def begin(self, items: list[Item], *, mode: str, seed: int, settings: dict[str, Any]) -> int:
        with self.db:
            cur = self.db.execute(
                "INSERT INTO attempts (started, mode, seed, settings) VALUES (?, ?, ?, ?)",
                (time.time(), mode, seed, json.dumps(settings)),
            )
            self.attempt = int(cur.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO items (attempt, position, qid, topic, variant, choice_order) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (self.attempt, i, it.qid, it.topic, it.variant, json.dumps(list(it.order)))
                    for i, it in enumerate(items)
                ],
            )
        return self.attempt

    def shown(self, position: int, item: Item) -> None:
        self.db.execute(
            "UPDATE items SET status = 'open', shown = ? WHERE attempt = ? AND position = ?",
            (time.time(), self.attempt, position),
        )

    def closed(self, position: int, item: Item) -> None:
        now = time.time()
        with self.db:
            self.db.execute(
                "UPDATE items SET status = ?, choice = ?, correct = ?, closed = ? WHERE attempt = ? AND position = ?",
                (item.status, item.choice, int(item.correct), now, self.attempt, position),
            )
            row = self.db.execute("SELECT box FROM boxes WHERE qid = ?", (item.qid,)).fetchone()
            box = 1 if not item.correct else min(MAX_BOX, (row[0] if row else 1) + 1)
            self.db.execute(
                "INSERT INTO boxes (qid, box, seen) VALUES (?, ?, ?) "
                "ON CONFLICT(qid) DO UPDATE SET box = excluded.box, seen = excluded.seen",
                (item.qid, box, now),
            )

    def finished(self, session: Session) -> None:
        self.db.execute(
            "UPDATE attempts SET finished = ? WHERE id = ?", (time.time(), self.attempt)
        )

    # -- reading -----------------------------------------------------------------------------------
    def unfinished(self) -> StoredAttempt | None:
        row = self.db.execute(
            "SELECT id, started, mode, seed, settings FROM attempts WHERE finished IS NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else self.load(row[0])

    def load(self, attempt: int) -> StoredAttempt:
        id_, started, mode, seed, settings = self.db.execute(
            "SELECT id, started, mode, seed, settings FROM attempts WHERE id = ?", (attempt,)
        ).fetchone()
        items = [
            StoredItem(pos, qid, topic, variant, tuple(json.loads(order)), status, choice)
            for pos, qid, topic, variant, order, status, choice in self.db.execute(
                "SELECT position, qid, topic, variant, choice_order, status, choice FROM items "
                "WHERE attempt = ? ORDER BY position",
                (attempt,),
            )
        ]
        return StoredAttempt(id_, started, mode, seed, json.loads(settings), items)

    def abandon(self, attempt: int) -> None:
        """Marks an unfinished attempt as over (its open and pending questions as timed out)."""
        now = time.time()
        with self.db:
            self.db.execute(
                "UPDATE items SET status = 'timed_out', correct = 0, closed = ? "
                "WHERE attempt = ? AND status IN ('open', 'pending')",
                (now, attempt),
            )
            self.db.execute("UPDATE attempts SET finished = ? WHERE id = ?", (now, attempt))

    def attempts(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT a.id, a.started, a.finished, a.mode, COUNT(i.position), COALESCE(SUM(i.correct), 0) "
            "FROM attempts a JOIN items i ON i.attempt = a.id GROUP BY a.id ORDER BY a.id"
        ).fetchall()
        return [
            {
                "id": r[0],
                "started": r[1],
                "finished": r[2],
                "mode": r[3],
                "total": r[4],
                "score": r[5],
            }
            for r in rows
        ]

    def topic_stats(self) -> dict[str, dict[str, int]]:
        """Per topic: questions closed and answered correctly, over all attempts."""
        rows = self.db.execute(
            "SELECT topic, COUNT(*), COALESCE(SUM(correct), 0) FROM items "
            "WHERE status IN ('answered', 'skipped', 'timed_out') GROUP BY topic"
        ).fetchall()
        return {t: {"seen": n, "correct": c} for t, n, c in rows}

    def topic_by_attempt(self) -> list[tuple[int, str, int, int]]:
        return self.db.execute(
            "SELECT attempt, topic, COUNT(*), COALESCE(SUM(correct), 0) FROM items "
            "WHERE status IN ('answered', 'skipped', 'timed_out') GROUP BY attempt, topic ORDER BY attempt"
        ).fetchall()

    def boxes(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT qid, box FROM boxes").fetchall())


def weak_weights(store: Store, qids_topics: dict[str, str]) -> dict[str, float]:
    """``practice --weak``: weight = (error rate of the topic + 0.1) x 2^(5 - box).

    A question in box 1 (new, or missed last time) weighs 16 times one in box 5."""
    stats = store.topic_stats()
    boxes = store.boxes()
    weights = {}
    for qid, topic in qids_topics.items():
        s = stats.get(topic)
        error = 1 - s["correct"] / s["seen"] if s and s["seen"] else 0.5
        weights[qid] = (error + 0.1) * 2 ** (MAX_BOX - boxes.get(qid, 1))
    return weights
