# Exercise `perceptron`: replace each `raise NotImplementedError` with your code.
# Check your work with:  dlgrade check perceptron
# (generated from solutions/perceptron.py by `dlgrade generate`)
"""The perceptron: a linear threshold unit and Rosenblatt's learning rule.

A perceptron with weights ``w`` and bias ``b`` classifies a sample ``x`` as

    f(x) = 1 if w . x + b > 0 else 0        (an activation of exactly 0 gives 0)

and learns from its mistakes only: after seeing ``x`` with label ``y`` (0 or 1)

    w <- w + lr * (y - f(x)) * x
    b <- b + lr * (y - f(x))

so nothing changes when f(x) = y, ``x`` is added when the perceptron said 0
but should have said 1, and subtracted in the opposite case. On linearly
separable data this stops making mistakes after finitely many updates (the
perceptron convergence theorem); on XOR it never does.

The multi-class perceptron keeps one weight column per class and predicts the
class of the highest score. Every function leaves its inputs unchanged.
"""

import numpy as np


def predict(w, b, X):
    """Predicted labels of the samples in ``X``.

    Args:
        w: float64 array ``(d,)``, the weights.
        b: float, the bias.
        X: float64 array ``(n, d)``, one sample per row.

    Returns:
        int array ``(n,)`` of 0s and 1s: 1 where ``X @ w + b > 0``.

    Example:
        >>> predict(np.array([1.0, -1.0]), 0.0, np.array([[2.0, 1.0], [1.0, 1.0]]))
        array([1, 0])
    """
    scores = X @ w + b
    return (scores > 0).astype(np.int64)


def update(w, b, x, y, lr=1.0):
    """One step of the perceptron rule on the sample ``x`` with label ``y``.

        w_new = w + lr * (y - f(x)) * x
        b_new = b + lr * (y - f(x))

    Args:
        w: float64 array ``(d,)``.
        b: float.
        x: float64 array ``(d,)``, one sample.
        y: its label, 0 or 1.
        lr: the learning rate.

    Returns:
        ``(w_new, b_new)``: a new weight array and the new bias (float). When
        the prediction is right they equal ``w`` and ``b``.

    Example:
        >>> update(np.zeros(2), 0.0, np.array([1.0, 2.0]), 1)
        (array([1., 2.]), 1.0)
    """
    f = 1 if float(x @ w + b) > 0 else 0
    err = y - f
    w_new = w + lr * err * x
    b_new = float(b + lr * err)
    return w_new, b_new


def train(X, y, epochs=100, lr=1.0):
    """Trains a perceptron from zero weights, visiting the samples in order.

    One epoch is one pass over all samples, applying :func:`update` to each.
    Training stops after the first epoch in which no sample was misclassified
    (that epoch is counted), or after ``epochs`` epochs.

    Args:
        X: float64 array ``(n, d)``.
        y: int array ``(n,)`` of 0/1 labels.
        epochs: the most epochs to run.
        lr: the learning rate.

    Returns:
        ``(w, b, epochs_run)``: the weights ``(d,)``, the bias (float) and the
        number of epochs run (an int, at most ``epochs``).

    Example:
        >>> train(np.array([[1.0], [-1.0]]), np.array([1, 0]))
        (array([1.]), 1.0, 2)
    """
    n, d = X.shape
    w = np.zeros(d)
    b = 0.0
    epochs_run = 0
    for _ in range(epochs):
        epochs_run += 1
        mistakes = 0
        for i in range(n):
            if predict(w, b, X[i:i + 1])[0] != y[i]:
                mistakes += 1
            w, b = update(w, b, X[i], y[i], lr)
        if mistakes == 0:
            break
    return w, b, epochs_run


def multiclass_predict(W, b, X):
    """Predicted classes: the index of the highest score ``X @ W + b`` per sample.

    Args:
        W: float64 array ``(d, k)``, one weight column per class.
        b: float64 array ``(k,)``.
        X: float64 array ``(n, d)``.

    Returns:
        int array ``(n,)`` of class indices; on ties the lowest index wins.

    Example:
        >>> multiclass_predict(np.eye(2), np.zeros(2), np.array([[0.0, 1.0], [3.0, 3.0]]))
        array([1, 0])
    """
    scores = X @ W + b
    return np.argmax(scores, axis=1)


def multiclass_update(W, b, x, y, lr=1.0):
    """One step of the multi-class perceptron rule on the sample ``x`` of class ``y``.

    With ``p`` the predicted class of ``x``: if ``p != y``, the true class's
    column moves towards ``x`` and the predicted class's column away from it:

        W[:, y] += lr * x,  b[y] += lr
        W[:, p] -= lr * x,  b[p] -= lr

    Args:
        W: float64 array ``(d, k)``.
        b: float64 array ``(k,)``.
        x: float64 array ``(d,)``.
        y: the true class, an int in ``0..k-1``.
        lr: the learning rate.

    Returns:
        ``(W_new, b_new)``, new arrays; equal to ``W`` and ``b`` when ``p == y``.

    Example:
        >>> multiclass_update(np.zeros((1, 2)), np.zeros(2), np.array([1.0]), 1)
        (array([[-1.,  1.]]), array([-1.,  1.]))
    """
    p = int(np.argmax(x @ W + b))
    W_new = W.copy()
    b_new = b.copy()
    if p != y:
        W_new[:, y] += lr * x
        b_new[y] += lr
    return W_new, b_new
