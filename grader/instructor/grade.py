"""`dlgrade grade`: a whole class, several submissions at once, nothing graded twice, no grade stale.

Each student's file of each exercise (found and read safely: submissions.py) is graded with every
grader, hidden tests included, in a sandbox of its own, the inputs seeded by the student's id and
the class secret (secret.py). Before the class, the reference solution of each exercise is graded
the same way: below full marks the graders are wrong, and the run stops there. Each finished
(student, exercise) is committed to the ledger at once (ledger.py) under a key of everything that
decides its score, so a run killed at any point and started again grades only what is missing or
changed, and says why. A test whose grader code fails stops the run too (exit 3): it is never
charged to a student. The files are written from the ledger at the end (outputs.py).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import datetime as dt
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from grader.course import Course
from grader.errors import GraderError, UserError
from grader.instructor.ledger import WHY, Key, Ledger, digest, engine_digest, exercise_digests
from grader.instructor.submissions import Found, find, students_in

if TYPE_CHECKING:
    from grader.instructor.assignment import Assignment
    from grader.sandbox.isolation import Isolation

MAX_ATTEMPTS = 2  # times a submission may stop the grading process before it is given up
REFERENCE = "__reference__"  # the pseudo-student whose file is the reference solution


@dataclass(frozen=True)
class Task:
    """One (student, exercise) to grade: the code (or why there is none) and its key."""

    student: str
    exercise: str
    shown_as: str  # "alice/softmax.py": how results name the file
    content: bytes | None
    problem: str | None
    notes: tuple[str, ...]
    key: Key
    mtime: float | None = None  # when the file was last changed (for late days)


# -- grading, in a grading process of the pool ------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """What every grading process of a run needs to know."""

    course_root: str
    isolation: Isolation
    secret: str
    budget: float
    run_pid: int


class Dispatch(Protocol):
    """Where a run's pairs are graded when not in this machine's process pool (the default, which
    imports nothing of this): a Dask cluster (cluster.py). Results come back to the caller, which
    stays the only writer of the ledger and the files."""

    def isolation(self, trusted: bool) -> Isolation:
        """The level the run records, and requires of every process that grades for it."""
        ...

    def references(
        self, course: Course, setting: Setting, tasks: list[Task]
    ) -> Generator[tuple[Task, dict[str, Any]], None, None]:
        """The reference solutions' results; GraderError if one ends its grading process."""
        ...

    def grade(
        self, course: Course, setting: Setting, tasks: list[Task]
    ) -> Generator[tuple[Task, dict[str, Any]], None, None]:
        """Each task's result as it arrives; a submission that keeps ending its grading process
        gets an error result, and the run goes on."""
        ...


_SETTING: Setting | None = None
_COURSE: Course | None = None
_REGISTRIES: dict[tuple[Path, str], Any] = {}  # by (solutions folder, exercise)
_MAX: dict[tuple[Path, str], list[Any]] = {}


def _init_worker(setting: Setting) -> None:
    global _SETTING, _COURSE
    _SETTING = setting
    _COURSE = Course.load(Path(setting.course_root))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _die_with(setting.run_pid)


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
    """The result of a submission with nothing to grade: every test an error, 0 points."""
    from grader.engine.runner import collect_graders

    known = (course.solutions_dir, exercise)
    if known not in _MAX:
        _MAX[known] = collect_graders(course.solution_tests(exercise), exercise)
    return {
        "exercise": exercise,
        "score": 0.0,
        "max_score": float(sum(t.max_score for t in _MAX[known])),
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
            for t in _MAX[known]
        ],
    }


