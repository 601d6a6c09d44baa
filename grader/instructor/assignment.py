"""Assignments (`assignments/<name>.yaml`) and the student bundle `dlgrade release` writes.

    title: "Week 3: networks by hand"
    due: 2026-12-10 23:59            # shown to students; ISO date and time
    exercises:
      - {name: backprop, weight: 0.6}  # weights: each exercise's share of the grade
      - {name: conv, weight: 0.4}
    quiz:                             # the practice quiz that comes with it (optional)
      topics: [convolution]
      n: 10
      seconds_per_question: 60
    late:                             # how `dlgrade grade --assignment` counts lateness (optional)
      penalty_per_day: 10             # percent of the grade lost per day, or part of one, late
      zero_after_days: 5              # later than this: 0 (optional)
      grace_minutes: 15               # not late within this (optional)
    extensions:                       # per student: more days, or a new due date (optional);
      alice: 2                        # or the name of a YAML file of such lines, beside this one
      bob: 2026-12-14 23:59

The bundle holds what a student needs and nothing of the instructor's: the
stubs and public tests of the assignment's exercises, the banks of its quiz
topics, the `grader` package to run them, and a README with the commands.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grader.course import Course
from grader.errors import UserError
from grader.generate.pipeline import require_generated
from grader.generate.proof import leaked_in_file


@dataclass(frozen=True)
class LatePolicy:
    """What lateness costs: a share of the grade per day (or part of a day) late, nothing at all
    past ``zero_after_days``, nothing within ``grace_minutes``."""

    penalty_per_day: float = 0.0  # percent
    zero_after_days: int | None = None
    grace_minutes: float = 0.0

    def late_days(self, submitted: dt.datetime, due: dt.datetime) -> int:
        late = (submitted - due).total_seconds() - 60 * self.grace_minutes
        return 0 if late <= 0 else -int(-late // 86400)  # any part of a day counts as a day

    def penalty(self, days: int) -> float:
        """The percent of the grade lost for ``days`` late."""
        if days <= 0:
            return 0.0
        if self.zero_after_days is not None and days > self.zero_after_days:
            return 100.0
        return min(100.0, days * self.penalty_per_day)


@dataclass(frozen=True)
class Assignment:
    path: Path
    name: str
    title: str
    due: dt.datetime | None
    weights: dict[str, float]  # exercise -> weight, in the order given
    quiz: dict[str, Any] = field(default_factory=dict)
    late: LatePolicy = field(default_factory=LatePolicy)
    extensions: dict[str, dt.datetime] = field(default_factory=dict)  # student -> their due date

    @property
    def exercises(self) -> list[str]:
        return list(self.weights)

    def due_for(self, student: str) -> dt.datetime | None:
        return self.extensions.get(student, self.due)


def load_assignment(path: Path, course: Course, check_quiz: bool = True) -> Assignment:
    """Reads and checks an assignment file; every problem is one line naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}{where}: YAML syntax: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: an assignment is a mapping with title and exercises")
    entries = data.get("exercises")
    if not isinstance(entries, list) or not entries:
        raise UserError(f"{path}: `exercises` must list at least one exercise")
    weights: dict[str, float] = {}
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else entry
        weight = entry.get("weight", 1.0) if isinstance(entry, dict) else 1.0
        if not isinstance(name, str) or name not in course.exercises:
            raise UserError(
                f"{path}: unknown exercise {name!r}; the course has {', '.join(course.exercises)}"
            )
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
            raise UserError(
                f"{path}: the weight of {name} must be a positive number, not {weight!r}"
            )
        if name in weights:
            raise UserError(f"{path}: {name} is listed twice")
        weights[name] = float(weight)
    due = data.get("due")
    if due is not None and not isinstance(due, dt.datetime):
        try:
            due = dt.datetime.fromisoformat(str(due))
        except ValueError:
            raise UserError(
                f"{path}: due {due!r} is not a date and time like 2026-12-10 23:59"
            ) from None
    quiz = data.get("quiz") or {}
    if not isinstance(quiz, dict):
        raise UserError(f"{path}: `quiz` must be a mapping (topics, n, seconds_per_question)")
    if quiz.get("topics") and check_quiz:
        from grader.quiz.bank import load

        known = set(load([course.quizzes_dir]).topics()) if course.quizzes_dir.is_dir() else set()
        for topic in quiz["topics"]:
            if topic not in known:
                raise UserError(f"{path}: quiz topic {topic!r} has no bank in {course.quizzes_dir}")
    late = _late_policy(path, data.get("late"))
    extensions = _extensions(path, data.get("extensions"), due)
    return Assignment(
        path, path.stem, str(data.get("title", path.stem)), due, weights, quiz, late, extensions
    )


def _late_policy(path: Path, raw: Any) -> LatePolicy:
    if raw is None:
        return LatePolicy()
    if not isinstance(raw, dict) or set(raw) - {
        "penalty_per_day",
        "zero_after_days",
        "grace_minutes",
    }:
        raise UserError(
            f"{path}: `late` is a mapping of penalty_per_day (percent), zero_after_days and "
            "grace_minutes"
        )
    values = {}
    for key, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise UserError(f"{path}: late.{key} must be a number of at least 0, not {value!r}")
        values[key] = value
    if values.get("penalty_per_day", 0) > 100:
        raise UserError(f"{path}: late.penalty_per_day is a percent, at most 100")
    zero = values.get("zero_after_days")
    return LatePolicy(
        float(values.get("penalty_per_day", 0)),
        int(zero) if zero is not None else None,
        float(values.get("grace_minutes", 0)),
    )


