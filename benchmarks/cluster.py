"""A class through `--cluster local:2` beside the local pool of 2 processes, on the same machine.

    python benchmarks/cluster.py [--students 100] [--runs 3] [--out benchmarks/cluster.json]

Generates the class of benchmarks/run.py (six exercises, reference, stub and known mistakes mixed,
hidden tests) and grades it, alternately, with the local pool (``--workers 2``) and with a
LocalCluster of 2 worker processes, each run a fresh `dlgrade grade` process into an empty
folder, and checks that both write the same bytes. Pairs per second are end to end (the command's
wall time, the cluster's start and stop included) and in-run (grade_class alone, as the command's
summary counts it). The issue's target: the cluster at most 15% slower end to end.

Where the cluster's extra time goes is measured inside its runs: the cluster's start (scheduler,
nannies, worker processes), packing and sending the course archive and checking the workers, the
workers' idle gaps between tasks (scheduling: a result to the scheduler, the next task to the
worker), deserializing tasks, each worker's first task beyond the median (its imports: pytest,
the graders, torch), and the serialized size of the tasks and results. Prints a table; writes
JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "tests")]

EXERCISES = ("perceptron", "softmax", "backprop", "conv", "lstm", "qlearning")
TARGET_OVERHEAD = 0.15


def one_run(mode: str, subs: Path, out: Path) -> dict[str, Any]:
    """One `dlgrade grade` of ``subs`` in this process (``mode``: pool or cluster), with what it
    measured: called in a child process by :func:`timed_run`."""
    from grader.course import Course
    from grader.instructor.grade import grade_class

    course = Course.load(REPO)
    row: dict[str, Any] = {}
    if mode == "pool":
        started = time.perf_counter()
        summary = grade_class(course, subs, out, workers=2)
        row["run_s"] = time.perf_counter() - started
        row["graded"] = summary["graded"]
        return row
    from distributed import get_task_stream

    from grader.instructor.cluster import Target, open_cluster

    started = time.perf_counter()
    dispatch = open_cluster(Target("local", workers=2))
    row["start_s"] = time.perf_counter() - started
    try:
        with get_task_stream(client=dispatch.client) as stream:
            began = time.time()
            run_started = time.perf_counter()
            summary = grade_class(course, subs, out, dispatch=dispatch)
            row["run_s"] = time.perf_counter() - run_started
            ended = time.time()
        row.update(dispatch.timings)
        row.update(task_figures(stream.data, began, ended))
    finally:
        closing = time.perf_counter()
        dispatch.close()
        row["close_s"] = time.perf_counter() - closing
    row["graded"] = summary["graded"]
    row.update(serialized_sizes(course, subs, out))
    return row


def task_figures(records: list[dict[str, Any]], began: float, ended: float) -> dict[str, Any]:
    """From the scheduler's task stream: computing, idle gaps between tasks, deserializing, and
    each worker's first task beyond the median task."""
    by_worker: dict[str, list[tuple[float, float]]] = {}
    deserialize = transfer = 0.0
    for record in records:
        for part in record.get("startstops", ()):
            span = part["stop"] - part["start"]
            if part["action"] == "compute":
                by_worker.setdefault(record["worker"], []).append((part["start"], part["stop"]))
            elif part["action"] == "deserialize":
                deserialize += span
            elif part["action"] == "transfer":
                transfer += span
    computes = [stop - start for spans in by_worker.values() for start, stop in spans]
    gaps, first_extra, lead, tail = 0.0, 0.0, [], []
    typical = statistics.median(computes) if computes else 0.0
    for spans in by_worker.values():
        spans.sort()
        gaps += sum(max(0.0, b[0] - a[1]) for a, b in zip(spans, spans[1:], strict=False))
        first_extra += max(0.0, spans[0][1] - spans[0][0] - typical)
        lead.append(spans[0][0] - began)
        tail.append(ended - spans[-1][1])
    workers = max(1, len(by_worker))
    return {
        "tasks": len(computes),
        "compute_s": sum(computes),
        "idle_gaps_s": gaps / workers,  # per worker: the run's wall time they cost
        "deserialize_s": deserialize / workers,
        "transfer_s": transfer / workers,
        "first_task_extra_s": first_extra / workers,
        "lead_s": statistics.mean(lead) if lead else 0.0,  # run start to a worker's first task
        "tail_s": statistics.mean(tail) if tail else 0.0,  # a worker's last task to the run's end
        "median_task_s": typical,
    }


def serialized_sizes(course: Any, subs: Path, out: Path) -> dict[str, Any]:
    """What the run's tasks and results weigh, pickled as Dask sends them, and the time that
    takes here."""
    from grader.instructor.cluster_worker import Job, Requirement
    from grader.instructor.grade import _jobs, plan
    from grader.instructor.ledger import Ledger
    from grader.instructor.secret import class_secret
    from grader.sandbox.isolation import Isolation

    tasks, _, _ = plan(
        course, subs, list(course.exercises), secret=class_secret(course), budget=60.0, out=out
    )
    requirement = Requirement("0" * 64, Isolation("bubblewrap"), "e" * 64, 60.0)
    jobs = [Job(requirement, tuple(job)) for job in _jobs(tasks, 2)]
    started = time.perf_counter()
    sent = sum(len(pickle.dumps(job)) for job in jobs)
    ledger = Ledger(out / "grading.sqlite")
    results = ledger.results()
    ledger.close()
    back = sum(len(pickle.dumps(r)) for r in results.values())
    return {
        "task_bytes": sent,
        "result_bytes": back,
        "pickle_s": time.perf_counter() - started,
    }


