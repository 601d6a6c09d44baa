"""A class with endless loops in it: what they cost the run.

    python benchmarks/endless_loops.py [--students 100] [--loopers 5] [--exercises perceptron softmax]

Grades a generated class (reference, stub and known mistakes mixed, as benchmarks/run.py makes
it) twice with `dlgrade grade`: as it is, then with ``--loopers`` students whose every function is
an endless loop. An endless loop costs its first call's time limit (10 s) once per function: later
calls of that function fail at once, and each (student, exercise) stops at its time budget
(course.yaml's time_budget). Prints both times, the extra seconds per looping student, and the
pairs per second; writes benchmarks/endless_loops.json.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "tests")]


def looping(source: str) -> str:
    """``source`` with every function's body replaced by an endless loop."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.body = [ast.While(test=ast.Constant(True), body=[ast.Pass()], orelse=[])]
    return ast.unparse(tree) + "\n"


def run(subs: Path, out: Path) -> float:
    exe = shutil.which("dlgrade") or "dlgrade"
    start = time.perf_counter()
    subprocess.run(
        [exe, "--course", str(REPO), "grade", str(subs), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    from run import make_class

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--loopers", type=int, default=5)
    parser.add_argument("--exercises", nargs="+", default=["perceptron", "softmax"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        make_class(subs, args.students)
        for folder in subs.iterdir():  # only the chosen exercises
            for path in folder.iterdir():
                if path.stem not in args.exercises:
                    path.unlink()
        plain = run(subs, Path(tmp) / "plain")
        step = max(1, args.students // args.loopers)
        chosen = sorted(subs.iterdir())[::step][: args.loopers]
        for folder in chosen:
            for path in folder.iterdir():
                path.write_text(looping(path.read_text()))
        with_loops = run(subs, Path(tmp) / "loops")
    pairs = args.students * len(args.exercises)
    result = {
        "students": args.students,
        "exercises": args.exercises,
        "loopers": args.loopers,
        "plain_s": round(plain, 1),
        "with_loops_s": round(with_loops, 1),
        "extra_s_per_looper": round((with_loops - plain) / args.loopers, 1),
        "pairs_per_s_plain": round(pairs / plain, 2),
        "pairs_per_s_with_loops": round(pairs / with_loops, 2),
    }
    print(json.dumps(result, indent=2))
    (REPO / "benchmarks" / "endless_loops.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
