"""`dlgrade grade --scheduler ADDRESS` and `--cluster local:N|slurm:FILE|kubernetes:FILE`: a class
graded by Dask workers, this process staying the only writer of the ledger and the files.

The course travels once, as a content-addressed archive in a worker plugin (every worker that
joins or restarts unpacks and checks it: course_archive.py, cluster_worker.py); the submissions
travel as bytes in the tasks, read here with the regular-file and size checks. One task per
student (split further for a small class), at most a window of them at the scheduler at a time;
results stream back (``as_completed``) and are committed as they come, so a coordinator killed and
started again grades only what the ledger lacks. A task whose worker dies is retried by the
scheduler; one that was running on ``allowed-failures + 1`` workers that died (``KilledWorker``)
is split into its pairs, each tried alone, and a pair that kills its workers again is that
student's error ("stopped its grading worker N times"), while the run goes on.

Parsing the options and the cluster file needs no Dask; everything else imports it, and only
when one of these options is given: the local pool never does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import re
import shutil
import time
import uuid
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from grader.errors import FileLineError, GraderError, UserError
from grader.instructor.grade import MAX_ATTEMPTS, Setting, Task, missing_result
from grader.wording import plural

if TYPE_CHECKING:
    from grader.course import Course
    from grader.instructor.cluster_worker import Requirement
    from grader.sandbox.isolation import Isolation

ALLOWED_FAILURES = MAX_ATTEMPTS - 1  # as the local pool: given up once it ended 2 workers
CONNECT_TIMEOUT = 10  # seconds to reach a scheduler
WINDOW_PER_THREAD = 4  # tasks at the scheduler per worker thread (at least MIN_WINDOW)
MIN_WINDOW = 16
KINDS = ("local", "slurm", "kubernetes")
INSTALL = "pip install 'dlgrade[cluster]' (from a checkout: pip install -e '.[cluster]')"


# -- what the options ask for (no Dask) ----------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where a run grades: a running scheduler, or a cluster dlgrade starts (and stops)."""

    kind: str  # "scheduler", "local", "slurm" or "kubernetes"
    address: str | None = None  # scheduler
    workers: int = 0  # local
    file: ClusterFile | None = None  # slurm, kubernetes

    def describe(self) -> str:
        if self.kind == "scheduler":
            return f"the Dask scheduler at {self.address}"
        if self.kind == "local":
            return f"a local Dask cluster of {self.workers} worker processes"
        assert self.file is not None
        return f"a {self.kind} cluster ({self.file.path})"


@dataclass(frozen=True)
class ClusterFile:
    """A cluster.yaml: dlgrade's keys, and the keyword arguments of the cluster class."""

    path: Path
    kind: str
    options: dict[str, Any]  # SLURMCluster's or KubeCluster's keyword arguments
    jobs: int | None = None  # slurm: jobs to submit
    workers: int | None = None  # kubernetes: worker pods
    adapt: dict[str, int] | None = None  # adaptive scaling: minimum/maximum (jobs or workers)
    allowed_failures: int = ALLOWED_FAILURES


def parse_target(scheduler: str | None, cluster: str | None) -> Target | None:
    """The target of ``--scheduler``/``--cluster`` (None: the local pool); UserError, in one line,
    for anything else."""
    if scheduler and cluster:
        raise UserError("--scheduler and --cluster name two clusters: give one of them")
    if scheduler:
        address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
        return Target("scheduler", address=address)
    if not cluster:
        return None
    kind, sep, value = cluster.partition(":")
    if not sep or kind not in KINDS:
        raise UserError(
            f"--cluster {cluster}: unknown kind {kind!r}; use local:N (N worker processes on "
            "this machine), slurm:cluster.yaml or kubernetes:cluster.yaml"
        )
    if kind == "local":
        if not value.isdigit() or int(value) < 1:
            raise UserError(f"--cluster {cluster}: local:N needs a number of workers, N >= 1")
        return Target("local", workers=int(value))
    return Target(kind, file=load_cluster_file(Path(value), kind))


