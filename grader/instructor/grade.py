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
import hashlib
import io
import json
import multiprocessing
import os
import re
import sqlite3
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import Course
from grader.errors import UserError

if TYPE_CHECKING:
    from grader.sandbox.isolation import Isolation

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


MAX_ATTEMPTS = 2  # times a submission may stop the grading process before it is given up


class Ledger:
    """``DIR/grading.sqlite``: one row per graded (student, exercise), committed as it finishes,
    and the attempts begun on each, so that a submission that keeps ending the grading process
    (even the whole run) is recorded as an error instead of being tried forever."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS results (student TEXT, exercise TEXT, digest TEXT, "
            "result TEXT NOT NULL, PRIMARY KEY (student, exercise))"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS attempts (student TEXT, exercise TEXT, digest TEXT, "
            "count INTEGER NOT NULL, PRIMARY KEY (student, exercise))"
        )

    def begin(self, task: Task) -> None:
        """A (student, exercise) is handed to a grading process: counted before it runs."""
        self.db.execute(
            "INSERT INTO attempts VALUES (?, ?, ?, 1) ON CONFLICT (student, exercise) DO UPDATE "
            "SET count = CASE WHEN digest = excluded.digest THEN count + 1 ELSE 1 END, "
            "digest = excluded.digest",
            (task.student, task.exercise, task.digest),
        )

    def attempts(self, task: Task) -> int:
        row = self.db.execute(
            "SELECT count FROM attempts WHERE student = ? AND exercise = ? AND digest = ?",
            (task.student, task.exercise, task.digest),
        ).fetchone()
        return int(row[0]) if row else 0

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
        self.db.execute(
            "DELETE FROM attempts WHERE student = ? AND exercise = ?",
            (task.student, task.exercise),
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


_ISOLATION: Isolation | None = None


def _init_worker(course_root: str, isolation: Isolation, run_pid: int) -> None:
    global _COURSE, _ISOLATION
    _COURSE = Course.load(Path(course_root))
    _ISOLATION = isolation
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _die_with(run_pid)


def _die_with(run_pid: int) -> None:
    """When the run's process dies (of any signal), this grading process kills every sandbox it
    runs and the pool's fork server, and exits: nothing the run started outlives it, and no pipe
    of the run's stays open."""
    import threading

    from grader.sandbox.process import close_all_on_exit

    try:
        handle: int | None = os.pidfd_open(run_pid)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        import select
        import signal

        if handle is not None:
            select.select([handle], [], [])
        else:
            while True:
                try:
                    os.kill(run_pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)
        close_all_on_exit()
        parent = os.getppid()
        if parent not in (1, run_pid):
            try:
                os.kill(parent, signal.SIGKILL)  # the fork server
            except OSError:
                pass
        os._exit(1)

    threading.Thread(target=watch, name="dlgrade-run-watch", daemon=True).start()


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
    course: Course, exercise: str, path: Path, student: str, isolation: Isolation
) -> tuple[dict[str, Any], list[str]]:
    """One file against all graders of its exercise (hidden tests included, inputs seeded by the
    student's id), in a sandbox of its own, as a ``check --json`` object whose tests also say
    whether they are hidden and what the submission printed; and the run's notes."""
    from grader.engine.mistakes import registry_for
    from grader.engine.runner import run_graders
    from grader.engine.seeding import seed_for_student

    if exercise not in _REGISTRIES:
        _REGISTRIES[exercise] = registry_for(course.solutions_dir, exercise)
    result = run_graders(
        course.solution_tests(exercise),
        path,
        exercise=exercise,
        seed=seed_for_student(student),
        hidden_included=True,
        mistakes=_REGISTRIES[exercise],
        isolation=isolation,
    )
    data = result.to_json()
    for test_json, test in zip(data["tests"], result.tests, strict=True):
        test_json["hidden"] = test.hidden
        test_json["output"] = test.output
    return data, result.notes


def grade_student(tasks: list[Task]) -> list[tuple[Task, dict[str, Any]]]:
    """(student, exercise) pairs of one student, in a grading process, each in a fresh sandbox
    (nothing one exercise's code leaves behind is seen by another's tests)."""
    course, isolation = _COURSE, _ISOLATION
    assert course is not None and isolation is not None
    done = []
    for task in tasks:
        if task.digest == MISSING:
            reason = f"no file {task.exercise}.py in the submission of {task.student}"
            done.append((task, missing_result(course, task.exercise, reason)))
        else:
            done.append(
                (task, grade_file(course, task.exercise, task.path, task.student, isolation)[0])
            )
    return done


