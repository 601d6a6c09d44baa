"""All the speed figures in one run, each beside its floor or competitor measured in the same run.

    python benchmarks/run.py [--runs 5] [--students 100] [--out benchmarks/results.json]
    python benchmarks/run.py --smoke          # one repetition, 3 students: seconds, for CI

Rows: `dlgrade check` first run and cached (against `import torch, numpy` and
`import numpy`), quiz start-up with 1,000 questions (against `python -c pass`),
sandbox worker start and round trip, and grading a class of generated
submissions (reference, stub and known mistakes mixed; six exercises, hidden
tests) with `dlgrade grade`, beside `nbgrader autograde` of the same students'
notebooks where nbgrader is installed. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "tests")]

EXERCISES = ("perceptron", "softmax", "backprop", "conv", "lstm", "qlearning")


def _median(fn, runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


class PeakMemory:
    """The largest total resident memory of a process and all its descendants, sampled."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for pid in self._tree():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
                except OSError:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def make_class(root: Path, students: int) -> None:
    """``students`` folders, each with all six exercises: the reference, the stub or a mistake."""
    from edit_source import replace_functions
    from test_mistakes import MISTAKES, as_submission_function

    from grader.course import Course

    course = Course.load(REPO)
    by_exercise = {e: [m for x, m in MISTAKES if x == e] for e in EXERCISES}
    for i in range(students):
        folder = root / f"s{i:03d}"
        folder.mkdir(parents=True)
        for j, e in enumerate(EXERCISES):
            kind = (i + j) % 3
            if kind == 0:
                text = course.solution(e).read_text()
            elif kind == 1:
                text = course.stub(e).read_text()
            else:
                m = by_exercise[e][(i + j) % len(by_exercise[e])]
                text = replace_functions(
                    course.solution(e).read_text(), **{m.function: as_submission_function(m)}
                )
            (folder / f"{e}.py").write_text(text)


def grade_class(students: int) -> dict[str, float]:
    exe = shutil.which("dlgrade") or "dlgrade"
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        make_class(subs, students)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [exe, "--course", str(REPO), "grade", str(subs), "--out", str(Path(tmp) / "out")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        memory = PeakMemory(proc.pid)
        proc.wait()
        seconds = time.perf_counter() - start
        peak = memory.stop()
        pairs = students * len(EXERCISES)
        result = {
            "grade_pairs": pairs,
            "grade_s": seconds,
            "grade_pairs_per_s": pairs / seconds,
            "grade_peak_rss_gib": peak / 2**30,
        }
        nbgrader = shutil.which("nbgrader")
        if nbgrader:
            result.update(nbgrader_class(Path(tmp), subs, students))
        return result


def nbgrader_class(tmp: Path, subs: Path, students: int) -> dict[str, float]:
    """The same students through `nbgrader autograde` of the exported notebooks."""
    from grader.course import Course
    from grader.instructor.nbgrader_export import export

    course = Course.load(REPO)
    root = tmp / "nb"
    export(course, root, "bench", list(EXERCISES))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "bench"],
        cwd=root,
        env=env,
        capture_output=True,
        check=True,
    )
    for folder in sorted(subs.iterdir()):
        target = root / "submitted" / folder.name / "bench"
        target.mkdir(parents=True)
        for e in EXERCISES:
            nb = json.loads((root / "release" / "bench" / f"{e}.ipynb").read_text())
            [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
            cell["source"] = (folder / f"{e}.py").read_text().splitlines(keepends=True)
            (target / f"{e}.ipynb").write_text(json.dumps(nb))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "bench", "--create"],
        cwd=root,
        env=env,
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    return {"nbgrader_s": seconds, "nbgrader_pairs_per_s": students * len(EXERCISES) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.json")
    parser.add_argument("--smoke", action="store_true", help="one repetition and 3 students")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.students = 1, 3
    exe = shutil.which("dlgrade") or "dlgrade"
    rows: dict[str, float] = {}

    from check_cache import measure as measure_check
    from check_cache import timed

    rows.update(measure_check("softmax", args.runs))
    rows["python_pass_s"] = _median(lambda: timed([sys.executable, "-c", "pass"], None), args.runs)

    from quiz_startup import make_bank, time_to_first_question

    with tempfile.TemporaryDirectory() as tmp:
        bank = Path(tmp) / "bank"
        bank.mkdir()
        make_bank(bank)
        env = {**os.environ, "DLGRADE_HOME": str(Path(tmp) / "home")}
        cmd = [exe, "quiz", "practice", "--bank", str(bank), "--n", "10", "--seed", "1"]
        time_to_first_question(cmd, env)
        rows["quiz_first_question_s"] = _median(lambda: time_to_first_question(cmd, env), args.runs)

    from sandbox import measure as measure_sandbox

    starts, trips = measure_sandbox(max(args.runs, 5), max(100, args.runs))
    rows["worker_start_s"], rows["round_trip_s"] = (
        statistics.median(starts),
        statistics.median(trips),
    )

    rows.update(grade_class(args.students))

    table = [
        (
            "check, first run",
            f"{rows['check_first_s']:.2f} s",
            f"{rows['check_first_s'] / rows['import_torch_numpy_s']:.2f} x import torch, numpy",
            "<= 1.3 x",
        ),
        (
            "check, cached",
            f"{rows['check_cached_s']:.2f} s",
            f"{rows['check_cached_s'] / rows['import_numpy_s']:.1f} x import numpy",
            "<= 0.5 s and <= 4 x",
        ),
        (
            "quiz, first question",
            f"{rows['quiz_first_question_s'] * 1e3:.0f} ms",
            f"{rows['quiz_first_question_s'] / rows['python_pass_s']:.1f} x python -c pass",
            "<= 0.3 s",
        ),
        ("sandbox round trip 100x100", f"{rows['round_trip_s'] * 1e3:.2f} ms", "", "<= 2 ms"),
        (
            "sandbox worker start",
            f"{rows['worker_start_s'] * 1e3:.0f} ms",
            "cold (interpreter start-up)",
            "<= 20 ms warm",
        ),
        (
            f"grade {args.students} students x 6",
            f"{rows['grade_pairs_per_s']:.2f} pairs/s",
            f"peak {rows['grade_peak_rss_gib']:.2f} GiB",
            ">= 5 pairs/s, <= 2 GiB",
        ),
    ]
    if "nbgrader_s" in rows:
        table.append(
            (
                "same students, nbgrader autograde",
                f"{rows['nbgrader_pairs_per_s']:.2f} pairs/s",
                f"dlgrade {rows['nbgrader_s'] / rows['grade_s']:.1f} x faster",
                "dlgrade >= 10 x",
            )
        )
    width = max(len(r[0]) for r in table)
    print(f"{'what'.ljust(width)}  {'measured':>14}  {'beside':<34}  target")
    for what, measured, beside, target in table:
        print(f"{what.ljust(width)}  {measured:>14}  {beside:<34}  {target}")
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
