"""The qlearning exercise: reference, stub, in-place and copying updates, the learning curve."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from edit_source import write_variant

from grader.cli import cli
from grader.course import Course
from grader.engine.plugin import DEFAULT_TIME_LIMIT
from grader.engine.runner import check


def test_reference_full_marks_hidden_included(course: Course) -> None:
    result = check(course, "qlearning", solution=True, seed=21)
    assert result.full_marks, [(t.name, t.message) for t in result.tests if t.status != "passed"]


def test_stub_scores_zero(course: Course) -> None:
    result = check(course, "qlearning", hidden=True, seed=21)
    assert result.score == 0
    assert all(t.status == "error" and "not written yet" in t.message for t in result.tests)


def test_updates_that_copy_q_score_full_marks_too(course: Course, tmp_path: Path) -> None:
    """The reference updates Q in place and returns it; returning an updated copy is just as correct."""
    path = write_variant(
        course.solution("qlearning"),
        tmp_path / "qlearning.py",
        q_learning_update="""
        def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
            Q = Q.copy()
            target = r if terminated else r + gamma * Q[s_next].max()
            Q[s, a] = (1 - alpha) * Q[s, a] + alpha * target
            return Q
        """,
        sarsa_update="""
        def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
            new = np.array(Q, copy=True)
            new[s, a] += alpha * (r + (0 if terminated else gamma * Q[s_next, a_next]) - Q[s, a])
            return new
        """,
    )
    source = path.read_text().replace(
        "            q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)",
        "            Q = q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma)",
    )
    path.write_text(source)
    result = check(course, "qlearning", path=path, hidden=True, seed=5)
    assert result.full_marks, [(t.name, t.message) for t in result.tests if t.status != "passed"]


def test_exploration_that_skips_the_greedy_action_is_caught(course: Course, tmp_path: Path) -> None:
    path = write_variant(
        course.solution("qlearning"),
        tmp_path / "qlearning.py",
        epsilon_greedy="""
        def epsilon_greedy(q_values, epsilon, rng):
            greedy = int(np.argmax(q_values))
            if rng.random() < epsilon:
                others = [a for a in range(len(q_values)) if a != greedy]
                return int(rng.choice(others))
            return greedy
        """,
    )
    result = check(course, "qlearning", path=path, seed=5)
    test = next(t for t in result.tests if t.name == "test_epsilon_greedy_frequencies")
    assert (
        test.status == "failed" and "Hoeffding" not in test.message and "expected" in test.message
    )


def test_sarsa_bootstrapping_on_the_max_is_caught(course: Course, tmp_path: Path) -> None:
    path = write_variant(
        course.solution("qlearning"),
        tmp_path / "qlearning.py",
        sarsa_update="""
        def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
            future = 0.0 if terminated else gamma * np.max(Q[s_next])
            Q[s, a] += alpha * (r + future - Q[s, a])
            return Q
        """,
    )
    result = check(course, "qlearning", path=path, seed=5)
    failed = [t.name for t in result.tests if t.status != "passed"]
    assert failed == ["test_sarsa_update_matches_torch"]


def test_training_that_ignores_terminated_fails_on_the_values(
    course: Course, tmp_path: Path
) -> None:
    path = write_variant(
        course.solution("qlearning"),
        tmp_path / "qlearning.py",
        q_learning_update="""
        def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
            Q[s, a] += alpha * (r + gamma * np.max(Q[s_next]) - Q[s, a])
            return Q
        """,
    )
    result = check(course, "qlearning", path=path, hidden=True, seed=5)
    failed = {t.name for t in result.tests if t.status != "passed"}
    assert "test_updates_on_a_terminal_transition" in failed
    assert "test_q_learning_update_matches_torch" not in failed


def test_reference_training_is_well_within_the_default_time_limit(course: Course) -> None:
    """The figure behind the graders' episode counts: the reference trains in a fraction of the limit."""
    import importlib.util

    import gymnasium

    spec = importlib.util.spec_from_file_location(
        "qlearning_reference", course.solution("qlearning")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for env_id, kwargs, episodes, epsilon in (
        ("FrozenLake-v1", {"is_slippery": False}, 1000, 0.3),
        ("CliffWalking-v1", {}, 300, 0.1),
    ):
        env = gymnasium.make(env_id, disable_env_checker=True, **kwargs)
        start = time.process_time()
        Q = module.train_q_learning(env, episodes, epsilon=epsilon, seed=3)
        assert Q.shape == (env.observation_space.n, env.action_space.n)
        assert time.process_time() - start < DEFAULT_TIME_LIMIT


def test_plot_writes_a_learning_curve(course: Course, tmp_path: Path) -> None:
    out = tmp_path / "curve.png"
    result = CliRunner().invoke(
        cli, ["--course", str(course.root), "check", "qlearning", "--solution", "--plot", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert "learning curve written to" in result.output


def test_plot_to_an_unwritable_path_still_prints_the_results(
    course: Course, tmp_path: Path
) -> None:
    out = tmp_path / "no-such-folder" / "curve.png"
    result = CliRunner().invoke(
        cli, ["--course", str(course.root), "check", "qlearning", "--solution", "--plot", str(out)]
    )
    assert result.exit_code == 2 and not out.exists()
    assert (
        "Full marks" in result.output
        and "test_train_q_learning_walks_the_cliff_edge" in result.output
    )
    assert "the learning curve was not drawn: cannot write" in result.output
    assert "dlgrade: error: cannot write" in result.output


def test_plot_on_an_exercise_without_a_curve_says_so(course: Course, tmp_path: Path) -> None:
    out = tmp_path / "curve.png"
    result = CliRunner().invoke(
        cli, ["--course", str(course.root), "check", "softmax", "--solution", "--plot", str(out)]
    )
    assert result.exit_code == 0 and not out.exists()
    assert "no learning curve to plot" in result.output


def test_same_object_keeps_its_handle() -> None:
    from grader.runtime.worker import Runner

    runner = Runner(Path(__file__), "here")
    rng = np.random.default_rng(0)
    assert runner.keep(rng) == runner.keep(rng)
    assert runner.keep(rng) != runner.keep(np.random.default_rng(0))