def grade_file(
    course: Course,
    exercise: str,
    path: Path,
    student: str,
    isolation: Isolation,
    *,
    secret: str | None = None,
    shown_as: str | None = None,
    budget: float | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """One file against all graders of its exercise (hidden tests included, inputs seeded by the
    student's id and the class secret), in a sandbox of its own, as a ``check --json`` object
    whose tests also say whether they are hidden and what the submission printed; and the run's
    notes."""
    from grader.engine.mistakes import registry_for
    from grader.engine.runner import run_graders
    from grader.engine.seeding import seed_for_student

    known = (course.solutions_dir, exercise)
    if known not in _REGISTRIES:
        _REGISTRIES[known] = registry_for(course.solutions_dir, exercise)
    result = run_graders(
        course.solution_tests(exercise),
        path,
        exercise=exercise,
        seed=seed_for_student(student, secret),
        hidden_included=True,
        mistakes=_REGISTRIES[known],
        isolation=isolation,
        shown_as=shown_as,
        time_budget=course.time_budget if budget is None else budget,
    )
    data = result.to_json()
    for test_json, test in zip(data["tests"], result.tests, strict=True):
        test_json["hidden"] = test.hidden
        test_json["output"] = test.output
    return data, result.notes


def grade_student(tasks: list[Task]) -> list[tuple[Task, dict[str, Any]]]:
    """(student, exercise) pairs of one student, in a grading process of the pool."""
    course, setting = _COURSE, _SETTING
    assert course is not None and setting is not None
    return grade_tasks(course, setting, tasks)


def grade_tasks(
    course: Course, setting: Setting, tasks: list[Task]
) -> list[tuple[Task, dict[str, Any]]]:
    """(student, exercise) pairs, each in a fresh sandbox (nothing one exercise's code leaves
    behind is seen by another's tests): what a grading process does, of the pool or a cluster."""
    done = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-staged-") as tmp:
        for task in tasks:
            if task.content is None:
                result = missing_result(course, task.exercise, task.problem or "nothing to grade")
            else:
                staged = Path(tmp) / task.student / f"{task.exercise}.py"
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_bytes(task.content)
                result, _ = grade_file(
                    course,
                    task.exercise,
                    staged,
                    task.student,
                    setting.isolation,
                    secret=setting.secret,
                    shown_as=task.shown_as,
                    budget=setting.budget,
                )
            if task.notes:
                result["notes"] = list(task.notes)
            done.append((task, result))
    return done


def given_up_result(course: Course, task: Task) -> dict[str, Any]:
    """The result of a submission that ended the grading process ``MAX_ATTEMPTS`` times."""
    return missing_result(
        course,
        task.exercise,
        f"grading {task.shown_as} stopped the grading process {MAX_ATTEMPTS} times; it was "
        "given up (the other submissions were graded)",
    )


# -- the plan -----------------------------------------------------------------------------------
def plan(
    course: Course,
    submissions: Path,
    exercises: list[str],
    *,
    secret: str,
    budget: float,
    out: Path | None = None,
    assignment: str | None = None,
) -> tuple[list[Task], list[str], list[str]]:
    """A task per (student, exercise), with its key; the students; notes on what was skipped or
    taken as a near miss."""
    from grader.instructor.notebooks import solution_module_from

    roster = students_in(submissions, out)
    common = {"engine": engine_digest(), "secret": digest(secret), "budget": f"{budget:g}"}
    per_exercise = {e: exercise_digests(course, e) for e in exercises}
    tasks, notes = [], list(roster.notes)
    others = frozenset(f"{e}.{x}" for e in course.exercises for x in ("py", "ipynb"))
    for student in roster.students:
        for exercise in exercises:
            if student in roster.problems:
                found = Found(student, exercise, f"{student}/", problem=roster.problems[student])
            else:
                found = find(submissions, student, exercise, within=assignment, others=others)
            content = found.content
            if content is not None and found.kind == "ipynb":
                content = solution_module_from(content, found.shown_as).encode()
            graded = digest(content) if content is not None else f"none: {found.problem}"
            key = Key(submission=graded, **per_exercise[exercise], **common)
            mtime = None
            if content is not None:
                with contextlib.suppress(OSError):
                    mtime = (submissions / found.shown_as).lstat().st_mtime
            tasks.append(
                Task(
                    student,
                    exercise,
                    found.shown_as,
                    content,
                    found.problem,
                    found.notes,
                    key,
                    mtime,
                )
            )
            notes += list(found.notes)
    return tasks, roster.students, notes


# -- the run ------------------------------------------------------------------------------------
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
    policy: Assignment | None = None,
    budget: float | None = None,
    dispatch: Dispatch | None = None,
) -> dict[str, Any]:
    """Grades what is missing or stale, then writes the output files; a summary dict. Refuses
    (UserError) below the bubblewrap isolation level unless ``trusted``; stops (GraderError)
    when a reference scores below full marks or a grader's own code fails. ``dispatch``: where
    the pairs are graded (default: a pool of ``workers`` processes on this machine)."""
    from grader.instructor.outputs import write_outputs
    from grader.instructor.secret import class_secret
    from grader.sandbox.isolation import detect, require

    if not course.has_solutions:
        raise UserError(
            "grading a class needs the instructor's solutions/ folder (the hidden tests)"
        )
    chosen = (
        [course.require_exercise(e) for e in exercises] if exercises else list(course.exercises)
    )
    if dispatch is None:
        isolation = detect(protected_for_class(course, out))
        require(isolation, "bubblewrap", "grading a class", trusted)
    else:
        isolation = dispatch.isolation(trusted)
    secret = class_secret(course)
    budget = course.time_budget if budget is None else budget
    setting = Setting(str(course.root), isolation, secret, budget, os.getpid())
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(out / "grading.sqlite")
    try:
        tasks, students, notes = plan(
            course,
            submissions,
            chosen,
            secret=secret,
            budget=budget,
            out=out,
            assignment=assignment,
        )
        known = ledger.keys()
        todo: list[Task] = []
        why: Counter[str] = Counter()
        for task in tasks:
            old = known.get((task.student, task.exercise))
            if old == task.key:
                continue
            todo.append(task)
            for part in task.key.changes(old) if old is not None else ["submission"]:
                why[part] += 1
        for task in [
            t for t in todo if ledger.attempts(t.student, t.exercise, t.key) >= MAX_ATTEMPTS
        ]:
            ledger.record(task.student, task.exercise, task.key, given_up_result(course, task))
            todo.remove(task)
        started = time.perf_counter()
        workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
        exercises_todo = sorted({t.exercise for t in todo})
        if dispatch is None:
            _check_references(
                course,
                exercises_todo,
                setting,
                ledger,
                lambda refs: _pool_round_simple(refs, workers, setting),
            )
            run = _run_pool(todo, workers, setting, ledger)
        else:
            _check_references(
                course,
                exercises_todo,
                setting,
                ledger,
                lambda refs: dispatch.references(course, setting, refs),
            )
            run = dispatch.grade(course, setting, todo)
        finished = len(tasks) - len(todo)
        if progress:
            progress(finished, len(tasks))
        faults: list[str] = []  # grader errors: never recorded, so regraded once fixed
        with contextlib.closing(run) as graded:
            for task, result in graded:
                fault = grader_fault(task, result)
                if fault is not None:
                    faults.append(fault)
                else:
                    ledger.record(task.student, task.exercise, task.key, result)
                finished += 1
                if progress:
                    progress(finished, len(tasks))
        results = ledger.results()
        people = submissions / "_students.csv"  # who each folder is in the LMS (dlgrade import)
        if people.is_file():
            from grader.paths import write_atomically

            write_atomically(out / "_students.csv", people.read_text(encoding="utf-8"))
        write_outputs(
            results,
            students,
            course,
            out,
            isolation,
            policy,
            submission_times(submissions, tasks),
            notes,
        )
        if faults:  # everyone else is graded and written: one odd answer holds no class hostage
            more = (
                f" (and {len(faults) - 1} more: see {out / '_run.json'})" if len(faults) > 1 else ""
            )
            _note_faults(out, faults)
            raise GraderError(faults[0] + more)
        return {
            "graded": len(todo),
            "kept": len(tasks) - len(todo),
            "why": {WHY[k]: n for k, n in sorted(why.items())},
            "students": len(students),
            "seconds": time.perf_counter() - started,
            "isolation": isolation,
            "stale": stale_results(course, known, chosen, setting),
            "notes": notes,
        }
    finally:
        ledger.close()


