"""``DIR/grading.sqlite``: what `dlgrade grade` has graded, keyed on everything that decides a score.

A result is kept only while its :class:`Key` still holds: the submission, the exercise's graders,
its mistakes file, its reference solution, course.yaml, the grading engine (dlgrade's version and
the code of its engine, runtime and sandbox), the class secret and the time budget. Change any of
them and the pairs it affects are graded again, and the run says how many and why. The ledger
also counts the attempts begun on each pair, so that a submission that keeps ending the grading
process is given up instead of tried forever.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from grader.course import Course

SCHEMA = 2  # a ledger of an older layout is started afresh (its results could be stale)


@dataclass(frozen=True)
class Key:
    """Everything that decides the score of one (student, exercise), as digests."""

    submission: str
    graders: str
    mistakes: str
    reference: str
    course: str
    engine: str
    secret: str
    budget: str

    def changes(self, old: Key) -> list[str]:
        """The names of the parts that differ from ``old``."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(old, f.name)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Key | None:
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return None


WHY = {
    "submission": "new or changed submissions",
    "graders": "changed graders",
    "mistakes": "a changed mistakes file",
    "reference": "a changed reference solution",
    "course": "a changed course.yaml",
    "engine": "a changed dlgrade",
    "secret": "a changed class secret",
    "budget": "a changed time budget",
}


def digest(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def file_digest(path: Path) -> str:
    try:
        return digest(path.read_bytes())
    except FileNotFoundError:
        return "none"


@cache
def engine_digest() -> str:
    """dlgrade's version and the code that decides a score: the engine, the worker's runtime, the
    sandbox, grader.testing and the oracles."""
    from importlib.metadata import PackageNotFoundError, version

    package = Path(__file__).resolve().parents[1]
    try:
        parts = [version("dlgrade")]
    except PackageNotFoundError:
        parts = ["unknown"]
    files = [
        *sorted((package / "engine").glob("*.py")),
        *sorted((package / "runtime").glob("*.py")),
        *sorted((package / "sandbox").glob("*.py")),
        package / "testing.py",
        package / "oracle.py",
    ]
    for path in files:
        parts.append(f"{path.relative_to(package)}:{file_digest(path)}")
    return digest("\n".join(parts))


def exercise_digests(course: Course, exercise: str) -> dict[str, str]:
    """The digests of the course files that decide an exercise's scores."""
    return {
        "graders": file_digest(course.solution_tests(exercise)),
        "mistakes": file_digest(course.solutions_dir / f"mistakes_{exercise}.py"),
        "reference": file_digest(course.solution(exercise)),
        "course": file_digest(course.root / "course.yaml"),
    }


class Ledger:
    """One row per graded (student, exercise), committed as it finishes, with its key."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None or row[0] != str(SCHEMA):
            for table in ("results", "attempts", "references"):
                self.db.execute(f'DROP TABLE IF EXISTS "{table}"')
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS results (student TEXT, exercise TEXT, key TEXT NOT NULL, "
            "result TEXT NOT NULL, PRIMARY KEY (student, exercise))"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS attempts (student TEXT, exercise TEXT, key TEXT, "
            "count INTEGER NOT NULL, PRIMARY KEY (student, exercise))"
        )
        self.db.execute(
            'CREATE TABLE IF NOT EXISTS "references" (exercise TEXT PRIMARY KEY, key TEXT)'
        )

    # -- results ----------------------------------------------------------------------------
    def keys(self) -> dict[tuple[str, str], Key | None]:
        return {
            (s, e): Key.from_json(k)
            for s, e, k in self.db.execute("SELECT student, exercise, key FROM results")
        }

    def record(self, student: str, exercise: str, key: Key, result: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
            (student, exercise, key.to_json(), json.dumps(result, sort_keys=True)),
        )
        self.db.execute(
            "DELETE FROM attempts WHERE student = ? AND exercise = ?", (student, exercise)
        )

    def results(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (s, e): json.loads(r)
            for s, e, r in self.db.execute("SELECT student, exercise, result FROM results")
        }

    # -- attempts ---------------------------------------------------------------------------
    def begin(self, student: str, exercise: str, key: Key) -> None:
        """A pair is handed to a grading process: counted before it runs."""
        self.db.execute(
            "INSERT INTO attempts VALUES (?, ?, ?, 1) ON CONFLICT (student, exercise) DO UPDATE "
            "SET count = CASE WHEN key = excluded.key THEN count + 1 ELSE 1 END, "
            "key = excluded.key",
            (student, exercise, key.to_json()),
        )

    def attempts(self, student: str, exercise: str, key: Key) -> int:
        row = self.db.execute(
            "SELECT count FROM attempts WHERE student = ? AND exercise = ? AND key = ?",
            (student, exercise, key.to_json()),
        ).fetchone()
        return int(row[0]) if row else 0

    # -- the reference's own check ------------------------------------------------------------
    def reference_ok(self, exercise: str, key: str) -> bool:
        row = self.db.execute(
            'SELECT key FROM "references" WHERE exercise = ?', (exercise,)
        ).fetchone()
        return row is not None and row[0] == key

    def reference_passed(self, exercise: str, key: str) -> None:
        self.db.execute('INSERT OR REPLACE INTO "references" VALUES (?, ?)', (exercise, key))

    def close(self) -> None:
        self.db.close()
