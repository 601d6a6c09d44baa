"""`dlgrade check` of a whole exercise (the reference solution as the submission, so every oracle
runs): first run with an empty reference cache, then cached, beside `python -c "import torch,
numpy"` and `python -c "import numpy"` measured in the same run. Medians of --runs.

    python benchmarks/check_cache.py [--exercise softmax] [--runs 5]
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict[str, str] | None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - start


def measure(exercise: str, runs: int) -> dict[str, float]:
    """Medians, in seconds: check first and cached, import torch and numpy, import numpy."""
    exe = shutil.which("dlgrade") or "dlgrade"
    check = [exe, "check", exercise, "--path", str(REPO / "solutions" / f"{exercise}.py")]
    first, cached = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "DLGRADE_HOME": home}
            first.append(timed(check, env))
            cached.append(timed(check, env))
    env = dict(os.environ)
    torch_numpy = [timed([sys.executable, "-c", "import torch, numpy"], env) for _ in range(runs)]
    numpy_only = [timed([sys.executable, "-c", "import numpy"], env) for _ in range(runs)]
    return {
        "check_first_s": statistics.median(first),
        "check_cached_s": statistics.median(cached),
        "import_torch_numpy_s": statistics.median(torch_numpy),
        "import_numpy_s": statistics.median(numpy_only),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="softmax")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = measure(args.exercise, args.runs)
    rows["first_over_import_torch"] = rows["check_first_s"] / rows["import_torch_numpy_s"]
    rows["cached_over_import_numpy"] = rows["check_cached_s"] / rows["import_numpy_s"]
    print(f"dlgrade check {args.exercise} (reference, every oracle), medians of {args.runs}:")
    print(
        f"  first run        {rows['check_first_s']:.2f} s  = {rows['first_over_import_torch']:.2f} x import torch, numpy ({rows['import_torch_numpy_s']:.2f} s)"
    )
    print(
        f"  cached           {rows['check_cached_s']:.2f} s  = {rows['cached_over_import_numpy']:.2f} x import numpy ({rows['import_numpy_s']:.2f} s)"
    )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