def submission_times(submissions: Path, tasks: list[Task]) -> dict[str, dt.datetime | None]:
    """When each student handed in: from ``SUBMISSIONS/_submitted.csv`` (written by `dlgrade
    import` from the LMS's own records) where it names them, else the latest change of the files
    graded."""
    times: dict[str, dt.datetime | None] = {}
    for task in tasks:
        if task.mtime is not None:
            when = dt.datetime.fromtimestamp(task.mtime).replace(microsecond=0)
            times[task.student] = max(when, times.get(task.student) or when)
        else:
            times.setdefault(task.student, None)
    record = submissions / "_submitted.csv"
    if record.is_file():
        with record.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                try:
                    times[row["student"]] = dt.datetime.fromisoformat(row["submitted"])
                except (KeyError, ValueError):
                    raise UserError(
                        f"{record}: a row needs a student and a submitted time like "
                        f"2026-12-10 23:59 (got {dict(row)})"
                    ) from None
    return times


def stale_results(
    course: Course, known: dict[tuple[str, str], Key | None], graded: list[str], setting: Setting
) -> int:
    """How many results of exercises this run did not grade were graded with files that have
    changed since (graders, mistakes, reference, dlgrade...): written, but due for a regrade."""
    current: dict[str, dict[str, str]] = {}
    common = {
        "engine": engine_digest(),
        "secret": digest(setting.secret),
        "budget": f"{setting.budget:g}",
    }
    stale = 0
    for (_, exercise), key in known.items():
        if exercise in graded or exercise not in course.exercises:
            continue
        if exercise not in current:
            current[exercise] = {**exercise_digests(course, exercise), **common}
        if key is None or any(getattr(key, k) != v for k, v in current[exercise].items()):
            stale += 1
    return stale


