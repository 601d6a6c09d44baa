"""Quiz start-up: from `dlgrade quiz practice` to the first question on screen, with a bank of
1,000 questions, beside `python -c pass` and `python -c "import numpy"` measured in the same run.

    python benchmarks/quiz_startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_bank(folder: Path, n: int = 1000, topics: int = 20) -> None:
    for t in range(topics):
        lines = [f"topic: topic{t}", "questions:"]
        for i in range(n // topics):
            lines += [
                f"  - id: t{t}-q{i}",
                f'    text: "Question {i} of topic {t}: which is right, with $x^{i}$ in it?"',
                f'    choices: ["right {i}", "wrong one {i}", "wrong two {i}", "wrong three {i}"]',
                "    answer: 0",
                f'    explanation: "Because {i} is {i}."',
                f"    difficulty: {1 + i % 3}",
                f"    tags: [t{t}, n{i % 5}]",
            ]
        (folder / f"topic{t}.yaml").write_text("\n".join(lines) + "\n")


def time_to_first_question(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    assert proc.stdout is not None
    seen = b""
    while b"Question 1 of" not in seen:
        chunk = proc.stdout.read1(4096)
        if not chunk:
            raise RuntimeError(seen.decode(errors="replace"))
        seen += chunk
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.wait()
    return elapsed


def time_to_first_question_in_a_terminal(cmd: list[str], env: dict[str, str]) -> float:
    """The same, in a pseudo-terminal: the interactive interface (prompt_toolkit) included."""
    import pexpect

    start = time.perf_counter()
    child = pexpect.spawn(cmd[0], cmd[1:], env=env, dimensions=(24, 80))
    child.expect("Question 1 of", timeout=30)
    elapsed = time.perf_counter() - start
    child.terminate(force=True)
    return elapsed


def median_run(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def quiz_command(tmp: Path) -> tuple[list[str], dict[str, str]]:
    """`dlgrade quiz practice` on a fresh 1,000-question bank made in ``tmp``, and its
    environment (its own data home), with the file cache warmed by one run."""
    exe = shutil.which("dlgrade") or "dlgrade"
    bank = tmp / "bank"
    bank.mkdir()
    make_bank(bank)
    env = {**os.environ, "DLGRADE_HOME": str(tmp / "home")}
    cmd = [exe, "quiz", "practice", "--bank", str(bank), "--n", "10", "--seed", "1"]
    time_to_first_question(cmd, env)
    return cmd, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd, env = quiz_command(Path(tmp))
        quiz = statistics.median(time_to_first_question(cmd, env) for _ in range(args.runs))
        tty = statistics.median(
            time_to_first_question_in_a_terminal(cmd, env) for _ in range(args.runs)
        )
    bare = median_run([sys.executable, "-c", "pass"], args.runs)
    numpy = median_run([sys.executable, "-c", "import numpy"], args.runs)
    print(
        f"dlgrade quiz practice, 1,000 questions, to the first question: median {quiz * 1e3:.0f} ms (target 300 ms)"
    )
    print(
        f"the same in a terminal (interactive interface): median {tty * 1e3:.0f} ms (target 300 ms)"
    )
    print(f"python -c pass: {bare * 1e3:.0f} ms; python -c 'import numpy': {numpy * 1e3:.0f} ms")
    print(f"ratio to python -c pass: {quiz / bare:.1f}x")


if __name__ == "__main__":
    main()
