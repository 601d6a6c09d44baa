"""All the speed figures in one run, each beside its floor or competitor measured in the same run.

    python benchmarks/run.py [--runs 5] [--students 100] [--nbgrader-students 20]
                             [--out benchmarks/results.json]
    python benchmarks/run.py --smoke          # one repetition, 3 students, no JSON: a minute or two

Rows: `dlgrade check` first run and cached (against `import torch, numpy` and
`import numpy`), quiz start-up with 1,000 questions (against `python -c pass`),
sandbox worker start and round trip, and grading a class of generated
submissions (reference, stub and known mistakes mixed; six exercises, hidden
tests) with `dlgrade grade`, beside `nbgrader autograde` of the same students'
notebooks where nbgrader is installed. nbgrader takes seconds per notebook, so
it grades only the first ``--nbgrader-students`` students (default: 20, or all
of a smaller class), and the two are compared in (student, exercise) pairs per
second. The scores are compared too: nbgrader's per notebook, from its
gradebook, against dlgrade's per exercise, from grades.csv; the row says how
many pairs got the same score, and the first differences go to stderr.
Under nbgrader each student's hidden-test inputs are seeded by their id, as
`dlgrade grade` seeds them (the exported nbgrader_config.py's pre-convert hook,
grader/notebook.py). Prints a table, with whether each target is met, and
writes JSON.
"""

from __future__ import annotations

import argparse
import csv
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
from typing import Any

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


def grade_class(students: int, nbgrader_students: int | None = None) -> dict[str, float]:
    """`dlgrade grade` of a generated class of ``students``; then, where nbgrader is installed,
    `nbgrader autograde` of its first ``nbgrader_students`` (default: up to 20), and the scores of
    the two compared per (student, exercise)."""
    exe = shutil.which("dlgrade") or "dlgrade"
    with tempfile.TemporaryDirectory() as tmp:
        subs, out = Path(tmp) / "subs", Path(tmp) / "out"
        make_class(subs, students)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [exe, "--course", str(REPO), "grade", str(subs), "--out", str(out)],
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
        n = min(students, 20) if nbgrader_students is None else min(nbgrader_students, students)
        if shutil.which("nbgrader") and n > 0:
            chosen = sorted(f.name for f in subs.iterdir())[:n]
            timing, nb_scores = nbgrader_class(Path(tmp), subs, chosen)
            result.update(timing)
            same, differences = compare_scores(dlgrade_scores(out), nb_scores)
            result["nbgrader_pairs"] = len(nb_scores)
            result["nbgrader_same_scores"] = same
            result["dlgrade_vs_nbgrader"] = (
                result["grade_pairs_per_s"] / result["nbgrader_pairs_per_s"]
            )
            for student, exercise, dl, nb in differences[:10]:
                print(
                    f"score differs: {student} {exercise}: dlgrade {dl}, nbgrader {nb}",
                    file=sys.stderr,
                )
            if len(differences) > 10:
                print(f"... {len(differences) - 10} more differences", file=sys.stderr)
        return result


def dlgrade_scores(out: Path) -> dict[tuple[str, str], float]:
    """(student, exercise) -> score, from the grades.csv that `dlgrade grade` wrote in ``out``."""
    with (out / "grades.csv").open(newline="", encoding="utf-8") as f:
        return {(row["student"], e): float(row[e]) for row in csv.DictReader(f) for e in EXERCISES}


def compare_scores(
    dlgrade: dict[tuple[str, str], float],
    nbgrader: dict[tuple[str, str], float | None],
    tolerance: float = 1e-6,
) -> tuple[int, list[tuple[str, str, float | None, float | None]]]:
    """How many of nbgrader's (student, exercise) pairs dlgrade scored the same; the others, as
    (student, exercise, dlgrade's score, nbgrader's score), None where one has no score."""
    same, differences = 0, []
    for (student, exercise), nb in sorted(nbgrader.items()):
        dl = dlgrade.get((student, exercise))
        if dl is not None and nb is not None and abs(dl - nb) <= tolerance:
            same += 1
        else:
            differences.append((student, exercise, dl, nb))
    return same, differences


