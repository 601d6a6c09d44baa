"""`dlgrade grade`: a whole class, several submissions at once, nothing graded twice.

``SUBMISSIONS/<student_id>/<exercise>.py`` (or ``.ipynb``, also in nbgrader's
``submitted/<student_id>/<assignment>/`` layout: see notebooks.py) are graded with every grader
(hidden tests included), each student's inputs seeded by their id. Each finished
(student, exercise) is committed to ``DIR/grading.sqlite`` at once, keyed by
the submission's content hash, so a run killed at any point and started again
grades only what is missing or changed. The files are written from the
database at the end, sorted, without timestamps: an interrupted run and an
uninterrupted one write the same bytes.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import functools
import hashlib
import io
import json
import multiprocessing
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import Course
from grader.errors import UserError

if TYPE_CHECKING:
    from grader.sandbox.process import Sandbox

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MISSING = "missing"


@dataclass(frozen=True)
class Task:
    student: str
    exercise: str
    path: Path
    digest: str  # sha256 of the file, or "missing"


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return MISSING


def students_in(submissions: Path) -> list[str]:
    """The student folders of ``submissions``; an unsafe name stops the run, naming it."""
    if not submissions.is_dir():
        raise UserError(f"no such folder: {submissions}")
    found = []
    for entry in sorted(submissions.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue  # stray files and hidden folders (.git, .ipynb_checkpoints) are not students
        if not SAFE_ID.match(entry.name) or entry.name in (".", ".."):
            raise UserError(
                f"{entry}: {entry.name!r} is not a safe student id (letters, digits, . _ @ -, "
                "starting with a letter or digit); rename the folder"
            )
        found.append(entry.name)
    if not found:
        raise UserError(
            f"{submissions} has no student folders (expected SUBMISSIONS/<student_id>/<exercise>.py)"
        )
    return found


class Ledger:
    """``DIR/grading.sqlite``: one row per graded (student, exercise), committed as it finishes."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS results (student TEXT, exercise TEXT, digest TEXT, "
            "result TEXT NOT NULL, PRIMARY KEY (student, exercise))"
        )

    def done(self) -> dict[tuple[str, str], str]:
        return {
            (s, e): d
            for s, e, d in self.db.execute("SELECT student, exercise, digest FROM results")
        }

    def record(self, task: Task, result: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
            (task.student, task.exercise, task.digest, json.dumps(result, sort_keys=True)),
        )

    def results(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (s, e): json.loads(r)
            for s, e, r in self.db.execute("SELECT student, exercise, result FROM results")
        }

    def close(self) -> None:
        self.db.close()


# -- grading one (student, exercise), in a worker process -----------------------------------------
_COURSE: Course | None = None
_REGISTRIES: dict[str, Any] = {}
_MAX: dict[str, list[Any]] = {}


def _init_worker(course_root: str) -> None:
    global _COURSE
    _COURSE = Course.load(Path(course_root))
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def missing_result(course: Course, exercise: str, reason: str) -> dict[str, Any]:
    """The result of a submission without the exercise's file: every test an error, 0 points."""
    from grader.engine.runner import collect_graders

    if exercise not in _MAX:
        _MAX[exercise] = collect_graders(course.solution_tests(exercise), exercise)
    return {
        "exercise": exercise,
        "score": 0.0,
        "max_score": float(sum(t.max_score for t in _MAX[exercise])),
        "tests": [
            {
                "name": t.name,
                "score": 0.0,
                "max_score": t.max_score,
                "status": "error",
                "message": reason,
                "hint": None,
                "hidden": t.hidden,
                "output": "",
            }
            for t in _MAX[exercise]
        ],
    }


def grade_file(
    course: Course, exercise: str, path: Path, student: str, sandbox: Sandbox | None = None
) -> tuple[dict[str, Any], list[str]]:
    """One file against all graders of its exercise (hidden tests included, inputs seeded by the
    student's id), as a ``check --json`` object whose tests also say whether they are hidden and
    what the submission printed; and the run's notes. ``sandbox``: the student's sandbox, holding
    ``path``, when several of their files are graded in a row (its workers start warm)."""
    from grader.engine.mistakes import registry_for
    from grader.engine.runner import run_graders
    from grader.engine.seeding import seed_for_student
    from grader.sandbox.backend import SandboxBackend

    if exercise not in _REGISTRIES:
        _REGISTRIES[exercise] = registry_for(course.solutions_dir, exercise)
    result = run_graders(
        course.solution_tests(exercise),
        path,
        exercise=exercise,
        seed=seed_for_student(student),
        hidden_included=True,
        mistakes=_REGISTRIES[exercise],
        backend_factory=functools.partial(SandboxBackend, sandbox=sandbox),
    )
    data = result.to_json()
    for test_json, test in zip(data["tests"], result.tests, strict=True):
        test_json["hidden"] = test.hidden
        test_json["output"] = test.output
    return data, result.notes


