"""Known mistakes in `perceptron`, each with the hint a student gets when their code makes it.

Instructor-only (never generated into exercises/). Each function reproduces one
mistake; it must be self-contained: NumPy only, no helpers from this file.
"""

import numpy as np

from grader.testing import mistake


@mistake("predict", "an activation of exactly 0 is class 0: the rule is w.x + b > 0, not >= 0")
def predict_with_greater_or_equal(w, b, X):
    return (X @ w + b >= 0).astype(np.int64)


@mistake("predict", "the bias is part of the activation: w.x + b, not w.x alone")
def predict_without_the_bias(w, b, X):
    return (X @ w > 0).astype(np.int64)


@mistake("update", "the step is lr * (y - f(x)) * x: multiply by the learning rate")
def update_ignores_the_learning_rate(w, b, x, y, lr=1.0):
    error = y - (1 if x @ w + b > 0 else 0)
    return w + error * x, float(b + error)


@mistake("update", "the bias learns too: b + lr * (y - f(x))")
def update_forgets_the_bias(w, b, x, y, lr=1.0):
    error = y - (1 if x @ w + b > 0 else 0)
    return w + lr * error * x, float(b)


@mistake(
    "update", "the sign is flipped: move towards x when y = 1 and f(x) = 0 (w + lr*(y - f(x))*x)"
)
def update_with_the_sign_flipped(w, b, x, y, lr=1.0):
    error = y - (1 if x @ w + b > 0 else 0)
    return w - lr * error * x, float(b - lr * error)


@mistake(
    "update", "update only on mistakes: the step is lr * (y - f(x)) * x, which is 0 when f(x) = y"
)
def update_on_every_sample(w, b, x, y, lr=1.0):
    sign = 1 if y == 1 else -1
    return w + lr * sign * x, float(b + lr * sign)


@mistake(
    "update",
    "update changes w in place (w += ...); return a new array (w_new = w + ...)",
    in_place=True,
)
def update_changes_w_in_place(w, b, x, y, lr=1.0):
    error = y - (1 if x @ w + b > 0 else 0)
    w += lr * error * x
    return w, float(b + lr * error)


@mistake("train", "the clean epoch that ends training counts too: epochs_run includes it")
def train_does_not_count_the_last_epoch(X, y, epochs=100, lr=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, epochs + 1):
        mistakes = 0
        for x_i, y_i in zip(X, y):
            error = y_i - (1 if x_i @ w + b > 0 else 0)
            if error:
                mistakes += 1
                w, b = w + lr * error * x_i, b + lr * error
        if mistakes == 0:
            return w, float(b), epoch - 1
    return w, float(b), epochs


@mistake("train", "stop after the first epoch without a mistake; do not always run every epoch")
def train_never_stops_early(X, y, epochs=100, lr=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            error = y_i - (1 if x_i @ w + b > 0 else 0)
            w, b = w + lr * error * x_i, b + lr * error
    return w, float(b), epochs


@mistake(
    "multiclass_predict",
    "take the argmax over the classes (axis=1), one per sample, not over the samples",
)
def multiclass_predict_over_samples(W, b, X):
    return np.argmax(X @ W + b, axis=0)


@mistake(
    "multiclass_update",
    "on a mistake the predicted class's column must also lose lr*x (and its bias lr), not only the true class gain",
)
def multiclass_update_only_rewards_the_true_class(W, b, x, y, lr=1.0):
    p = int(np.argmax(x @ W + b))
    W, b = W.copy(), b.copy()
    if p != y:
        W[:, y] += lr * x
        b[y] += lr
    return W, b


@mistake("multiclass_update", "the bias columns learn too: b[y] += lr and b[p] -= lr")
def multiclass_update_forgets_the_bias(W, b, x, y, lr=1.0):
    p = int(np.argmax(x @ W + b))
    W = W.copy()
    if p != y:
        W[:, y] += lr * x
        W[:, p] -= lr * x
    return W, b.copy()
