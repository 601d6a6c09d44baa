"""The reference cache of the student's loop: a second check needs no torch, a changed grader or
changed inputs recompute, hidden-test grading never reads the cache, --no-cache bypasses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import REPO

from grader.cli import cli
from grader.engine.cache import OracleCache
from grader.engine.runner import run_graders

TORCH_CHECK = (
    "import sys, atexit\n"
    "atexit.register(lambda: print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr))\n"
    "from grader.cli import main\nmain()\n"
)


def _check(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DLGRADE_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", TORCH_CHECK, "--course", str(REPO), "check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_a_second_check_finds_every_reference_and_never_imports_torch(tmp_path: Path) -> None:
    args = ("softmax", "--path", str(REPO / "solutions" / "softmax.py"), "--json")
    first = _check(tmp_path, *args)
    second = _check(tmp_path, *args)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stderr.strip().endswith("TORCH") and second.stderr.strip().endswith("NO-TORCH")
    assert first.stdout == second.stdout  # the same report, from stored references
    hidden = _check(
        tmp_path, "softmax", "--path", str(REPO / "solutions" / "softmax.py"), "--hidden"
    )
    assert hidden.returncode == 0 and hidden.stderr.strip().endswith("TORCH")  # never cached
    bypass = _check(tmp_path, *args, "--no-cache")
    assert bypass.returncode == 0 and bypass.stderr.strip().endswith("TORCH")


GRADERS = """
import pytest
from grader.testing import expect_array, oracle, torch

@oracle
def double_ref(x):
    open(LOG, "a").write("computed\\n")
    return 2 * x

@pytest.mark.points(1)
def test_double(student, rng):
    x = rng.normal(size=SIZE)
    expect_array(student.double(x), double_ref(x))
"""


def _graders(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "graders" / "test_toy.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(GRADERS.replace("LOG", repr(str(tmp_path / "log"))).replace("SIZE", str(size)))
    return path


def test_changed_graders_or_inputs_recompute(tmp_path: Path) -> None:
    submission = tmp_path / "toy.py"
    submission.write_text("def double(x):\n    return 2 * x\n")
    cache = OracleCache(tmp_path / "cache.sqlite")

    def grade(graders: Path, seed: int) -> float:
        return run_graders(graders, submission, exercise="toy", seed=seed, oracle_cache=cache).score

    def computed() -> int:
        return len((tmp_path / "log").read_text().splitlines())

    graders = _graders(tmp_path, 3)
    assert grade(graders, 1) == 1 and computed() == 1
    assert grade(graders, 1) == 1 and computed() == 1  # stored
    assert grade(graders, 2) == 1 and computed() == 2  # other inputs: computed
    graders = _graders(tmp_path, 4)  # the grader changed: every key changes
    assert grade(graders, 1) == 1 and computed() == 3
    assert cache.hits == 1 and cache.misses == 3
    cache.close()


def test_a_corrupt_cache_entry_is_recomputed(tmp_path: Path) -> None:
    submission = tmp_path / "toy.py"
    submission.write_text("def double(x):\n    return 2 * x\n")
    graders = _graders(tmp_path, 3)
    cache = OracleCache(tmp_path / "cache.sqlite")
    run_graders(graders, submission, exercise="toy", seed=1, oracle_cache=cache)
    cache.db.execute("UPDATE oracles SET value = ?", (b"\x80\x04garbage",))
    result = run_graders(graders, submission, exercise="toy", seed=1, oracle_cache=cache)
    assert result.score == 1 and len((tmp_path / "log").read_text().splitlines()) == 2
    cache.close()


def test_no_cache_flag_is_documented() -> None:
    result = CliRunner().invoke(cli, ["check", "--help"])
    assert "--no-cache" in result.output
