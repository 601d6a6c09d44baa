"""A submission that computes nothing scores nothing: every function returning zeros or ones of
the right shape, its first argument, or a constant scores 0 on every exercise, at every seed
of $DLGRADE_SEEDS (tests/sweeps.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sweeps

CASES = [(e, k) for e in sweeps.COURSE.exercises for k in sweeps.TRIVIAL_KINDS]


@pytest.mark.parametrize("seed", sweeps.seeds())
@pytest.mark.parametrize(("exercise", "kind"), CASES, ids=[f"{e}-{k}" for e, k in CASES])
def test_a_trivial_submission_scores_zero(
    exercise: str, kind: str, seed: int, tmp_path: Path
) -> None:
    result = sweeps.grade(exercise, sweeps.trivial_submission(exercise, kind, tmp_path), seed)
    passed = [t.name for t in result.tests if t.status == "passed"]
    assert result.score == 0, f"{kind} scores {result.score:g} at seed {seed}: {passed} pass"


def test_the_trivial_submissions_are_what_they_say(tmp_path: Path) -> None:
    """The shapes of the zeros are the right answer's; the first argument is returned as it is."""
    import importlib.util

    import numpy as np

    def load(kind: str):
        path = sweeps.trivial_submission("softmax", kind, tmp_path / kind)
        spec = importlib.util.spec_from_file_location(f"trivial_{kind}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    z = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(load("zeros").softmax(z), np.zeros((2, 3)))
    assert load("ones").cross_entropy(z, np.array([0, 1])) == 1.0
    assert load("first_argument").sigmoid(z) is z
    assert load("constant_1").softmax(z) == 1
