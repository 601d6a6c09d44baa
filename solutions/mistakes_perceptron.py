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


@mistake(
    "update",
    "the bias step is lr * (y - f(x)) too: multiply it by the learning rate, like the weights' step",
)
def update_bias_ignores_the_learning_rate(w, b, x, y, lr=1.0):
    error = y - (1 if x @ w + b > 0 else 0)
    return w + lr * error * x, float(b + error)


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


@mistake(
    "multiclass_update",
    "the step is lr * x for the columns and lr for the biases: multiply by the learning rate",
)
def multiclass_update_ignores_the_learning_rate(W, b, x, y, lr=1.0):
    p = int(np.argmax(x @ W + b))
    W, b = W.copy(), b.copy()
    if p != y:
        W[:, y] += x
        b[y] += 1.0
        W[:, p] -= x
        b[p] -= 1.0
    return W, b


@mistake(
    "update",
    "an activation of exactly 0 is class 0: f(x) = 1 only for w.x + b > 0, not >= 0, "
    "in update's prediction too",
)
def update_with_greater_or_equal(w, b, x, y, lr=1.0):
    error = y - (1 if x @ w + b >= 0 else 0)
    return w + lr * error * x, float(b + lr * error)


@mistake(
    "update",
    "a label-0 sample with activation exactly 0 is correctly classified (f(x) = 0), so nothing "
    "changes: the rule is y - f(x), not the +-1 form's t (w.x + b) <= 0",
)
def update_on_the_boundary_as_a_mistake(w, b, x, y, lr=1.0):
    t = 1 if y == 1 else -1
    if t * (x @ w + b) <= 0:
        return w + lr * t * x, float(b + lr * t)
    return w.copy(), float(b)


@mistake(
    "update",
    "the error is y - f(x) with the thresholded prediction f(x) (0 or 1), not the raw activation "
    "w.x + b: a correctly classified sample changes nothing",
)
def update_with_the_raw_activation(w, b, x, y, lr=1.0):
    error = y - (x @ w + b)
    return w + lr * error * x, float(b + lr * error)


@mistake(
    "train",
    "train runs at most `epochs` epochs: yours runs one too many (an off-by-one in the loop) when "
    "the data never separate",
)
def train_runs_one_epoch_too_many(X, y, epochs=100, lr=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, epochs + 2):
        mistakes = 0
        for x_i, y_i in zip(X, y):
            error = y_i - (1 if x_i @ w + b > 0 else 0)
            if error:
                mistakes += 1
                w, b = w + lr * error * x_i, b + lr * error
        if mistakes == 0:
            return w, float(b), epoch
    return w, float(b), epochs + 1


@mistake(
    "train",
    "update after each sample (online), not once per epoch with the summed steps: each sample "
    "is classified with the weights its predecessors left",
)
def train_accumulates_the_steps_of_an_epoch(X, y, epochs=100, lr=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, epochs + 1):
        dw, db, mistakes = np.zeros_like(w), 0.0, 0
        for x_i, y_i in zip(X, y):
            error = y_i - (1 if x_i @ w + b > 0 else 0)
            if error:
                mistakes += 1
                dw, db = dw + lr * error * x_i, db + lr * error
        w, b = w + dw, b + db
        if mistakes == 0:
            return w, float(b), epoch
    return w, float(b), epochs


@mistake("train", "the bias learns in train too: keep the b that update returns (b never changes)")
def train_never_updates_the_bias(X, y, epochs=100, lr=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, epochs + 1):
        mistakes = 0
        for x_i, y_i in zip(X, y):
            error = y_i - (1 if x_i @ w + b > 0 else 0)
            if error:
                mistakes += 1
                w = w + lr * error * x_i
        if mistakes == 0:
            return w, float(b), epoch
    return w, float(b), epochs


@mistake(
    "multiclass_predict",
    "on ties the lowest index wins (np.argmax does that): a >= comparison keeps the last tied class",
)
def multiclass_predict_ties_to_the_last(W, b, X):
    scores = X @ W + b
    k = scores.shape[1]
    return (k - 1 - np.argmax(scores[:, ::-1], axis=1)).astype(np.int64)


@mistake("multiclass_predict", "the scores are X @ W + b: add the bias b")
def multiclass_predict_without_the_bias(W, b, X):
    return np.argmax(X @ W, axis=1)


@mistake(
    "multiclass_update",
    "the predicted class p is the argmax of x @ W + b: the bias belongs in the prediction too",
)
def multiclass_update_predicts_without_the_bias(W, b, x, y, lr=1.0):
    p = int(np.argmax(x @ W))
    W, b = W.copy(), b.copy()
    if p != y:
        W[:, y] += lr * x
        b[y] += lr
        W[:, p] -= lr * x
        b[p] -= lr
    return W, b


@mistake(
    "multiclass_update",
    "multiclass_update changes W and b in place; work on copies (W_new = W.copy()) and return those",
    in_place=True,
)
def multiclass_update_changes_W_in_place(W, b, x, y, lr=1.0):
    p = int(np.argmax(x @ W + b))
    if p != y:
        W[:, y] += lr * x
        b[y] += lr
        W[:, p] -= lr * x
        b[p] -= lr
    return W, b
