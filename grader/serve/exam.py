"""The exam file (EXAM.yaml) and its roster CSV, read and checked with file:line for every mistake.

The format is documented in docs/exam-server.md. This module imports nothing of the web
stack, so the CLI can report a bad file at once.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from grader.errors import FileLineError

Mode = Literal["exam", "practice"]
KEYS = {
    "title",
    "id",
    "mode",
    "topics",
    "questions",
    "n",
    "seconds_per_question",
    "total_minutes",
    "opens",
    "closes",
    "results",
    "roster",
    "banks",
    "instructor",
    "database",
    "proposals_into",
}
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


@dataclass(frozen=True)
class Student:
    """One roster line."""

    id: str
    name: str
    email: str
    section: str = ""
    lms_id: str = ""


@dataclass
class Exam:
    """An exam as the file describes it; times are Unix seconds (the server's wall clock)."""

    path: Path
    title: str
    id: str
    mode: Mode
    n: int
    seconds_per_question: float
    opens: float
    closes: float
    results: float  # math.inf: never (until the instructor releases them in the dashboard)
    roster_path: Path
    banks: Path | None  # None: the course's quizzes/
    instructor: str = "instructor"
    topics: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    total_minutes: float | None = None
    database: str | None = None
    proposals_into: Path | None = None
    roster: list[Student] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # key -> line in the file, for errors

    def database_url(self, override: str | None = None) -> str:
        """``--database``, else the file's ``database``, else ``<exam>.sqlite`` beside the file."""
        url = override or self.database
        if not url:
            return f"sqlite:///{self.path.with_suffix('.sqlite')}"
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url[len("sqlite:///") :]
            if relative and not Path(relative).is_absolute():
                return f"sqlite:///{(self.path.parent / relative).resolve()}"
        return url


class _Loader(yaml.SafeLoader):
    """A safe loader that remembers the line of each key of every mapping (``__lines__``)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__lines__"] = {
            k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")
        }
        return mapping


def _time(value: Any, path: Path, line: int, key: str) -> float:
    """A time from the file: ISO 8601 (``2025-06-20 09:00``, with or without a UTC offset);
    a time without an offset is the server's local time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise FileLineError(
                path, line, f"{key}: {value!r} is not a time (write e.g. 2025-06-20 09:00)"
            ) from None
    else:  # a date without a time, a number
        raise FileLineError(
            path, line, f"{key}: {value!r} is not a time (write e.g. 2025-06-20 09:00)"
        )
    return moment.timestamp()


def load_exam(path: Path) -> Exam:
    """The exam file at ``path`` with its roster; a FileLineError (file:line: what) if anything
    in either is wrong."""
    if not path.is_file():
        raise FileLineError(path, None, "no such exam file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FileLineError(
            path,
            mark.line + 1 if mark is not None else None,
            f"YAML syntax: {getattr(exc, 'problem', exc)}",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileLineError(path, None, f"cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise FileLineError(path, 1, "an exam file is a mapping (title:, n:, roster:, ...)")
    lines: dict[str, int] = data.pop("__lines__", {})

    def line(key: str) -> int:
        return lines.get(key, 1)

    def fail(key: str, message: str) -> FileLineError:
        return FileLineError(path, line(key), message)

    for key in sorted(set(data) - KEYS):
        raise fail(key, f"unknown key {key!r} (known: {', '.join(sorted(KEYS))})")
    for key in ("title", "n", "seconds_per_question", "opens", "closes", "roster"):
        if key not in data:
            raise FileLineError(path, None, f"missing key {key!r}")

    def text(key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"{key} must be non-empty text")
        return value.strip()

    def number(key: str, low: float) -> float:
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise fail(key, f"{key} must be a number of at least {low:g}, not {value!r}")
        return float(value)

    def names(key: str) -> list[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(key, f"{key} must be a list of names")
        return list(value)

    mode = data.get("mode", "exam")
    if mode not in ("exam", "practice"):
        raise fail("mode", f"mode must be exam or practice, not {mode!r}")
    n = data["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise fail("n", f"n must be a whole number of at least 1, not {n!r}")
    opens = _time(data["opens"], path, line("opens"), "opens")
    closes = _time(data["closes"], path, line("closes"), "closes")
    if closes <= opens:
        raise fail("closes", "closes must be later than opens")
    results_value = data.get("results", "immediately" if mode == "practice" else "never")
    if results_value == "immediately":
        results = -math.inf
    elif results_value == "never":
        results = math.inf
    else:
        results = _time(results_value, path, line("results"), "results")
    folder = path.parent

    def folder_key(key: str) -> Path | None:
        return (folder / text(key)).resolve() if key in data else None

    exam = Exam(
        path=path,
        title=text("title"),
        id=text("id", path.stem),
        mode=mode,
        n=n,
        seconds_per_question=number("seconds_per_question", 1),
        opens=opens,
        closes=closes,
        results=results,
        roster_path=(folder / text("roster")).resolve(),
        banks=folder_key("banks"),
        instructor=text("instructor", "instructor"),
        topics=names("topics"),
        questions=names("questions"),
        total_minutes=number("total_minutes", 0.1) if "total_minutes" in data else None,
        database=text("database") if "database" in data else None,
        proposals_into=folder_key("proposals_into"),
        lines=lines,
    )
    if not SAFE_ID.match(exam.instructor):
        raise fail("instructor", f"instructor {exam.instructor!r} is not a plain user name")
    if exam.banks is not None and not exam.banks.is_dir():
        raise fail("banks", f"no such folder: {exam.banks}")
    exam.roster = load_roster(exam.roster_path)
    return exam


def load_roster(path: Path) -> list[Student]:
    """Students from a CSV with a header: id, name, email (and optionally section, lms_id)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileLineError(path, None, "no such roster file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileLineError(path, None, f"cannot read: {exc}") from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    for column in ("id", "name", "email"):
        if column not in header:
            raise FileLineError(
                path, 1, f"the header must name the columns id, name, email (it has {header})"
            )
    students: list[Student] = []
    seen: dict[str, int] = {}
    for row in reader:
        lineno = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise FileLineError(path, lineno, f"{len(row)} cells; the header has {len(header)}")
        cells = {h: c.strip() for h, c in zip(header, row, strict=True)}
        sid = cells["id"]
        if not SAFE_ID.match(sid):
            raise FileLineError(
                path, lineno, f"student id {sid!r}: letters, digits and . _ @ + - only"
            )
        if sid in seen:
            raise FileLineError(
                path, lineno, f"student id {sid!r} twice (first on line {seen[sid]})"
            )
        if not cells["name"]:
            raise FileLineError(path, lineno, f"student {sid} has no name")
        if not re.match(r"^[^@\s]+@[^@\s]+$", cells["email"]):
            raise FileLineError(path, lineno, f"student {sid}: {cells['email']!r} is not an email")
        seen[sid] = lineno
        students.append(
            Student(
                sid,
                cells["name"],
                cells["email"],
                cells.get("section", ""),
                cells.get("lms_id", ""),
            )
        )
    if not students:
        raise FileLineError(path, None, "the roster lists no student")
    return students
