# Public tests of `perceptron`: run them with  dlgrade check perceptron
# (the graders also run hidden tests, which are not in this file)
# Generated from solutions/test_perceptron.py by `dlgrade generate`: do not edit.
"""Graders of `perceptron`: the rule against a PyTorch implementation, and its behaviour.

`student` is your module, `rng` a random generator seeded for you. The data of
the training tests are small integers, so every sum is exact and your epoch
count must match the rule's to the epoch.

Every rule of the docstrings, and the tests that exercise it (hidden ones marked *):
  predict: 1 where w.x + b > 0 ............ test_predict_matches_torch
           exactly 0 is class 0 ........... test_predict_zero_activation_is_zero*
           an int array of 0/1 ............ every predict test (dtype checked)
  update:  w + lr (y - f(x)) x, b + lr (y - f(x)) on a mistake . test_update_on_a_mistake
           nothing changes when f(x) = y . test_update_on_a_correct_sample_changes_nothing,
                                             test_update_on_every_kind_of_sample*
           f(x) = 0 at activation exactly 0, in the update too . test_update_on_every_kind_of_sample*
           lr scales the weights and the bias (by position and by name) .
                                             test_update_on_every_kind_of_sample*
           new arrays (w unchanged) ....... test_inputs_left_unmodified*
  train:   from zeros, samples in order (deterministic), the rule with lr != 1, stop after the
           first clean epoch (counted) .... test_train_follows_the_rule_exactly*
           separates separable data ....... test_train_separates_separable_data
           at most `epochs` (XOR never converges) . test_train_does_not_converge_on_xor*
  multiclass_predict: argmax over the classes . test_multiclass_predict_matches_torch
           ties go to the lowest index .... test_multiclass_predict_ties_go_to_the_lowest_index*
  multiclass_update: y gains lr x (bias + lr), p loses it . test_multiclass_update_on_a_mistake,
                                             test_multiclass_update_with_ties_and_a_learning_rate*
           p is the predicted class, ties to the lowest index . test_multiclass_update_with_ties_and_a_learning_rate*
           unchanged when p == y .......... test_multiclass_update_when_right_changes_nothing*
           new arrays ..................... test_inputs_left_unmodified*
"""

import numpy as np
import pytest

from grader.testing import (
    about,
    expect,
    expect_array,
    expect_number,
    expect_scalar,
    expect_sequence,
    expect_shape,
    expect_unmodified,
    oracle,
    torch,
)


# -- the PyTorch references ---------------------------------------------------------------
@oracle
def predict_ref(w, b, X):
    return (X @ w + b > 0).long()


@oracle
def update_ref(w, b, x, y, lr):
    error = y - int(x @ w + b > 0)
    return w + lr * error * x, float(b + lr * error)


@oracle
def multiclass_predict_ref(W, b, X):
    return torch.argmax(X @ W + b, dim=1)  # documented: the first maximal index


@oracle
def multiclass_update_ref(W, b, x, y, lr):
    p = int(torch.argmax(x @ W + b))
    W, b = W.clone(), b.clone()
    if p != y:
        W[:, y] += lr * x
        b[y] += lr
        W[:, p] -= lr * x
        b[p] -= lr
    return W, b


# train applies the rule of update and predict; a failure of train is then sent to those first
BUILDS_ON = {"train": ("predict", "update")}


# -- inputs -------------------------------------------------------------------------------------
def integer_data(rng, n, d, low=-4, high=4):
    return rng.integers(low, high + 1, size=(n, d)).astype(np.float64)


def separable_data(rng, epochs=50):
    """Integer data separated with a margin by a random integer hyperplane, learnable within
    `epochs`: by Novikoff's theorem the perceptron, started from zeros, makes at most
    (R |(w, b)| / margin)^2 mistakes on it (R the largest |(x, 1)|), and every epoch before the
    clean one makes at least one. Only a perceptron that learns its bias separates them."""
    for _ in range(1000):
        d = int(rng.integers(2, 5))
        w_true = rng.integers(-3, 4, size=d).astype(np.float64)
        if not w_true.any():
            continue
        b_true = float(rng.integers(2, 4))
        X = integer_data(rng, 60, d)
        score = X @ w_true + b_true
        X = X[np.abs(score) >= 2][:30]
        # v and -v, both of class 1: no hyperplane through the origin separates them, so a
        # perceptron that never learns its bias cannot separate these data
        pairs = [v for v in integer_data(rng, 50, d) if v.any() and abs(v @ w_true) <= b_true - 2]
        if not pairs:
            continue
        X = np.vstack([X, pairs[0], -pairs[0]])[rng.permutation(len(X) + 2)]
        y = (X @ w_true + b_true > 0).astype(np.int64)
        trivial = [  # perceptrons that separate these data without learning them: not wanted
            np.array_equal(((X @ (sign * np.ones(d)) + b) > 0).astype(np.int64), y)
            for sign in (1, -1)
            for b in (-1.0, 0.0, 1.0)
        ]
        margin = np.min(np.abs(X @ w_true + b_true))
        radius2 = np.max(np.sum(X**2, axis=1)) + 1.0
        mistakes = radius2 * (w_true @ w_true + b_true**2) / margin**2
        if 0 < y.sum() < len(y) and not any(trivial) and mistakes + 1 < epochs:
            return X, y
    raise RuntimeError("could not draw separable data")  # pragma: no cover