def grade_student(tasks: list[Task]) -> list[tuple[Task, dict[str, Any]]]:
    """(student, exercise) pairs of one student, in a grading process: one sandbox for them,
    whose workers are forked warm, one per exercise."""
    from grader.sandbox.process import Sandbox

    course = _COURSE
    assert course is not None
    files = [t.path for t in tasks if t.digest != MISSING]
    sandbox = Sandbox(files) if files else None
    done = []
    try:
        for task in tasks:
            if task.digest == MISSING:
                reason = f"no file {task.exercise}.py in the submission of {task.student}"
                done.append((task, missing_result(course, task.exercise, reason)))
            else:
                result = grade_file(course, task.exercise, task.path, task.student, sandbox)
                done.append((task, result[0]))
    finally:
        if sandbox is not None:
            sandbox.close()
    return done


# -- the run ------------------------------------------------------------------------------------
def plan(
    course: Course,
    submissions: Path,
    exercises: Iterable[str],
    notebooks: Path,
    assignment: str | None = None,
) -> list[Task]:
    """A task per (student, exercise): ``<exercise>.py``, or the solution cells of the student's
    ``<exercise>.ipynb`` (also in nbgrader's ``<assignment>/`` folder), extracted to a module in
    ``notebooks`` (see notebooks.py); the digest is that of the code graded."""
    from grader.instructor.notebooks import submission_file

    tasks = []
    for student in students_in(submissions):
        for exercise in exercises:
            path = submission_file(submissions / student, exercise, notebooks, assignment)
            tasks.append(Task(student, exercise, path, _digest(path)))
    return tasks


def grade_class(
    course: Course,
    submissions: Path,
    out: Path,
    *,
    exercises: list[str] | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    assignment: str | None = None,
) -> dict[str, Any]:
    """Grades what is missing or changed, then writes the output files; a summary dict."""
    if not course.has_solutions:
        raise UserError(
            "grading a class needs the instructor's solutions/ folder (the hidden tests)"
        )
    chosen = (
        [course.require_exercise(e) for e in exercises] if exercises else list(course.exercises)
    )
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(out / "grading.sqlite")
    try:
        tasks = plan(course, submissions, chosen, out / "notebooks", assignment)
        done = ledger.done()
        todo = [t for t in tasks if done.get((t.student, t.exercise)) != t.digest]
        started = time.perf_counter()
        workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
        finished = len(tasks) - len(todo)
        if progress:
            progress(finished, len(tasks))
        if todo:
            # forkserver: workers fork from a fresh server, never from this process, whose torch
            # threads (if it used torch) would deadlock a forked child
            context = multiprocessing.get_context("forkserver")
            with cf.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(str(course.root),),
            ) as pool:
                by_student: dict[str, list[Task]] = {}
                for task in todo:
                    by_student.setdefault(task.student, []).append(task)
                # one task per student; a class smaller than twice the workers is split further,
                # so that no core waits while one student's exercises run one after another
                split = max(1, -(-2 * workers // len(by_student)))
                futures = [
                    pool.submit(grade_student, ts[i :: min(split, len(ts))])
                    for ts in by_student.values()
                    for i in range(min(split, len(ts)))
                ]
                for future in cf.as_completed(futures):
                    for task, result in future.result():
                        ledger.record(task, result)
                        finished += 1
                    if progress:
                        progress(finished, len(tasks))
        write_outputs(ledger.results(), [t.student for t in tasks], chosen, out)
        return {
            "graded": len(todo),
            "kept": len(tasks) - len(todo),
            "students": len({t.student for t in tasks}),
            "seconds": time.perf_counter() - started,
        }
    finally:
        ledger.close()


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_outputs(
    results: dict[tuple[str, str], dict[str, Any]],
    students: list[str],
    exercises: list[str],
    out: Path,
) -> None:
    """grades.csv, <student>.json and gradescope/<student>/results.json, from the ledger alone."""
    students = sorted(set(students))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *exercises, "total"])
    for student in students:
        mine = [results[(student, e)] for e in exercises if (student, e) in results]
        scores = {r["exercise"]: r["score"] for r in mine}
        writer.writerow(
            [student, *(_fmt(scores.get(e, 0.0)) for e in exercises), _fmt(sum(scores.values()))]
        )
        public = [{k: v for k, v in r.items()} for r in mine]
        for r in public:
            r["tests"] = [
                {k: t[k] for k in ("name", "score", "max_score", "status", "message", "hint")}
                for t in r["tests"]
            ]
        _write(out / f"{student}.json", json.dumps(public, indent=2, sort_keys=True) + "\n")
        _write(
            out / "gradescope" / student / "results.json",
            json.dumps(gradescope_results(mine), indent=2) + "\n",
        )
    _write(out / "grades.csv", buffer.getvalue())


def gradescope_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Gradescope's results.json: hidden tests become visible once grades are published."""
    tests = []
    for r in results:
        for t in r["tests"]:
            lines = [t["message"]] if t["message"] else []
            if t.get("hint"):
                lines.append(f"hint: {t['hint']}")
            if t.get("output"):
                lines.append("output:\n" + t["output"])
            tests.append(
                {
                    "name": f"{r['exercise']}: {t['name']}",
                    "score": t["score"],
                    "max_score": t["max_score"],
                    "status": "passed" if t["status"] == "passed" else "failed",
                    "output": "\n".join(lines) or "passed",
                    "visibility": "after_published" if t.get("hidden") else "visible",
                }
            )
    return {"score": sum(t["score"] for t in tests), "tests": tests, "visibility": "visible"}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
