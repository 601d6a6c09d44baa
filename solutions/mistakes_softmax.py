"""Known mistakes in `softmax`, each with the hint a student gets when their code makes it.

Instructor-only (never generated into exercises/). Each function reproduces one
mistake; it must be self-contained: NumPy only, no helpers from this file.
"""

import numpy as np

from grader.testing import mistake


@mistake(
    "softmax",
    "your softmax normalises over the batch axis (axis 0); normalise along `axis`, the classes",
)
def softmax_over_the_batch_axis(z, axis=-1):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


@mistake(
    "softmax",
    "exp overflows for large logits: subtract the maximum first, softmax(z) = softmax(z - max(z))",
)
def softmax_without_the_max_shift(z, axis=-1):
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


@mistake("softmax", "the sum lost its axis: use keepdims=True so that it broadcasts against z")
def softmax_sum_without_keepdims(z, axis=-1):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


@mistake(
    "softmax",
    "softmax changes z in place (z -= z.max(...)); compute shifted = z - z.max(...) instead",
    in_place=True,
)
def softmax_shifts_z_in_place(z, axis=-1):
    z -= np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


@mistake(
    "log_softmax",
    "log(softmax(z)) is -inf where softmax underflows to 0: use z - max - log(sum(exp(z - max)))",
)
def log_softmax_as_log_of_softmax(z, axis=-1):
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return np.log(e / np.sum(e, axis=axis, keepdims=True))


@mistake(
    "log_softmax",
    "log-sum-exp overflows without the max-shift: subtract max(z) inside the exp and add it back",
)
def log_softmax_without_the_max_shift(z, axis=-1):
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


@mistake("cross_entropy", "the loss is the mean over the batch, not the sum: divide by n")
def cross_entropy_sum_instead_of_mean(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float(-np.sum(logp[np.arange(len(labels)), labels]))


@mistake("cross_entropy", "the loss needs a minus sign: it is -log p[label], which is positive")
def cross_entropy_without_the_minus(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float(np.mean(logp[np.arange(len(labels)), labels]))


@mistake(
    "cross_entropy",
    "log(softmax) gives -inf for large logits: take log_softmax (log-sum-exp) instead",
)
def cross_entropy_from_probabilities(logits, labels):
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


@mistake(
    "cross_entropy_grad",
    "the gradient of a mean loss carries the 1/n: divide (softmax - onehot) by n",
)
def cross_entropy_grad_without_one_over_n(logits, labels):
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    grad = e / np.sum(e, axis=1, keepdims=True)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad


@mistake(
    "cross_entropy_grad",
    "the sign is flipped: the gradient is softmax - onehot, not onehot - softmax",
)
def cross_entropy_grad_with_the_sign_flipped(logits, labels):
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    grad = e / np.sum(e, axis=1, keepdims=True)
    grad[np.arange(len(labels)), labels] -= 1.0
    return -grad / len(labels)


@mistake(
    "sigmoid",
    "exp(z) / (1 + exp(z)) is inf/inf = nan for large z: use 1 / (1 + exp(-z)) where z >= 0",
)
def sigmoid_as_exp_over_one_plus_exp(z):
    return np.exp(z) / (1.0 + np.exp(z))


@mistake(
    "binary_cross_entropy",
    "log(sigmoid(x)) is log(0) = -inf for large |x|: use max(x, 0) - x*t + log(1 + exp(-|x|))",
)
def bce_from_probabilities(logits, targets):
    p = 1.0 / (1.0 + np.exp(-logits))
    return float(np.mean(-(targets * np.log(p) + (1 - targets) * np.log(1 - p))))


@mistake("binary_cross_entropy", "the loss is the mean over the elements, not the sum")
def bce_sum_instead_of_mean(logits, targets):
    return float(
        np.sum(np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits))))
    )