def _extensions(path: Path, raw: Any, due: dt.datetime | None) -> dict[str, dt.datetime]:
    """Per-student due dates, from a mapping (student: days, or student: a date) given here or in
    a YAML file named here (relative to the assignment file)."""
    source = path
    if isinstance(raw, str):
        source = path.parent / raw
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise UserError(f"{path}: the extensions file {source} does not exist") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            raise UserError(
                f"{source}{where}: YAML syntax: {getattr(exc, 'problem', exc)}"
            ) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{source}: extensions are lines of `student: days` or `student: date`")
    found = {}
    for student, value in raw.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            if due is None:
                raise UserError(f"{source}: an extension in days for {student} needs a due date")
            found[str(student)] = due + dt.timedelta(days=float(value))
            continue
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(23, 59))
        if not isinstance(value, dt.datetime):
            try:
                value = dt.datetime.fromisoformat(str(value))
            except ValueError:
                raise UserError(
                    f"{source}: the extension of {student} ({value!r}) is neither days nor a date "
                    "like 2026-12-14 23:59"
                ) from None
        found[str(student)] = value
    return found


def _copy_package(target: Path) -> None:
    source = Path(__file__).resolve().parents[1]
    shutil.copytree(
        source, target / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    shutil.copy(source.parent / "pyproject.toml", target / "pyproject.toml")


def _student_readme(a: Assignment, course: Course) -> str:
    due = a.due.strftime("%A %d %B %Y, %H:%M") if a.due else "see the course page"
    total = sum(a.weights.values())
    rows = "\n".join(f"| `{e}` | {w / total:.0%} |" for e, w in a.weights.items())
    quiz = ""
    if a.quiz.get("topics"):
        topics = " ".join(f"--topic {t}" for t in a.quiz["topics"])
        n = a.quiz.get("n", 10)
        seconds = a.quiz.get("seconds_per_question", 60)
        quiz = f"""
## The practice quiz

```bash
dlgrade quiz practice {topics} --n {n} --seconds-per-question {seconds}
```
"""
    first = a.exercises[0]
    return f"""# {a.title}

Due: {due}.

| exercise | share of the grade |
| --- | --- |
{rows}

## Set up (once)

```bash
python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && pip install -e .
```

(Without a GPU you want the small CPU build of torch. On Linux, from PyPI, `torch==2.13.0`
is the multi-GB CUDA build; ask PyTorch's CPU index instead:
`pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu`. macOS and Windows
wheels are CPU builds already. Then `pip install -e .`.)

## Work

Write your code in `exercises/<name>.py`: each function has a docstring with the maths,
the shapes and an example, and `raise NotImplementedError` where your code goes. Use
NumPy and the standard library only. Then:

```bash
dlgrade list                 # the exercises and where you stand
dlgrade check {first}          # grade one: tests, points, and what went wrong
```

`dlgrade check` runs the public tests. Your grade also counts hidden tests (edge
cases: a batch of one, inputs left unmodified, large values...), so passing every
public test is necessary, not sufficient. Hand in the files of `exercises/` as your
course says.
{quiz}"""


def release(a: Assignment, course: Course, out: Path) -> list[Path]:
    """Writes the student bundle of ``a`` to ``out`` (which must be new or empty).

    Refused, with file and line, when generate's checks fail (markers, stubs, public tests),
    when exercises/ is not what generate writes, or when any file of the bundle holds a
    statement of a solution region; a refused bundle is removed."""
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} is not empty; release into a new folder")
    if not course.has_solutions:
        raise UserError(
            "a release is checked against the instructor's solutions/ folder, which this course "
            "does not have"
        )
    secrets = require_generated(course, a.exercises)
    try:
        files = _write_bundle(a, course, out)
        leaks = [leak for path in files for leak in leaked_in_file(path, secrets)]
        if leaks:
            raise leaks[0].error()
    except BaseException:
        _empty(out)
        raise
    return files


def _empty(folder: Path) -> None:
    """Removes what a refused release wrote (the folder was new or empty)."""
    if folder.is_dir():
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def _write_bundle(a: Assignment, course: Course, out: Path) -> list[Path]:
    (out / "exercises").mkdir(parents=True, exist_ok=True)
    conftest = course.exercises_dir / "conftest.py"  # plain `pytest exercises/` in the bundle
    if conftest.is_file():
        shutil.copy(conftest, out / "exercises" / "conftest.py")
    for exercise in a.exercises:
        shutil.copy(course.stub(exercise), out / "exercises" / course.stub(exercise).name)
        shutil.copy(
            course.public_tests(exercise), out / "exercises" / course.public_tests(exercise).name
        )
    course_yaml = {"title": a.title, "exercises": a.exercises}
    (out / "course.yaml").write_text(yaml.safe_dump(course_yaml, sort_keys=False), encoding="utf-8")
    topics = set(a.quiz.get("topics") or [])
    if topics:
        from grader.quiz.bank import load_file

        (out / "quizzes").mkdir()
        for bank in sorted(course.quizzes_dir.glob("*.yaml")):
            topic, _, _ = load_file(bank, [])
            if topic in topics:
                shutil.copy(bank, out / "quizzes" / bank.name)
    _copy_package(out)
    (out / "README.md").write_text(_student_readme(a, course), encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())