def protected_for_class(course: Course, out: Path) -> tuple[Path, ...]:
    """What no submission may read while a class is graded."""
    return (course.solutions_dir, out.resolve())


def grader_fault(task: Task, result: dict[str, Any]) -> str | None:
    """One line on the first test whose grader code failed on this submission, if one did."""
    broken = [t for t in result["tests"] if t["status"] == "grader_error"]
    if not broken:
        return None
    return (
        f"{task.exercise}, {broken[0]['name']}: the grader's own code failed on "
        f"{task.shown_as}: {broken[0]['message']} (not charged: that result is left out until "
        "the grader is fixed and the class graded again; everything else is kept)"
    )


def _stop_on_grader_errors(task: Task, result: dict[str, Any]) -> None:
    fault = grader_fault(task, result)
    if fault is not None:
        raise GraderError(fault)


def _note_faults(out: Path, faults: list[str]) -> None:
    """Adds the grader faults of the run to its side file, for the instructor."""
    import json

    from grader.paths import write_atomically

    path = out / "_run.json"
    run = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    run["grader_faults"] = sorted(faults)
    write_atomically(path, json.dumps(run, indent=2, sort_keys=True) + "\n")


def _check_references(
    course: Course,
    exercises: list[str],
    setting: Setting,
    ledger: Ledger,
    grade: Callable[[list[Task]], Generator[tuple[Task, dict[str, Any]], None, None]],
) -> None:
    """Grades the reference solution of each exercise with the hidden tests, as a student; below
    full marks the graders are wrong, and the run stops before any student is graded. A passed
    check is remembered until the exercise's files or dlgrade change."""
    tasks = []
    for exercise in exercises:
        key = Key(
            submission="reference",
            **exercise_digests(course, exercise),
            engine=engine_digest(),
            secret=digest(setting.secret),
            budget=f"{setting.budget:g}",
        )
        if ledger.reference_ok(exercise, key.to_json()):
            continue
        content = course.solution(exercise).read_bytes()
        tasks.append(Task(REFERENCE, exercise, f"solutions/{exercise}.py", content, None, (), key))
    if not tasks:
        return
    with contextlib.closing(grade(tasks)) as results:
        for task, result in results:
            _stop_on_grader_errors(task, result)
            failing = [t for t in result["tests"] if t["status"] != "passed"]
            if failing:
                listed = "; ".join(f"{t['name']}: {t['message']}" for t in failing[:3])
                raise GraderError(
                    f"the reference solution of {task.exercise} scores {result['score']:g} / "
                    f"{result['max_score']:g} with the hidden tests, so the graders are wrong; "
                    f"no student was graded (failing: {listed})"
                )
            ledger.reference_passed(task.exercise, task.key.to_json())


