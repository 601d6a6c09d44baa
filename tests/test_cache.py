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

# runs `dlgrade check`, then says on stderr whether the check's own process imported torch and
# whether it started the reference process (engine/oracle_host.py)
TORCH_CHECK = """
import sys, atexit
import grader.engine.oracle_host as host
started, start = [], host.OracleHost.__init__
host.OracleHost.__init__ = lambda self: (started.append(1), start(self))[1]
atexit.register(lambda: print(("TORCH" if "torch" in sys.modules else "NO-TORCH")
    + (" HOST" if started else " NO-HOST"), file=sys.stderr))
from grader.cli import main
main()
"""


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
    """The first check's references come from the reference process (torch imported there, in
    parallel), the second's from the cache: no torch anywhere."""
    args = ("softmax", "--path", str(REPO / "solutions" / "softmax.py"), "--json")
    first = _check(tmp_path, *args)
    second = _check(tmp_path, *args)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stderr.strip().endswith("NO-TORCH HOST")
    assert second.stderr.strip().endswith("NO-TORCH NO-HOST")
    assert first.stdout == second.stdout  # the same report, from stored references
    hidden = _check(
        tmp_path, "softmax", "--path", str(REPO / "solutions" / "softmax.py"), "--hidden"
    )
    assert hidden.returncode == 0 and hidden.stderr.strip().endswith("HOST")  # never cached
    assert not hidden.stderr.strip().endswith("NO-HOST")
    bypass = _check(tmp_path, *args, "--no-cache")
    assert bypass.returncode == 0 and bypass.stderr.strip().endswith("NO-TORCH HOST")


def test_a_check_that_did_not_reach_its_references_starts_the_process_again(
    tmp_path: Path,
) -> None:
    """The stub raises before any reference is needed, so its check does not count as complete:
    the next check, of an implementation, still gets the reference process."""
    stub = _check(tmp_path, "softmax", "--json")
    assert stub.returncode == 1 and stub.stderr.strip().endswith("HOST"), stub.stderr
    done = _check(tmp_path, "softmax", "--path", str(REPO / "solutions" / "softmax.py"))
    assert done.returncode == 0 and done.stderr.strip().endswith("NO-TORCH HOST"), done.stderr


def test_the_reference_process_gives_the_references_computed_here(tmp_path: Path) -> None:
    """A reference, a known mistake and a broken host (killed mid-run, so the rest is computed
    in this process): the same results as without the host."""
    from edit_source import replace_functions
    from test_mistakes import MISTAKES, as_submission_function

    from grader.course import Course
    from grader.engine.session import CheckSession

    course = Course.load(REPO)
    exercise, mistake = next((e, m) for e, m in MISTAKES if e == "conv")
    wrong = tmp_path / "conv.py"
    wrong.write_text(
        replace_functions(
            course.solution("conv").read_text(),
            **{mistake.function: as_submission_function(mistake)},
        )
    )
    tests = course.solution_tests("conv")
    for submission in (course.solution("conv"), wrong):
        here = run_graders(tests, submission, exercise="conv", seed=4).to_json()
        with CheckSession() as session:
            host = session.start_host()
            there = run_graders(
                tests, submission, exercise="conv", seed=4, session=session
            ).to_json()
            assert host.answered > 0
        assert there == here
    with CheckSession() as session:
        host = session.start_host()
        assert host.proc is not None
        host.proc.kill()
        broken = run_graders(tests, wrong, exercise="conv", seed=4, session=session).to_json()
        assert host.answered == 0 and session.host is None
    assert broken == here


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