def same_answer(a, b):
    """Two results of the submission are the same (arrays, numbers, tuples of those)."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same_answer(x, y) for x, y in zip(a, b))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except (TypeError, ValueError):
        return False


def check_pair(got, w_ref, b_ref, w_name="w_new", b_name="b_new"):
    w_got, b_got = expect_sequence(got, 2, what=f"({w_name}, {b_name})")
    expect_array(w_got, w_ref, name=w_name)
    if isinstance(b_ref, np.ndarray):
        expect_array(b_got, b_ref, name=b_name)
    else:
        expect_scalar(b_got, b_ref, name=b_name)


# -- public tests -----------------------------------------------------------------------------
@pytest.mark.points(2)
def test_predict_matches_torch(student, rng):
    """predict(w, b, X) gives 1 exactly where X @ w + b > 0, as an int array of 0s and 1s."""
    n, d = int(rng.integers(8, 20)), int(rng.integers(2, 6))
    w, X = rng.normal(size=d), rng.normal(size=(n, d))
    # a bias that moves the boundary across about a third of the samples: it must be used
    b = -float(np.quantile(X @ w, rng.choice([0.2, 0.8]))) + 1e-3
    expect_array(student.predict(w, b, X), predict_ref(w, b, X))


@pytest.mark.points(2)
def test_update_on_a_mistake(student, rng):
    """update moves w and b by lr * (y - f(x)) * x and lr * (y - f(x)) on a misclassified sample."""
    d = int(rng.integers(2, 6))
    w, x = rng.normal(size=d), rng.normal(size=d)
    b = float(rng.normal())
    y = 0 if x @ w + b > 0 else 1  # the label the perceptron gets wrong
    check_pair(student.update(w, b, x, y), *update_ref(w, b, x, y, 1.0))


@pytest.mark.points(1)
def test_update_on_a_correct_sample_changes_nothing(student, rng):
    """update leaves w and b as they are when the prediction is already right."""
    d = int(rng.integers(2, 6))
    w, x = rng.normal(size=d), rng.normal(size=d)
    b = float(rng.normal())
    y = 1 if x @ w + b > 0 else 0
    check_pair(student.update(w, b, x, y), w, b)


@pytest.mark.points(2)
def test_train_separates_separable_data(student, rng):
    """train on linearly separable data returns a perceptron that classifies every sample right."""
    X, y = separable_data(rng)
    w, b, epochs_run = expect_sequence(student.train(X, y, 100), 3, what="(w, b, epochs_run)")
    expect_shape(w, (X.shape[1],), name="w")
    b = expect_number(b, name="b")
    epochs_run = expect_number(epochs_run, name="epochs_run", integer=True)
    wrong = int(np.sum(predict_ref(w, b, X) != y))
    expect(
        wrong == 0,
        f"the trained perceptron still misclassifies {wrong} of {len(y)} training samples",
    )
    expect(
        1 <= epochs_run < 100,
        f"epochs_run is {epochs_run}; on separable data training should stop before the limit of 100",
    )


@pytest.mark.points(2)
def test_multiclass_predict_matches_torch(student, rng):
    """multiclass_predict returns the argmax of X @ W + b for each sample."""
    n, d, k = int(rng.integers(8, 20)), int(rng.integers(2, 6)), int(rng.integers(3, 6))
    W, X = rng.normal(size=(d, k)), rng.normal(size=(n, d))
    while True:  # a bias that changes some predictions: it must be used
        b = rng.normal(scale=2.0, size=k)
        if np.sum(np.argmax(X @ W + b, axis=1) != np.argmax(X @ W, axis=1)) >= 2:
            break
    expect_array(student.multiclass_predict(W, b, X), multiclass_predict_ref(W, b, X))


@pytest.mark.points(2)
def test_multiclass_update_on_a_mistake(student, rng):
    """multiclass_update adds lr*x to the true class's column and subtracts it from the predicted one."""
    d, k = int(rng.integers(2, 6)), int(rng.integers(3, 6))
    W, b, x = rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=d)
    p = int(multiclass_predict_ref(W, b, x[None])[0])  # the class predicted now
    y = int((p + rng.integers(1, k)) % k)  # any class but the predicted one
    check_pair(
        student.multiclass_update(W, b, x, y),
        *multiclass_update_ref(W, b, x, y, 1.0),
        "W_new",
        "b_new",
    )
