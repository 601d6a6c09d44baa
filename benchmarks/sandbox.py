"""Sandbox timings: worker start (to the submission imported and answering), cold (a new sandbox:
bubblewrap and an interpreter) and warm (forked from the sandbox's zygote, as for every exercise of
a student after the first and after a crash or time-out), and the round trip of a 100x100 float64
array through the worker, medians over repeated runs.

    python benchmarks/sandbox.py [--starts 20] [--calls 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from grader.sandbox.backend import SandboxBackend
from grader.sandbox.isolation import detect
from grader.sandbox.process import Sandbox


def measure(starts: int, calls: int) -> tuple[list[float], list[float], list[float]]:
    """(cold worker start times, warm worker start times, round-trip times) in seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "echo.py"
        path.write_text("import numpy as np\n\ndef echo(x):\n    return x\n")
        SandboxBackend(path, "echo.py").close()  # warm the file cache and the bwrap probe
        start_times = []
        for _ in range(starts):
            t = time.perf_counter()
            backend = SandboxBackend(path, "echo.py")
            backend.has("echo")
            start_times.append(time.perf_counter() - t)
            backend.close()
        sandbox = Sandbox([path])
        SandboxBackend(path, "echo.py", sandbox=sandbox).close()  # the zygote is up
        warm_times = []
        for _ in range(starts):
            t = time.perf_counter()
            backend = SandboxBackend(path, "echo.py", sandbox=sandbox)
            backend.has("echo")
            warm_times.append(time.perf_counter() - t)
            backend.close()
        sandbox.close()
        backend = SandboxBackend(path, "echo.py")
        x = np.random.default_rng(0).normal(size=(100, 100))
        trips = []
        for _ in range(calls):
            t = time.perf_counter()
            backend.call("echo", (x,), {}, 5.0)
            trips.append(time.perf_counter() - t)
        backend.close()
    return start_times, warm_times, trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    starts, warm, trips = measure(args.starts, args.calls)
    print(f"isolation: {detect().describe()}")
    for what, times in (("cold", starts), ("warm", warm)):
        print(
            f"worker start, {what}, to first answer: median {statistics.median(times) * 1e3:.1f} ms "
            f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}) over {args.starts}"
        )
    print(
        f"round trip, 100x100 float64 in and out: median {statistics.median(trips) * 1e3:.2f} ms "
        f"(p90 {sorted(trips)[int(0.9 * len(trips))] * 1e3:.2f}) over {args.calls}"
    )


if __name__ == "__main__":
    main()
