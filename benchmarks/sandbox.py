"""Sandbox timings: worker start (to the submission imported and answering) and the round trip of a
100x100 float64 array through the worker, medians over repeated runs.

    python benchmarks/sandbox.py [--starts 20] [--calls 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from grader.sandbox.backend import SandboxBackend, isolation


def measure(starts: int, calls: int) -> tuple[list[float], list[float]]:
    """(worker start times, round-trip times) in seconds."""
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
        backend = SandboxBackend(path, "echo.py")
        x = np.random.default_rng(0).normal(size=(100, 100))
        trips = []
        for _ in range(calls):
            t = time.perf_counter()
            backend.call("echo", (x,), {}, 5.0)
            trips.append(time.perf_counter() - t)
        backend.close()
    return start_times, trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    starts, trips = measure(args.starts, args.calls)
    print(f"isolation: {isolation()}")
    print(
        f"worker start, to first answer: median {statistics.median(starts) * 1e3:.1f} ms "
        f"(min {min(starts) * 1e3:.1f}, max {max(starts) * 1e3:.1f}) over {args.starts}"
    )
    print(
        f"round trip, 100x100 float64 in and out: median {statistics.median(trips) * 1e3:.2f} ms "
        f"(p90 {sorted(trips)[int(0.9 * len(trips))] * 1e3:.2f}) over {args.calls}"
    )


if __name__ == "__main__":
    main()
