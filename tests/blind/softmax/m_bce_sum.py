# Exercise `softmax`: replace each `raise NotImplementedError` with your code.
# Check your work with:  dlgrade check softmax
# (generated from solutions/softmax.py by `dlgrade generate`)
"""Softmax and cross-entropy: turning scores into probabilities, and measuring them.

Every function takes and returns float64 NumPy arrays and leaves its inputs as
it found them. Two ideas run through the whole file:

* softmax is unchanged when a constant is subtracted from every logit, so we
  subtract the largest one first: ``exp`` then never sees a large positive
  number and never overflows (the "max-shift", or log-sum-exp trick);
* losses are computed from logits, not from probabilities, so that a
  probability that rounds to 0 never becomes ``log(0) = -inf``.
"""

import numpy as np


def softmax(z, axis=-1):
    """Softmax of the logits ``z`` along ``axis``.

        softmax(z)_i = exp(z_i) / sum_j exp(z_j)

    Args:
        z: float64 array of any shape, e.g. ``(n, k)``: n samples, k classes.
        axis: the axis that holds the classes (default: the last).

    Returns:
        float64 array of the same shape; along ``axis`` the entries are in
        [0, 1] and sum to one. Stable for logits of magnitude 1e4.

    Example:
        >>> softmax(np.array([1.0, 2.0, 3.0]))
        array([0.09003057, 0.24472847, 0.66524096])
    """
    m = np.max(z, axis=axis, keepdims=True)
    e = np.exp(z - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """Logarithm of the softmax of ``z`` along ``axis``, computed stably.

        log softmax(z)_i = z_i - log sum_j exp(z_j)
                         = (z_i - m) - log sum_j exp(z_j - m),   m = max_j z_j

    Args:
        z: float64 array of any shape.
        axis: the axis that holds the classes.

    Returns:
        float64 array of the same shape, every entry <= 0. Never -inf for
        finite logits, even of magnitude 1e4 (``np.log(softmax(z))`` is).

    Example:
        >>> log_softmax(np.array([1000.0, 0.0]))
        array([    0., -1000.])
    """
    m = np.max(z, axis=axis, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def cross_entropy(logits, labels):
    """Mean cross-entropy of integer labels under softmax(logits).

        L = -(1/n) sum_i log softmax(logits_i)[labels_i]

    Args:
        logits: float64 array ``(n, k)``.
        labels: int64 array ``(n,)`` of class indices in ``0..k-1``.

    Returns:
        The loss, a float (the mean over the batch, not the sum).

    Example:
        >>> round(cross_entropy(np.array([[2.0, 0.0]]), np.array([0])), 6)  # -log(e^2 / (e^2 + 1))
        0.126928
    """
    n = logits.shape[0]
    logp = log_softmax(logits, axis=1)
    return float(-np.mean(logp[np.arange(n), labels]))


def cross_entropy_grad(logits, labels):
    """Gradient of ``cross_entropy(logits, labels)`` with respect to the logits.

        dL/dlogits = (softmax(logits) - onehot(labels)) / n

    Args:
        logits: float64 array ``(n, k)``.
        labels: int64 array ``(n,)``.

    Returns:
        float64 array ``(n, k)``. Each row sums to zero; the 1/n comes from
        the mean in the loss.

    Example:
        >>> cross_entropy_grad(np.array([[0.0, 0.0]]), np.array([1]))
        array([[ 0.5, -0.5]])
    """
    n = logits.shape[0]
    grad = softmax(logits, axis=1)
    grad[np.arange(n), labels] -= 1.0
    return grad / n


def sigmoid(z):
    """The logistic function, elementwise: sigmoid(z) = 1 / (1 + exp(-z)).

    For z < 0 the same value is exp(z) / (1 + exp(z)); using each form where
    its exp() cannot overflow keeps the result exact for z = +-1000.

    Args:
        z: float64 array of any shape.

    Returns:
        float64 array of the same shape, entries in [0, 1].

    Example:
        >>> sigmoid(np.array([0.0, 2.0]))
        array([0.5       , 0.88079708])
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def binary_cross_entropy(logits, targets):
    """Mean binary cross-entropy, computed from logits.

        l_i = -[t_i log sigmoid(x_i) + (1 - t_i) log(1 - sigmoid(x_i))]
            = max(x_i, 0) - x_i t_i + log(1 + exp(-|x_i|))

    The second line is the same loss rearranged so that nothing overflows and
    no probability is ever rounded to exactly 0 or 1 before its log is taken.

    Args:
        logits: float64 array of any shape.
        targets: float64 array of the same shape, values in [0, 1].

    Returns:
        The mean of l over all elements, a float.

    Example:
        >>> binary_cross_entropy(np.array([0.0]), np.array([1.0]))
        0.6931471805599453
    """
    x, t = logits, targets
    losses = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return float(np.sum(losses))