def nbgrader_class(
    tmp: Path, subs: Path, students: list[str]
) -> tuple[dict[str, float], dict[tuple[str, str], float | None]]:
    """The named students through `nbgrader autograde` of the exported notebooks: the timing, and
    nbgrader's score of each (student, exercise) from its gradebook (None where it has none)."""
    from grader.course import Course
    from grader.instructor.nbgrader_export import export

    course = Course.load(REPO)
    root = tmp / "nb"
    export(course, root, "bench", list(EXERCISES))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DLGRADE_STUDENT", None)
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "bench"],
        cwd=root,
        env=env,
        capture_output=True,
        check=True,
    )
    for student in students:
        folder = subs / student
        target = root / "submitted" / student / "bench"
        target.mkdir(parents=True)
        for e in EXERCISES:
            nb = json.loads((root / "release" / "bench" / f"{e}.ipynb").read_text())
            [cell] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
            cell["source"] = (folder / f"{e}.py").read_text().splitlines(keepends=True)
            (target / f"{e}.ipynb").write_text(json.dumps(nb))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "bench", "--create"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"nbgrader autograde exited {proc.returncode}:", file=sys.stderr)
        print(proc.stderr[-3000:], file=sys.stderr)

    from nbgrader.api import Gradebook, MissingEntry

    scores: dict[tuple[str, str], float | None] = {}
    with Gradebook("sqlite:///" + str(root / "gradebook.db")) as gb:
        for student in students:
            for e in EXERCISES:
                try:
                    scores[(student, e)] = gb.find_submission_notebook(e, "bench", student).score
                except MissingEntry:
                    scores[(student, e)] = None
    pairs = len(students) * len(EXERCISES)
    timing = {
        "nbgrader_students": len(students),
        "nbgrader_s": seconds,
        "nbgrader_pairs_per_s": pairs / seconds,
    }
    return timing, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where the JSON goes (default: benchmarks/results.json; a --smoke run writes none)",
    )
    parser.add_argument(
        "--nbgrader-students",
        type=int,
        default=None,
        help="students graded by nbgrader too: the first N of the class (default: up to 20)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="one repetition and 3 students, for both"
    )
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.students, args.nbgrader_students = 1, 3, 3
    elif args.out is None:
        args.out = REPO / "benchmarks" / "results.json"
    rows: dict[str, Any] = {}

    from check_cache import measure as measure_check
    from check_cache import timed

    from grader.sandbox.isolation import detect

    rows.update(measure_check("softmax", args.runs))
    rows["python_pass_s"] = _median(lambda: timed([sys.executable, "-c", "pass"], None), args.runs)

    from quiz_startup import quiz_command, time_to_first_question

    with tempfile.TemporaryDirectory() as tmp:
        cmd, env = quiz_command(Path(tmp))
        rows["quiz_first_question_s"] = _median(lambda: time_to_first_question(cmd, env), args.runs)

    from sandbox import measure as measure_sandbox

    starts, warm, trips = measure_sandbox(max(args.runs, 5), max(100, args.runs))
    rows["worker_start_s"], rows["worker_start_warm_s"], rows["round_trip_s"] = (
        statistics.median(starts),
        statistics.median(warm),
        statistics.median(trips),
    )

    rows.update(grade_class(args.students, args.nbgrader_students))

    r = rows
    first_ratio = r["check_first_s"] / r["import_torch_numpy_s"]
    cached_ratio = r["check_cached_s"] / r["import_numpy_s"]
    table = [  # what, measured, beside it, target, met
        (
            "check, first run",
            f"{r['check_first_s']:.2f} s",
            f"{first_ratio:.2f} x import torch, numpy ({r['import_torch_numpy_s']:.2f} s)",
            "<= 1.3 x",
            first_ratio <= 1.3,
        ),
        (
            "check, cached",
            f"{r['check_cached_s']:.2f} s",
            f"{cached_ratio:.1f} x import numpy ({r['import_numpy_s']:.2f} s)",
            "<= 0.5 s and <= 4 x",
            r["check_cached_s"] <= 0.5 and cached_ratio <= 4,
        ),
        (
            "quiz, first question",
            f"{r['quiz_first_question_s'] * 1e3:.0f} ms",
            f"{r['quiz_first_question_s'] / r['python_pass_s']:.1f} x python -c pass",
            "<= 0.3 s",
            r["quiz_first_question_s"] <= 0.3,
        ),
        (
            "sandbox round trip 100x100",
            f"{r['round_trip_s'] * 1e3:.2f} ms",
            "",
            "<= 2 ms",
            r["round_trip_s"] <= 0.002,
        ),
        (
            "sandbox worker start, warm",
            f"{r['worker_start_warm_s'] * 1e3:.1f} ms",
            f"cold (new sandbox) {r['worker_start_s'] * 1e3:.0f} ms",
            "<= 20 ms warm",
            r["worker_start_warm_s"] <= 0.02,
        ),
        (
            f"grade {args.students} students x 6",
            f"{r['grade_pairs_per_s']:.2f} pairs/s",
            f"peak {r['grade_peak_rss_gib']:.2f} GiB",
            ">= 5 pairs/s, <= 2 GiB",
            r["grade_pairs_per_s"] >= 5 and r["grade_peak_rss_gib"] <= 2,
        ),
    ]
    if "nbgrader_s" in r:
        table.append(
            (
                f"first {r['nbgrader_students']} students, nbgrader autograde",
                f"{r['nbgrader_pairs_per_s']:.2f} pairs/s",
                f"dlgrade {r['dlgrade_vs_nbgrader']:.1f} x faster, "
                f"same scores {r['nbgrader_same_scores']}/{r['nbgrader_pairs']}",
                "dlgrade >= 10 x, same scores",
                r["dlgrade_vs_nbgrader"] >= 10 and r["nbgrader_same_scores"] == r["nbgrader_pairs"],
            )
        )
    width = max(len(t[0]) for t in table)
    wide = max(34, *(len(t[2]) for t in table))
    print(f"{os.cpu_count()} cores; {detect().describe()}")
    print(f"{'what'.ljust(width)}  {'measured':>14}  {'beside':<{wide}}  {'target':<28}  met")
    for what, measured, beside, target, met in table:
        print(
            f"{what.ljust(width)}  {measured:>14}  {beside:<{wide}}  {target:<28}  "
            f"{'yes' if met else 'NO'}"
        )
    rows["met"] = {t[0]: bool(t[4]) for t in table}
    if args.smoke:
        print("smoke run (one repetition, 3 students): too small a class for the grading targets")
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
