"""What a Dask worker does for `dlgrade grade --cluster/--scheduler`: unpacks the course it is sent,
checks that it may grade for the run, and grades one job of pairs as the local pool does.

Imported only on a cluster's workers and by its coordinator (it needs Dask). A worker refuses
every task of a run (:class:`WorkerRefused`, naming the worker and why) when it cannot keep the
run's promises: an isolation level below the run's, another dlgrade (its engine decides scores),
or more than one thread (a worker that dies must implicate the one submission it was grading).
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

from grader.course import Course
from grader.errors import UserError
from grader.instructor.course_archive import (
    ArchiveMismatch,
    CourseArchive,
    cache_root,
    unpack,
    verify,
)
from grader.instructor.grade import Setting, Task, grade_tasks
from grader.sandbox.isolation import Isolation


class WorkerRefused(UserError):
    """A worker that cannot grade for this run: one line naming it and why."""


class CourseUnavailable(Exception):
    """This worker has no checked copy of the run's course (why, as "it ...")."""


@dataclass(frozen=True)
class Requirement:
    """What every task of a run carries: the course it needs, and what the run promises."""

    digest: str  # the course archive's
    isolation: Isolation  # the run's level: recorded in each result, and required of the worker
    engine: str  # the coordinator's engine digest: a worker must grade with the same code
    budget: float


@dataclass(frozen=True)
class Job:
    """One task of the cluster: a student's pairs (or one pair), and the run's requirement."""

    requirement: Requirement
    tasks: tuple[Task, ...]


class CoursePlugin(WorkerPlugin):
    """Installed on every worker of the run, those that join or restart later included: unpacks
    the course archive into the worker's cache, checking its digest."""

    idempotent = True  # the same course registered again (another run) is not sent again

    def __init__(self, archive: CourseArchive) -> None:
        self.archive = archive
        self.name = plugin_name(archive.digest)

    def setup(self, worker: Any) -> None:
        _remember(self.archive.digest, unpack(self.archive, cache_root()))


def plugin_name(digest: str) -> str:
    return f"dlgrade-course-{digest[:16]}"


_COURSES: dict[str, Course] = {}  # digest -> the course, checked in this process
_LOCK = threading.Lock()


def _remember(digest: str, folder: Path) -> None:
    with _LOCK:
        _COURSES[digest] = Course.load(folder)


def course_for(digest: str) -> Course:
    """The course of ``digest`` in this worker's cache, its digest checked once per process."""
    with _LOCK:
        if digest in _COURSES:
            return _COURSES[digest]
    folder = cache_root() / digest
    if not folder.is_dir():
        raise CourseUnavailable(
            f"it has no copy of the course {digest[:12]} (the plugin that unpacks it failed "
            "there: see the worker's log)"
        )
    try:
        verify(folder, digest)
    except ArchiveMismatch as exc:
        raise CourseUnavailable(f"its copy of the course is not the run's: {exc}") from None
    _remember(digest, folder)
    return _COURSES[digest]


def describe_worker(worker: Any) -> str:
    return f"worker {worker.address} on {socket.gethostname()}"


def refusal(requirement: Requirement, course_root: Path, nthreads: int) -> str | None:
    """Why this process may not grade for a run with ``requirement`` (None when it may)."""
    from grader.instructor.ledger import engine_digest
    from grader.sandbox.isolation import NoSafeLevel, detect

    if nthreads != 1:
        return (
            f"it runs {nthreads} threads, and dlgrade needs one per worker process (start workers "
            "with --nthreads 1 and as many --nworkers as cores), so that a worker that dies is "
            "charged to the one submission it was grading"
        )
    if engine_digest() != requirement.engine:
        return (
            "it runs another dlgrade than the coordinator (the code of its engine, runtime or "
            "sandbox differs): install the same version on every machine"
        )
    try:
        level = detect((course_root / "solutions",))
    except NoSafeLevel as exc:
        return f"it offers no isolation level ({exc}), and this run requires {requirement.isolation.level}"
    if not level.at_least(requirement.isolation.level):
        return (
            f"it offers the {level.level} isolation level ({level.why}), and this run requires "
            f"{requirement.isolation.level}: install bubblewrap there (and do not set "
            "DLGRADE_NO_BWRAP), or leave it out of the cluster"
        )
    return None


_CHECKED: dict[Requirement, str | None] = {}


def check_worker(requirement: Requirement, dask_worker: Any = None) -> dict[str, str | None]:
    """Who this worker is, and why it refuses the run (None when it grades): run on every worker
    when a run starts (``client.run`` passes ``dask_worker``), and before each task."""
    worker = get_worker() if dask_worker is None else dask_worker
    where = describe_worker(worker)
    try:
        course = course_for(requirement.digest)
    except CourseUnavailable as exc:
        return {"worker": where, "refusal": str(exc)}
    if requirement not in _CHECKED:
        _CHECKED[requirement] = refusal(requirement, course.root, int(worker.state.nthreads))
    return {"worker": where, "refusal": _CHECKED[requirement]}


def grade_job(job: Job) -> list[dict[str, Any]]:
    """The results of ``job``'s pairs, in order (a Dask task). Raises WorkerRefused when this
    worker may not grade for the run."""
    report = check_worker(job.requirement)
    if report["refusal"] is not None:
        raise WorkerRefused(f"{report['worker']} refuses to grade: {report['refusal']}")
    course = course_for(job.requirement.digest)
    from grader.instructor.secret import class_secret

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    setting = Setting(
        str(course.root),
        job.requirement.isolation,
        class_secret(course, create=False),
        job.requirement.budget,
        os.getpid(),
    )
    return [result for _, result in grade_tasks(course, setting, list(job.tasks))]
