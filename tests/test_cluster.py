"""`dlgrade grade --cluster/--scheduler`: a class graded by Dask workers writes the bytes the local
pool writes, survives a worker killed mid-run and a coordinator killed and restarted, gives up a
submission that keeps killing its worker, refuses a worker below the run's isolation level, and
says what is wrong with bad options in one line. Every cluster here binds 127.0.0.1 only."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from attacks import HONEST, HONEST2, STUB_COIN, write_course
from click.testing import CliRunner
from conftest import REPO
from helpers import uid_base
from test_attacks import KILL_SWITCH

from grader.cli import cli
from grader.course import Course
from grader.errors import UserError
from grader.instructor import cluster as cluster_mod
from grader.instructor.cluster import Target, open_cluster, parse_target
from grader.instructor.course_archive import (
    ArchiveMismatch,
    manifest_digest,
    pack,
    unpack,
    verify,
)
from grader.instructor.grade import grade_class
from grader.sandbox.isolation import bwrap

DLGRADE = [sys.executable, "-c", "from grader.cli import main; main()"]
needs_bwrap = pytest.mark.skipif(
    bwrap() is None, reason="bubblewrap cannot build a sandbox on this machine"
)

SLOW_ECHO = '''
import time

import pytest


@pytest.mark.points(1)
@pytest.mark.time_limit(5)
def test_echo(student):
    """echo("hello") is "hello" (a grader that takes its time, so a run can be cut mid-way)."""
    time.sleep(0.3)
    assert student.echo("hello") == "hello"
'''


def toy_class(root: Path, n: int, echo_graders: str | None = None) -> tuple[Course, Path]:
    """The toy course of tests/attacks.py (its toy2 graders replaced by ``echo_graders``) and
    ``n`` students: honest, a stub, a wrong echo, a missing file, in turn."""
    course = write_course(root / "course")
    if echo_graders is not None:
        (course / "solutions" / "test_toy2.py").write_text(textwrap.dedent(echo_graders))
    subs = root / "subs"
    for i in range(n):
        folder = subs / f"p{i:02d}"
        folder.mkdir(parents=True)
        kind = i % 4
        if kind != 3:
            (folder / "toy2.py").write_text(
                [
                    HONEST2,
                    "def echo(text):\n    raise NotImplementedError\n",
                    "def echo(text):\n    return text.upper()\n",
                ][kind]
            )
        (folder / "toy.py").write_text(
            HONEST if kind != 1 else HONEST.split("\n\ndef coin")[0] + STUB_COIN
        )
    return Course.load(course), subs


def output_files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and "sqlite" not in p.name
    }


def assert_same_outputs(local: Path, cluster: Path) -> None:
    mine, theirs = output_files(local), output_files(cluster)
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        assert mine[name] == theirs[name], name


def env_for(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DLGRADE_UID_BASE": str(uid_base(9)),
        **extra,
    }


# -- the options ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scheduler", "cluster", "says"),
    [
        (None, "yarn:x.yaml", "unknown kind 'yarn'"),
        (None, "local", "unknown kind 'local'"),
        (None, "local:0", "local:N needs a number of workers"),
        (None, "local:two", "local:N needs a number of workers"),
        ("tcp://127.0.0.1:1", "local:2", "give one of them"),
    ],
)
def test_bad_cluster_options_are_one_line(
    scheduler: str | None, cluster: str | None, says: str
) -> None:
    with pytest.raises(UserError, match=says):
        parse_target(scheduler, cluster)


def test_a_scheduler_address_gets_its_protocol() -> None:
    assert parse_target("10.0.0.5:8786", None) == Target("scheduler", address="tcp://10.0.0.5:8786")
    assert parse_target(None, None) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("slurm: [1, 2\n", "not valid YAML"),
        ("jobs: 2\n", "expected a mapping with 'slurm:'"),
        ("jobs: 2\nqueue: cpu\nslurm: {cores: 4, memory: 4GB}\n", ":2: unknown key 'queue'"),
        (
            "jobs: 2\nslurm:\n  cores: 4\n  memory: 4GB\n  processes: 2\n",
            ":5: slurm: 'processes' (2)",
        ),
        ("jobs: 2\nslurm:\n  memory: 4GB\n", "slurm: needs 'cores:'"),
        ("jobs: 0\nslurm: {cores: 4, memory: 4GB}\n", ":1: 'jobs' must be a number >= 1"),
        ("jobs: 1\nslurm: {cores: 4}\n", ":2: slurm: needs 'memory:'"),
        ("slurm: {cores: 4, memory: 4GB}\n", "say how many"),
        ("jobs: 1\nslurm: {cores: 4, memory: 4GB, no_such_option: 1}\n", ":2: slurm: dask_jobq"),
        (
            "jobs: 1\nslurm:\n  cores: 4\n  memory: 4GB\n  interface: nosuch0\n",
            ":5: slurm: dask_jobq",
        ),
    ],
)
def test_a_bad_cluster_yaml_is_one_line_and_exit_2(tmp_path: Path, text: str, says: str) -> None:
    course, subs = toy_class(tmp_path, 1)
    (tmp_path / "cluster.yaml").write_text(text)
    result = CliRunner().invoke(
        cli,
        [
            "--course",
            str(course.root),
            "grade",
            str(subs),
            "--out",
            str(tmp_path / "out"),
            "--cluster",
            f"slurm:{tmp_path / 'cluster.yaml'}",
        ],
    )
    assert result.exit_code == 2, result.output
    assert says in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output


def test_an_unknown_cluster_kind_and_workers_with_a_cluster_are_exit_2(tmp_path: Path) -> None:
    course, subs = toy_class(tmp_path, 1)
    base = ["--course", str(course.root), "grade", str(subs), "--out", str(tmp_path / "out")]
    for extra, says in (
        (["--cluster", "yarn:x"], "unknown kind 'yarn'"),
        (["--cluster", "local:2", "--workers", "2"], "--workers sizes the local pool"),
    ):
        result = CliRunner().invoke(cli, [*base, *extra])
        assert result.exit_code == 2 and says in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_an_unreachable_scheduler_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setattr(cluster_mod, "CONNECT_TIMEOUT", 2)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    course, subs = toy_class(tmp_path, 1)
    result = CliRunner().invoke(
        cli,
        [
            "--course",
            str(course.root),
            "grade",
            str(subs),
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            f"127.0.0.1:{port}",
        ],
    )
    assert result.exit_code == 2, result.output
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_kubernetes_without_dask_kubernetes_says_what_to_install(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("dask_kubernetes") is not None:
        pytest.skip("dask-kubernetes is installed here")
    target = parse_target(None, f"kubernetes:{REPO / 'examples' / 'cluster-kubernetes.yaml'}")
    with pytest.raises(UserError, match="pip install dask-kubernetes"):
        open_cluster(target)


def test_slurm_away_from_its_login_node_says_where_to_run(tmp_path: Path) -> None:
    import shutil

    if shutil.which("sbatch") is not None:
        pytest.skip("Slurm is installed here")
    course, subs = toy_class(tmp_path, 1)
    (tmp_path / "cluster.yaml").write_text(
        "jobs: 2\nslurm:\n  cores: 2\n  memory: 4GB\n  scheduler_options: {host: 127.0.0.1}\n"
    )
    result = CliRunner().invoke(
        cli,
        [
            "--course",
            str(course.root),
            "grade",
            str(subs),
            "--out",
            str(tmp_path / "out"),
            "--cluster",
            f"slurm:{tmp_path / 'cluster.yaml'}",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "there is no sbatch here" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_the_slurm_job_script_runs_one_thread_per_worker(tmp_path: Path) -> None:
    """The example's SLURMCluster writes the job script an instructor expects (dask-jobqueue
    prints it without Slurm): the partition, account, cores, memory and walltime asked for, the
    prologue, one thread per worker process and as many processes as cores."""
    data = yaml.safe_load((REPO / "examples" / "cluster-slurm.yaml").read_text())
    data["slurm"].pop("interface")  # no ib0 here: the scheduler listens on loopback
    data["slurm"]["scheduler_options"] = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(data))
    target = parse_target(None, f"slurm:{tmp_path / 'cluster.yaml'}")
    assert target is not None and target.file is not None and target.file.jobs == 8
    slurm = cluster_mod.build_cluster(target)
    try:
        script = slurm.job_script()
        address = slurm.scheduler_address
    finally:
        slurm.close()
    for line in (
        "#SBATCH -p cpu",
        "#SBATCH -A dl-course",
        "#SBATCH --cpus-per-task=16",
        "#SBATCH --mem=30G",
        "#SBATCH -t 01:00:00",
        "#SBATCH -J dlgrade",
        "source /opt/dlgrade/.venv/bin/activate",
    ):
        assert line in script, (line, script)
    assert "/opt/dlgrade/.venv/bin/python -m distributed.cli.dask_worker" in script
    assert address.startswith("tcp://127.0.0.1:") and address in script
    assert "--nthreads 1 " in script and "--nworkers 16 " in script and "--nanny" in script
    assert "--lifetime 55m" in script


# -- the archive -----------------------------------------------------------------------------
def test_the_course_archive_is_content_addressed_and_checked(tmp_path: Path) -> None:
    course, subs = toy_class(tmp_path, 2)
    from grader.instructor.secret import class_secret

    class_secret(course)
    (course.solutions_dir / "__pycache__").mkdir()
    (course.solutions_dir / "__pycache__" / "x.pyc").write_bytes(b"junk")
    archive = pack(course)
    assert sorted(archive.files) == [
        "course.yaml",
        "solutions/.class-secret",
        "solutions/test_toy.py",
        "solutions/test_toy2.py",
        "solutions/toy.py",
        "solutions/toy2.py",
    ]
    assert not any("p00" in name for name in archive.files)  # no student's file travels
    assert archive.digest == manifest_digest(archive.files) == pack(course).digest
    folder = unpack(archive, tmp_path / "cache")
    assert folder.name == archive.digest and oct(folder.stat().st_mode & 0o777) == "0o700"
    assert verify(folder, archive.digest) == folder
    (folder / "solutions" / "test_toy2.py").write_text("# changed on the worker\n")
    with pytest.raises(ArchiveMismatch):
        verify(folder, archive.digest)
    assert unpack(archive, tmp_path / "cache") == folder  # made again, and right
    assert verify(folder, archive.digest) == folder
    forged = type(archive)(archive.digest, {**archive.files, "course.yaml": b"title: x\n"})
    with pytest.raises(ArchiveMismatch, match="does not match its digest"):
        unpack(forged, tmp_path / "other")
    (course.solutions_dir / ".class-secret").write_text("0" * 64 + "\n")
    assert pack(course).digest != archive.digest  # a new secret is a new course


def test_a_worker_refuses_what_it_cannot_promise(tmp_path: Path) -> None:
    from grader.instructor.cluster_worker import Requirement, refusal
    from grader.instructor.ledger import engine_digest
    from grader.sandbox.isolation import Isolation

    bubble = Requirement("d", Isolation("bubblewrap"), engine_digest(), 60.0)
    assert "runs 4 threads" in (refusal(bubble, tmp_path, 4) or "")
    other = Requirement("d", Isolation("process"), "another", 60.0)
    assert "another dlgrade" in (refusal(other, tmp_path, 1) or "")
    easy = Requirement("d", Isolation("process"), engine_digest(), 60.0)
    assert refusal(easy, tmp_path, 1) is None


# -- the local pool imports no Dask --------------------------------------------------------------
def test_a_local_run_imports_no_dask(tmp_path: Path) -> None:
    course, subs = toy_class(tmp_path, 2)
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('dask imported:', sorted({m.split('.')[0] for m in "
        "sys.modules} & {'dask', 'distributed', 'dask_jobqueue'})))\n"
        "from grader.cli import main\n"
        "main()\n"
    )
    args = [
        sys.executable,
        "-c",
        probe,
        "--course",
        str(course.root),
        "grade",
        str(subs),
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "1",
        "--exercise",
        "toy2",
    ]
    if bwrap() is None:
        args.append("--trust-submissions")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env_for())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "dask imported: []" in proc.stdout, proc.stdout


# -- grading on a cluster ------------------------------------------------------------------------
@needs_bwrap
def test_a_class_of_forty_on_two_workers_writes_the_local_pools_bytes(
    course: Course, tmp_path: Path
) -> None:
    from test_grade import FAST, make_class

    submissions = tmp_path / "subs"
    make_class(course, submissions, n=40)
    local = grade_class(course, submissions, tmp_path / "local", exercises=list(FAST), workers=2)
    with open_cluster(Target("local", workers=2)) as dispatch:
        assert len(dispatch.client.nthreads()) == 2
        assert set(dispatch.client.nthreads().values()) == {1}
        seen: list[tuple[int, int]] = []
        remote = grade_class(
            course,
            submissions,
            tmp_path / "cluster",
            exercises=list(FAST),
            dispatch=dispatch,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert local["graded"] == remote["graded"] == 80 and remote["isolation"].level == "bubblewrap"
    assert seen[0] == (0, 80) and seen[-1] == (80, 80) and len(seen) == 81
    assert_same_outputs(tmp_path / "local", tmp_path / "cluster")


@needs_bwrap
def test_a_worker_killed_mid_run_changes_nothing(tmp_path: Path) -> None:
    course, subs = toy_class(tmp_path, 12, SLOW_ECHO)
    grade_class(course, subs, tmp_path / "local", exercises=["toy2"], workers=2)
    killed: list[int] = []
    with open_cluster(Target("local", workers=2)) as dispatch:

        def progress(done: int, total: int) -> None:
            if killed or done < 3:
                return
            busy = [w for w, keys in dispatch.client.processing().items() if keys]
            if busy:
                pid = dispatch.client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        summary = grade_class(
            course,
            subs,
            tmp_path / "cluster",
            exercises=["toy2"],
            dispatch=dispatch,
            progress=progress,
        )
        assert killed, "no worker was busy to be killed"
        assert killed[0] not in dispatch.client.run(os.getpid).values()
    assert summary["graded"] == 12
    assert_same_outputs(tmp_path / "local", tmp_path / "cluster")


def test_a_submission_that_kills_its_worker_is_given_up_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    """A grader that dies of one student's answer (what a submission could do if it ever got
    out of the sandbox) ends a worker; after it ended allowed-failures + 1 of them that student
    gets the error, everyone else their grade, and a run started again does not retry it."""
    course, subs = toy_class(tmp_path, 0, KILL_SWITCH)
    for i in range(5):
        (subs / f"h{i}").mkdir(parents=True)
        (subs / f"h{i}" / "toy2.py").write_text(HONEST2)
    (subs / "killer").mkdir()
    (subs / "killer" / "toy2.py").write_text("def echo(text):\n    return 'KILL'\n")
    args = [
        *DLGRADE,
        "--course",
        str(course.root),
        "grade",
        str(subs),
        "--out",
        str(tmp_path / "out"),
        "--exercise",
        "toy2",
        "--cluster",
        "local:2",
    ]
    if bwrap() is None:
        args.append("--trust-submissions")
    first = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env_for())
    assert first.returncode == 0, first.stderr[-3000:]
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    assert {rows[f"h{i}"]["toy2"] for i in range(5)} == {"1"}
    assert rows["killer"]["toy2"] == "0"
    mine = json.loads((tmp_path / "out" / "killer.json").read_text())
    message = mine[0]["tests"][0]["message"]
    assert "grading killer/toy2.py stopped its grading worker 2 times" in message, message
    again = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env_for())
    assert again.returncode == 0 and "graded 0 submissions" in again.stdout, again.stdout


@needs_bwrap
def test_a_coordinator_killed_and_started_again_resumes(tmp_path: Path) -> None:
    course, subs = toy_class(tmp_path, 24, SLOW_ECHO)
    base = [*DLGRADE, "--course", str(course.root), "grade", str(subs), "--exercise", "toy2"]
    first = tmp_path / "first"
    args = [*base, "--out", str(first), "--cluster", "local:2"]
    proc = subprocess.Popen(
        args,
        env=env_for(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    rows = 0
    while rows < 5:
        assert time.monotonic() < deadline and proc.poll() is None, "ended before it was killed"
        time.sleep(0.2)
        try:
            db = sqlite3.connect(first / "grading.sqlite")
            rows = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            db.close()
        except sqlite3.Error:
            rows = 0
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (first / "grades.csv").exists()
    again = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env_for())
    assert again.returncode == 0, again.stderr[-3000:]
    kept = int(again.stdout.split(" unchanged since the last run kept")[0].rsplit(" ", 1)[-1])
    assert 5 <= kept < 24, again.stdout
    assert f"graded {24 - kept} submissions" in again.stdout, again.stdout
    whole = tmp_path / "whole"
    local = subprocess.run(
        [*base, "--out", str(whole), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env_for(),
    )
    assert local.returncode == 0, local.stderr[-3000:]
    assert_same_outputs(whole, first)


@needs_bwrap
def test_a_worker_without_the_runs_isolation_level_refuses(tmp_path: Path) -> None:
    """A worker started with DLGRADE_NO_BWRAP=1 offers less than bubblewrap: the run stops before
    grading anyone, in one line naming the worker and why."""
    import dask
    from distributed import LocalCluster

    course, subs = toy_class(tmp_path, 2)
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        weak = LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            env={"DLGRADE_NO_BWRAP": "1"},
        )
    with weak:
        worker = next(iter(weak.workers.values())).worker_address
        result = subprocess.run(
            [
                *DLGRADE,
                "--course",
                str(course.root),
                "grade",
                str(subs),
                "--out",
                str(tmp_path / "out"),
                "--scheduler",
                weak.scheduler_address,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env_for(),
        )
    assert result.returncode == 2, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"dlgrade: error: worker {worker} on "), line
    assert "refuses to grade" in line and "DLGRADE_NO_BWRAP" in line, line
    assert "requires bubblewrap" in line and "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_a_scheduler_that_queues_behind_running_tasks_is_refused(tmp_path: Path) -> None:
    """A scheduler dlgrade did not start must send each worker thread one task at a time."""
    from distributed import LocalCluster

    course, subs = toy_class(tmp_path, 1)
    with LocalCluster(
        n_workers=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as queued:
        result = CliRunner().invoke(
            cli,
            [
                "--course",
                str(course.root),
                "grade",
                str(subs),
                "--out",
                str(tmp_path / "out"),
                "--scheduler",
                queued.scheduler_address,
            ],
        )
    assert result.exit_code == 2, result.output
    assert "WORKER_SATURATION=1.0" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