def given_up_result(course: Course, task: Task) -> dict[str, Any]:
    """The result of a submission that ended the grading process ``MAX_ATTEMPTS`` times."""
    return missing_result(
        course,
        task.exercise,
        f"grading {task.exercise}.py of {task.student} stopped the grading process "
        f"{MAX_ATTEMPTS} times; it was given up (the other submissions were graded)",
    )


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
    trusted: bool = False,
    assignment: str | None = None,
) -> dict[str, Any]:
    """Grades what is missing or changed, then writes the output files; a summary dict.
    Refuses (UserError) below the bubblewrap isolation level unless ``trusted``."""
    from grader.sandbox.isolation import detect, require

    if not course.has_solutions:
        raise UserError(
            "grading a class needs the instructor's solutions/ folder (the hidden tests)"
        )
    chosen = (
        [course.require_exercise(e) for e in exercises] if exercises else list(course.exercises)
    )
    isolation = detect(protected_for_class(course, out))
    require(isolation, "bubblewrap", "grading a class", trusted)
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(out / "grading.sqlite")
    try:
        tasks = plan(course, submissions, chosen, out / "notebooks", assignment)
        done = ledger.done()
        todo = [t for t in tasks if done.get((t.student, t.exercise)) != t.digest]
        for task in [t for t in todo if ledger.attempts(t) >= MAX_ATTEMPTS]:
            ledger.record(task, given_up_result(course, task))
            todo.remove(task)
        started = time.perf_counter()
        workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
        finished = len(tasks) - len(todo)
        if progress:
            progress(finished, len(tasks))
        if todo:
            for task, result in _run_pool(course, todo, workers, isolation, ledger):
                ledger.record(task, result)
                finished += 1
                if progress:
                    progress(finished, len(tasks))
        write_outputs(ledger.results(), [t.student for t in tasks], chosen, out, isolation)
        return {
            "graded": len(todo),
            "kept": len(tasks) - len(todo),
            "students": len({t.student for t in tasks}),
            "seconds": time.perf_counter() - started,
            "isolation": isolation,
        }
    finally:
        ledger.close()


def protected_for_class(course: Course, out: Path) -> tuple[Path, ...]:
    """What no submission may read while a class is graded."""
    return (course.solutions_dir, out.resolve())


def _jobs(todo: list[Task], workers: int) -> list[list[Task]]:
    """One job per student; a class smaller than twice the workers is split further, so that no
    core waits while one student's exercises run one after another."""
    by_student: dict[str, list[Task]] = {}
    for task in todo:
        by_student.setdefault(task.student, []).append(task)
    split = max(1, -(-2 * workers // len(by_student)))
    return [
        ts[i :: min(split, len(ts))]
        for ts in by_student.values()
        for i in range(min(split, len(ts)))
    ]


def _run_pool(
    course: Course, todo: list[Task], workers: int, isolation: Isolation, ledger: Ledger
) -> Iterator[tuple[Task, dict[str, Any]]]:
    """Grades ``todo`` in ``workers`` grading processes, yielding results as they finish.

    Only ``workers`` jobs are handed out at a time, each counted in the ledger as it starts. When
    a grading process dies, the jobs that were running then are *suspects*: each is tried again
    alone, in a pool of its own, and one that kills its grading process again is given up
    (``MAX_ATTEMPTS``). Submissions a killed run was grading are suspects of the next run.
    """
    suspects = [t for t in todo if ledger.attempts(t) > 0]
    queue = _jobs([t for t in todo if t not in suspects], workers)
    while suspects or queue:
        if suspects:
            task = suspects.pop(0)
            if ledger.attempts(task) >= MAX_ATTEMPTS:
                yield task, given_up_result(course, task)
                continue
            lost, _ = yield from _pool_round(course, [[task]], 1, isolation, ledger)
        else:
            lost, queue = yield from _pool_round(course, queue, workers, isolation, ledger)
        suspects += [task for job in lost for task in job]


def _pool_round(
    course: Course, jobs: list[list[Task]], workers: int, isolation: Isolation, ledger: Ledger
) -> Generator[tuple[Task, dict[str, Any]], None, tuple[list[list[Task]], list[list[Task]]]]:
    """Runs ``jobs`` in one pool until they are done or a grading process dies, yielding results;
    returns the jobs that were running when it died, and those that never started."""
    from concurrent.futures.process import BrokenProcessPool

    # forkserver: grading processes fork from a fresh server, never from this process, whose
    # torch threads (if it used torch) would deadlock a forked child
    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_init_worker,
        initargs=(str(course.root), isolation, os.getpid()),
    )
    pending = list(reversed(jobs))  # pop() from the end: the first job first
    running: dict[cf.Future, list[Task]] = {}
    lost: list[list[Task]] = []
    try:
        while pending or running:
            while pending and len(running) < workers and not lost:
                job = pending.pop()
                for task in job:
                    ledger.begin(task)
                running[pool.submit(grade_student, job)] = job
            if not running:
                break
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    lost.append(job)
                    continue
                yield from results
    except BaseException:  # interrupted (Ctrl-C, SIGTERM's SystemExit...): stop the graders now
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True, cancel_futures=True)
    return lost, list(reversed(pending))


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_outputs(
    results: dict[tuple[str, str], dict[str, Any]],
    students: list[str],
    exercises: list[str],
    out: Path,
    isolation: Isolation,
) -> None:
    """grades.csv and its side file _run.json (no student id starts with "_"), <student>.json and gradescope/<student>/results.json,
    from the ledger alone."""
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
        gradescope = gradescope_results(mine)
        gradescope["output"] = f"sandbox: {isolation.describe()}"
        _write(
            out / "gradescope" / student / "results.json",
            json.dumps(gradescope, indent=2) + "\n",
        )
    _write(out / "grades.csv", buffer.getvalue())
    run = {"isolation": isolation.to_json(), "exercises": exercises, "students": len(students)}
    _write(out / "_run.json", json.dumps(run, indent=2, sort_keys=True) + "\n")


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
