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


@mistake(
    "softmax",
    "subtract each row's own max (np.max(z, axis=axis, keepdims=True)), not the global max: "
    "a row far below the global max underflows to 0/0",
)
def softmax_shifted_by_the_global_max(z, axis=-1):
    e = np.exp(z - np.max(z))
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


@mistake(
    "softmax",
    "normalise along `axis`: the sum runs over the classes (np.sum(e, axis=axis, keepdims=True)), "
    "not over axis 0",
)
def softmax_sums_over_axis_0(z, axis=-1):
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


@mistake(
    "log_softmax",
    "subtract the log-sum-exp from the shifted logits z - max: z - log(sum(exp(z - max))) is off "
    "by the max of each row (the shift was not added back)",
)
def log_softmax_forgets_the_shift(z, axis=-1):
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@mistake(
    "cross_entropy",
    "pick each row's own label with logp[np.arange(n), labels]: logp[:, labels] takes every "
    "label for every row, an (n, n) block, and averages it",
)
def cross_entropy_indexes_every_row_with_every_label(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return float(-np.mean(logp[:, labels]))


@mistake(
    "cross_entropy_grad",
    "subtract the one-hot of each row's own label, grad[np.arange(n), labels] -= 1: "
    "grad[:, labels] -= 1 subtracts every row's label from every row",
)
def cross_entropy_grad_indexes_every_row_with_every_label(logits, labels):
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    grad = e / np.sum(e, axis=1, keepdims=True)
    grad[:, labels] -= 1.0
    return grad / len(labels)


@mistake(
    "sigmoid",
    "the branches are swapped: with e = exp(-|z|), 1 / (1 + e) is sigmoid(z) for z >= 0 and "
    "e / (1 + e) for z < 0; yours gives sigmoid(-z) = 1 - sigmoid(z)",
)
def sigmoid_with_the_branches_swapped(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))


@mistake(
    "binary_cross_entropy",
    "the middle term is - x*t: the loss is max(x, 0) - x*t + log(1 + exp(-|x|)); the sign of "
    "x*t is flipped",
)
def bce_with_the_sign_of_x_t_flipped(logits, targets):
    losses = np.maximum(logits, 0) + logits * targets + np.log1p(np.exp(-np.abs(logits)))
    return float(np.mean(losses))


@mistake(
    "binary_cross_entropy",
    "log(1 + exp(-|x|)) needs the absolute value: for negative logits exp(-x) overflows or the "
    "loss is wrong; use |x|",
)
def bce_without_the_absolute_value(logits, targets):
    losses = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-logits))
    return float(np.mean(losses))