def _pool_round_simple(
    tasks: list[Task], workers: int, setting: Setting
) -> Generator[tuple[Task, dict[str, Any]], None, None]:
    with contextlib.closing(_pool_round([[t] for t in tasks], workers, setting, None)) as rounds:
        lost: list[list[Task]] = []
        try:
            while True:
                yield next(rounds)
        except StopIteration as stop:
            lost = stop.value[0]
        if lost:
            raise GraderError(
                f"grading the reference solution of {lost[0][0].exercise} ended its grading process"
            )


def _jobs(todo: list[Task], workers: int) -> list[list[Task]]:
    """One job per student; a class smaller than twice the workers is split further, so that no
    core waits while one student's exercises run one after another."""
    by_student: dict[str, list[Task]] = {}
    for task in todo:
        by_student.setdefault(task.student, []).append(task)
    if not by_student:
        return []
    split = max(1, -(-2 * workers // len(by_student)))
    return [
        ts[i :: min(split, len(ts))]
        for ts in by_student.values()
        for i in range(min(split, len(ts)))
    ]


def _run_pool(
    todo: list[Task], workers: int, setting: Setting, ledger: Ledger
) -> Generator[tuple[Task, dict[str, Any]], None, None]:
    """Grades ``todo`` in ``workers`` grading processes, yielding results as they finish.

    Only ``workers`` jobs are handed out at a time, each counted in the ledger as it starts. When
    a grading process dies, the jobs that were running then are *suspects*: each is tried again
    alone, in a pool of its own, and one that kills its grading process again is given up
    (``MAX_ATTEMPTS``). Submissions a killed run was grading are suspects of the next run.
    """
    course = _course_of(setting)
    suspects = [t for t in todo if ledger.attempts(t.student, t.exercise, t.key) > 0]
    queue = _jobs([t for t in todo if t not in suspects], workers)
    while suspects or queue:
        if suspects:
            task = suspects.pop(0)
            if ledger.attempts(task.student, task.exercise, task.key) >= MAX_ATTEMPTS:
                yield task, given_up_result(course, task)
                continue
            lost, _ = yield from _pool_round([[task]], 1, setting, ledger)
        else:
            lost, queue = yield from _pool_round(queue, workers, setting, ledger)
        suspects += [task for job in lost for task in job]


def _course_of(setting: Setting) -> Course:
    return Course.load(Path(setting.course_root))


def _pool_round(
    jobs: list[list[Task]], workers: int, setting: Setting, ledger: Ledger | None
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
        initargs=(setting,),
    )
    pending = list(reversed(jobs))  # pop() from the end: the first job first
    running: dict[cf.Future, list[Task]] = {}
    lost: list[list[Task]] = []
    try:
        while pending or running:
            while pending and len(running) < workers and not lost:
                job = pending.pop()
                if ledger is not None:
                    for task in job:
                        ledger.begin(task.student, task.exercise, task.key)
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
    except BaseException:  # interrupted, a grader error, the caller gone: stop the graders now
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True, cancel_futures=True)
    return lost, list(reversed(pending))