def timed_run(mode: str, subs: Path, out: Path) -> dict[str, Any]:
    """One run in a fresh process: its wall time, and what it measured."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--one", mode, str(subs), str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the {mode} run failed:\n{proc.stderr[-3000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["wall_s"] = wall
    return row


def same_bytes(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and "sqlite" not in p.name)
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in files) and len(files) == len(
        [p for p in b.rglob("*") if p.is_file() and "sqlite" not in p.name]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "cluster.json")
    parser.add_argument("--one", nargs=3, metavar=("MODE", "SUBS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        mode, subs, out = args.one
        print(json.dumps(one_run(mode, Path(subs), Path(out))))
        return

    from run import make_class

    runs: dict[str, list[dict[str, Any]]] = {"pool": [], "cluster": []}
    load_before = os.getloadavg()[1]  # others' work on the machine slows both alike
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        make_class(subs, args.students)
        same = True
        for i in range(args.runs):
            order = ("pool", "cluster") if i % 2 == 0 else ("cluster", "pool")
            for mode in order:
                out = Path(tmp) / f"{mode}-{i}"
                runs[mode].append(timed_run(mode, subs, out))
                print(f"run {i + 1} {mode}: {runs[mode][-1]['wall_s']:.1f} s", file=sys.stderr)
            same = same and same_bytes(Path(tmp) / f"pool-{i}", Path(tmp) / f"cluster-{i}")
    pairs = args.students * len(EXERCISES)

    def median(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[mode])

    row: dict[str, Any] = {
        "students": args.students,
        "pairs": pairs,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "load_average_5min": [round(load_before, 2), round(os.getloadavg()[1], 2)],
        "same_bytes": same,
        "pool_wall_s": median("pool", "wall_s"),
        "cluster_wall_s": median("cluster", "wall_s"),
        "pool_run_s": median("pool", "run_s"),
        "cluster_run_s": median("cluster", "run_s"),
    }
    row["pool_pairs_per_s"] = pairs / row["pool_wall_s"]
    row["cluster_pairs_per_s"] = pairs / row["cluster_wall_s"]
    row["overhead"] = row["cluster_wall_s"] / row["pool_wall_s"] - 1
    row["overhead_in_run"] = row["cluster_run_s"] / row["pool_run_s"] - 1
    parts = (
        "start_s",
        "close_s",
        "archive_s",
        "archive_bytes",
        "send_course_s",
        "check_workers_s",
        "idle_gaps_s",
        "deserialize_s",
        "transfer_s",
        "first_task_extra_s",
        "lead_s",
        "tail_s",
        "median_task_s",
        "compute_s",
        "tasks",
        "task_bytes",
        "result_bytes",
        "pickle_s",
    )
    row["cluster_parts"] = {k: median("cluster", k) for k in parts}
    row["met"] = row["overhead"] <= TARGET_OVERHEAD and same
    row["all_runs"] = runs
    args.out.write_text(json.dumps(row, indent=1) + "\n")
    p = row["cluster_parts"]
    print(
        f"local pool, 2 processes : {row['pool_pairs_per_s']:.2f} pairs/s "
        f"({row['pool_wall_s']:.1f} s end to end, {row['pool_run_s']:.1f} s in the run)\n"
        f"--cluster local:2       : {row['cluster_pairs_per_s']:.2f} pairs/s "
        f"({row['cluster_wall_s']:.1f} s end to end, {row['cluster_run_s']:.1f} s in the run)\n"
        f"overhead                : {row['overhead']:+.1%} end to end, "
        f"{row['overhead_in_run']:+.1%} in the run (target <= {TARGET_OVERHEAD:.0%}: "
        f"{'met' if row['met'] else 'NOT met'}); same bytes: {same}\n"
        f"where it goes           : cluster start {p['start_s']:.2f} s, stop {p['close_s']:.2f} s; "
        f"archive {p['archive_bytes'] / 1024:.0f} KiB packed in {p['archive_s'] * 1e3:.0f} ms, "
        f"sent in {p['send_course_s'] * 1e3:.0f} ms, workers checked in "
        f"{p['check_workers_s'] * 1e3:.0f} ms; idle between tasks {p['idle_gaps_s']:.2f} s, "
        f"deserializing {p['deserialize_s']:.3f} s per worker; first task beyond the median "
        f"{p['first_task_extra_s']:.2f} s per worker; tasks {p['task_bytes'] / 1024:.0f} KiB, "
        f"results {p['result_bytes'] / 1024:.0f} KiB pickled"
    )


if __name__ == "__main__":
    main()