_COMMON_KEYS = ("allowed-failures", "adapt")
_KEYS = {"slurm": ("jobs", "slurm"), "kubernetes": ("workers", "kubernetes")}


def load_cluster_file(path: Path, kind: str) -> ClusterFile:
    """A cluster.yaml for ``kind``, checked: FileLineError (file and line) for what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--cluster {kind}:{path}: cannot read it ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FileLineError(
            path, mark.line + 1 if mark else None, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    count_key, options_key = _KEYS[kind]
    if not isinstance(data, dict) or not isinstance(data.get(options_key), dict):
        raise FileLineError(
            path, 1, f"expected a mapping with '{options_key}:' (the {_CLASS[kind]} options)"
        )
    for key in data:
        if key not in (*_COMMON_KEYS, count_key, options_key):
            allowed = ", ".join((options_key, count_key, *_COMMON_KEYS))
            raise FileLineError(
                path, _line_of(text, key), f"unknown key {key!r} (known: {allowed})"
            )
    options = dict(data[options_key])
    if kind == "slurm":
        cores = options.get("cores")
        if not isinstance(cores, int) or cores < 1:
            raise FileLineError(
                path, _line_of(text, "cores"), "slurm: needs 'cores:', the cores of one job"
            )
        if not options.get("memory"):
            raise FileLineError(
                path, _line_of(text, "slurm"), "slurm: needs 'memory:', of one job (e.g. 32GB)"
            )
        processes = options.setdefault("processes", cores)
        if processes != cores:
            raise FileLineError(
                path,
                _line_of(text, "processes"),
                f"slurm: 'processes' ({processes}) must equal 'cores' ({cores}): one thread per "
                "worker process, so that a worker that dies is charged to one submission",
            )
    count = data.get(count_key)
    if count is not None and (not isinstance(count, int) or count < 1):
        raise FileLineError(path, _line_of(text, count_key), f"'{count_key}' must be a number >= 1")
    adapt = data.get("adapt")
    if adapt is not None and (
        not isinstance(adapt, dict)
        or set(adapt) - {"minimum", "maximum"}
        or not all(isinstance(v, int) and v >= 0 for v in adapt.values())
    ):
        raise FileLineError(
            path, _line_of(text, "adapt"), "'adapt' is {minimum: N, maximum: M} (whole numbers)"
        )
    if count is None and adapt is None:
        raise FileLineError(path, 1, f"say how many: '{count_key}: N', or 'adapt:'")
    failures = data.get("allowed-failures", ALLOWED_FAILURES)
    if not isinstance(failures, int) or failures < 0:
        raise FileLineError(
            path, _line_of(text, "allowed-failures"), "'allowed-failures' must be a number >= 0"
        )
    return ClusterFile(
        path,
        kind,
        options,
        jobs=count if kind == "slurm" else None,
        workers=count if kind == "kubernetes" else None,
        adapt=adapt,
        allowed_failures=failures,
    )


_CLASS = {
    "slurm": "dask_jobqueue.SLURMCluster",
    "kubernetes": "dask_kubernetes.operator.KubeCluster",
}


def _line_of(text: str, key: str, anywhere: bool = False) -> int | None:
    """The line that sets ``key`` (or, ``anywhere``, that names it at all)."""
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith(f"{key}:"):
            return number
    if anywhere:
        for number, line in enumerate(lines, 1):
            if re.search(rf"\b{re.escape(key)}\b", line):
                return number
    return None


# -- starting or reaching the cluster ----------------------------------------------------------
def _scheduler_config(allowed_failures: int) -> dict[str, Any]:
    """What a scheduler dlgrade starts is told: deaths tolerated per task, and no task queued on
    a worker behind the one it runs (a worker's death then implicates that one alone)."""
    return {
        "distributed.scheduler.allowed-failures": allowed_failures,
        "distributed.scheduler.worker-saturation": 1.0,
    }


def build_cluster(target: Target) -> Any:
    """The cluster object of a local, slurm or kubernetes target (started, not yet scaled)."""
    import dask

    if target.kind == "local":
        import logging

        from distributed import LocalCluster

        with dask.config.set(_scheduler_config(ALLOWED_FAILURES)):
            return LocalCluster(
                n_workers=target.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # a free port: other runs may hold 8787
                silence_logs=logging.CRITICAL,
            )
    file = target.file
    assert file is not None
    if file.kind == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise UserError(f"--cluster slurm: needs dask-jobqueue: {INSTALL}") from None
        factory: Any = SLURMCluster
    else:
        try:
            from dask_kubernetes.operator import KubeCluster
        except ImportError:
            raise UserError(
                "--cluster kubernetes: needs dask-kubernetes (pip install dask-kubernetes) and "
                "the Dask operator in the Kubernetes cluster"
            ) from None
        factory = KubeCluster
        env = _with_scheduler_env(file.options.get("env"), file)
        file = replace(file, options={**file.options, "env": env})
    with dask.config.set(_scheduler_config(file.allowed_failures)):
        try:
            return factory(**file.options)
        except (TypeError, ValueError, KeyError, OSError, RuntimeError) as exc:
            said = _first_line(exc).removeprefix("Cluster failed to start: ")
            said = said.split(". ")[0].rstrip(".:")
            named = re.search(r"'(\w+)'", said)
            text = file.path.read_text(encoding="utf-8")
            raise FileLineError(
                file.path,
                _line_of(text, named.group(1), anywhere=True) if named else None,
                f"{file.kind}: {_CLASS[file.kind]} refused it: {said}",
            ) from None


def _with_scheduler_env(env: Any, file: ClusterFile) -> Any:
    """The pods' environment (a mapping, or Kubernetes' list of {name, value}) with the
    scheduler's settings added where the file does not set them."""
    wanted = {
        "DASK_" + name.upper().replace(".", "__").replace("-", "_"): str(value)
        for name, value in _scheduler_config(file.allowed_failures).items()
    }
    if isinstance(env, list):
        named = {item.get("name") for item in env if isinstance(item, dict)}
        return env + [{"name": k, "value": v} for k, v in wanted.items() if k not in named]
    if env is not None and not isinstance(env, dict):
        raise FileLineError(file.path, None, "kubernetes: 'env' must be a mapping or a list")
    return {**wanted, **(env or {})}


def _has_dashboard(dask_scheduler: Any = None) -> bool:
    """Whether the scheduler can draw its dashboard (it serves the link's page only with bokeh)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def open_cluster(target: Target) -> ClusterDispatch:
    """Connects to (or starts) ``target``: a ClusterDispatch to grade with, and to close."""
    try:
        import distributed
    except ImportError:
        raise UserError(f"--scheduler and --cluster need Dask: {INSTALL}") from None
    cluster = None
    try:
        if target.kind == "scheduler":
            try:
                client = distributed.Client(
                    target.address, timeout=CONNECT_TIMEOUT, set_as_default=False
                )
            except (OSError, TimeoutError, ValueError) as exc:
                raise UserError(
                    f"cannot reach the Dask scheduler at {target.address} within "
                    f"{CONNECT_TIMEOUT} s ({_first_line(exc)}): is it running, and is the address "
                    "right (e.g. tcp://10.0.0.5:8786)?"
                ) from None
        else:
            cluster = build_cluster(target)  # its options checked first
            if target.kind == "slurm" and shutil.which("sbatch") is None:
                raise UserError(
                    "--cluster slurm: there is no sbatch here: run dlgrade grade on the Slurm "
                    "cluster's login node"
                )
            file = target.file
            if file is not None:
                if file.adapt is not None:
                    bounds = {
                        f"{b}_jobs" if file.kind == "slurm" else b: n for b, n in file.adapt.items()
                    }
                    cluster.adapt(**bounds)
                elif file.kind == "slurm":
                    cluster.scale(jobs=file.jobs)
                else:
                    cluster.scale(file.workers)
            client = distributed.Client(cluster, set_as_default=False)
    except BaseException:
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
        raise
    dispatch = ClusterDispatch(client, cluster, target)
    try:
        dispatch.check_scheduler()
    except BaseException:
        dispatch.close()
        raise
    return dispatch


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- grading through it --------------------------------------------------------------------------
@dataclass
class ClusterDispatch:
    """A run's connection to its Dask cluster: what grade_class grades through (grade.Dispatch)."""

    client: Any
    cluster: Any
    target: Target
    timings: dict[str, float] = field(default_factory=dict)  # where the overhead goes
    _requirement: Requirement | None = None
    _plugin: str | None = None

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def dashboard_link(self) -> str | None:
        """The scheduler's dashboard, where it has one."""
        try:
            if "dashboard" not in self.client.scheduler_info()["services"]:
                return None
            if not self.client.run_on_scheduler(_has_dashboard):
                return None
            return str(self.client.dashboard_link)
        except Exception:
            return None

    def threads(self) -> int:
        return int(sum(self.client.nthreads().values()))

    def check_scheduler(self) -> None:
        """A scheduler dlgrade did not start must queue no task behind a running one (worker
        saturation 1.0): a worker's death would implicate both."""
        if self.cluster is not None:
            return
        saturation = self.client.run_on_scheduler(_saturation)
        if saturation != 1.0:
            raise UserError(
                f"the Dask scheduler at {self.address} queues more than one task per worker "
                f"thread (worker-saturation {saturation}), so a submission that kills its worker "
                "would be charged to the task queued behind it too; start it with "
                "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0"
            )

    def describe(self) -> str:
        workers = len(self.client.nthreads())
        text = f"grading on {self.target.describe()}: scheduler {self.address}, " + (
            f"{plural(workers, 'worker')} now"
            if workers
            else "no worker yet (grading starts as they join)"
        )
        link = self.dashboard_link()
        return f"{text}; dashboard: {link}" if link else text

    def close(self) -> None:
        if self._plugin is not None:
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(self._plugin)
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def __enter__(self) -> ClusterDispatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- grade.Dispatch ---------------------------------------------------------------------
    def isolation(self, trusted: bool) -> Isolation:
        """bubblewrap, required of every worker; with ``trusted``, ``process``: what is then
        promised of every worker, whatever each offers (so that the files say the same whichever
        worker graded what)."""
        from grader.sandbox.isolation import Isolation

        if trusted:
            return Isolation(
                "process", "--trust-submissions: the cluster's workers were not required to sandbox"
            )
        return Isolation("bubblewrap")

    def references(
        self, course: Course, setting: Setting, tasks: list[Task]
    ) -> Generator[tuple[Task, dict[str, Any]], None, None]:
        for job, outcome in self._stream(course, setting, deque([t] for t in tasks), "reference"):
            if isinstance(outcome, list):
                yield from zip(job, outcome, strict=True)
            else:
                raise GraderError(
                    f"grading the reference solution of {job[0].exercise} ended "
                    f"{_times(outcome)} grading workers"
                )

    def grade(
        self, course: Course, setting: Setting, tasks: list[Task]
    ) -> Generator[tuple[Task, dict[str, Any]], None, None]:
        from grader.instructor.grade import _jobs

        if not tasks:
            return
        queue = deque(_jobs(tasks, max(1, self.threads())))
        with contextlib.closing(self._stream(course, setting, queue, "grade")) as stream:
            for job, outcome in stream:
                if isinstance(outcome, list):
                    yield from zip(job, outcome, strict=True)
                elif len(job) > 1:  # which of its pairs did it? each is tried alone, first
                    queue.extendleft([task] for task in reversed(job))
                else:
                    task = job[0]
                    yield (
                        task,
                        missing_result(
                            course,
                            task.exercise,
                            f"grading {task.shown_as} stopped its grading worker {_times(outcome)} "
                            "times; it was given up (the other submissions were graded)",
                        ),
                    )

    # -- the machinery ------------------------------------------------------------------------
    def _prepare(self, course: Course, setting: Setting) -> Requirement:
        """Sends the course (once per course and secret) and checks every worker there is now;
        WorkerRefused names the first that cannot grade for this run."""
        from grader.instructor.cluster_worker import (
            CoursePlugin,
            Requirement,
            WorkerRefused,
            check_worker,
        )
        from grader.instructor.course_archive import pack
        from grader.instructor.ledger import engine_digest

        started = time.perf_counter()
        archive = pack(course)
        packed = time.perf_counter()
        requirement = Requirement(
            archive.digest, setting.isolation, engine_digest(), setting.budget
        )
        if requirement == self._requirement:
            return requirement
        plugin = CoursePlugin(archive)
        try:
            self.client.register_plugin(plugin)
        except Exception as exc:
            raise WorkerRefused(
                f"a worker could not unpack the course: {_first_line(exc)}"
            ) from None
        self._plugin = plugin.name
        sent = time.perf_counter()
        reports = self.client.run(check_worker, requirement)
        for report in reports.values():
            if report["refusal"] is not None:
                raise WorkerRefused(f"{report['worker']} refuses to grade: {report['refusal']}")
        checked = time.perf_counter()
        self.timings.update(
            archive_bytes=archive.size,
            archive_s=packed - started,
            send_course_s=sent - packed,
            check_workers_s=checked - sent,
        )
        self._requirement = requirement
        return requirement

    def _stream(
        self, course: Course, setting: Setting, queue: deque[list[Task]], name: str
    ) -> Generator[tuple[list[Task], list[dict[str, Any]] | BaseException], None, None]:
        """Yields (job, its results) as the jobs of ``queue`` finish, or (job, KilledWorker) for
        one whose workers kept dying; the caller may add jobs to ``queue`` meanwhile. At most a
        window of jobs is at the scheduler at once; on the way out (done, an error, closed) what
        is left there is cancelled."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        from grader.instructor.cluster_worker import Job, grade_job

        requirement = self._prepare(course, setting)
        token = f"dlgrade-{name}-{uuid.uuid4().hex[:8]}"
        running: dict[Any, list[Task]] = {}
        finished = as_completed(loop=self.client.loop)
        counter = 0
        window_at = 0.0
        window = MIN_WINDOW

        def refill() -> None:
            nonlocal counter, window, window_at
            if time.monotonic() - window_at > 2:
                window = max(MIN_WINDOW, WINDOW_PER_THREAD * self.threads())
                window_at = time.monotonic()
            while queue and len(running) < window:
                job = queue.popleft()
                counter += 1
                future = self.client.submit(
                    grade_job, Job(requirement, tuple(job)), key=(token, counter), pure=False
                )
                running[future] = job
                finished.add(future)

        try:
            refill()
            for future in finished:
                job = running.pop(future)
                try:
                    outcome: list[dict[str, Any]] | BaseException = future.result()
                except KilledWorker as exc:
                    outcome = exc
                except (OSError, TimeoutError, asyncio.CancelledError, cf.CancelledError) as exc:
                    raise UserError(
                        f"lost the Dask scheduler at {self.address}, or it dropped the run's tasks "
                        f"({_first_line(exc)}); what was graded is kept: run the command again "
                        "for the rest"
                    ) from None
                yield job, outcome
                refill()
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.cancel(list(running), force=True)
            raise
        finally:
            finished.clear()


def _saturation(dask_scheduler: Any) -> float:
    return float(dask_scheduler.WORKER_SATURATION)


def _times(exc: BaseException) -> int:
    return int(getattr(exc, "allowed_failures", ALLOWED_FAILURES)) + 1
