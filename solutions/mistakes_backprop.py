"""Known mistakes in `backprop`, each with the hint a student gets when their code makes it.

Instructor-only (never generated into exercises/). Each function reproduces one
mistake; it must be self-contained: NumPy only, no helpers from this file.
(The MLP's own mistakes cannot be replayed: its cache is each student's own design.)
"""

import numpy as np

from grader.testing import mistake


@mistake("linear_backward", "db sums dout over the batch (axis 0): every row got the same b")
def linear_backward_db_as_mean(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)


@mistake(
    "linear_backward",
    "dW = x.T @ dout, which has the shape of W (d_in, d_out); dout.T @ x is its transpose",
)
def linear_backward_dw_transposed(dout, x, W, b):
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)


@mistake("relu_backward", "ReLU's derivative at exactly 0 is 0: pass dout where x > 0, not x >= 0")
def relu_backward_at_zero_is_one(dout, x):
    return dout * (x >= 0)


@mistake(
    "relu_backward", "the gradient is dout times the derivative (1 where x > 0), not times relu(x)"
)
def relu_backward_times_the_output(dout, x):
    return dout * np.maximum(x, 0)


@mistake(
    "sigmoid_backward",
    "x is the pre-activation: compute s = sigmoid(x) first, then dout * s * (1 - s)",
)
def sigmoid_backward_on_x_itself(dout, x):
    return dout * x * (1 - x)


@mistake("sigmoid_backward", "the chain rule multiplies by dout: dx = dout * s * (1 - s)")
def sigmoid_backward_forgets_dout(dout, x):
    s = 0.5 * (1 + np.tanh(0.5 * x))
    return s * (1 - s)


@mistake("tanh_backward", "x is the pre-activation: the derivative is 1 - tanh(x)**2, not 1 - x**2")
def tanh_backward_on_x_itself(dout, x):
    return dout * (1 - x**2)


@mistake("mse_loss", "d/dpred of (pred - target)**2 is 2 (pred - target): keep the factor 2")
def mse_gradient_without_the_two(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), diff / diff.size


@mistake("mse_loss", "the mean is over all N elements: the gradient is 2 (pred - target) / N")
def mse_gradient_without_one_over_n(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff


@mistake(
    "numerical_gradient",
    "use the central difference (f(x+h) - f(x-h)) / 2h: the one-sided one is off by about h",
)
def numerical_gradient_one_sided(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - fx) / h
        x[i] = old
    return grad


@mistake(
    "numerical_gradient",
    "numerical_gradient leaves the caller's x changed: restore x[i] after nudging it (or work on a copy)",
    in_place=True,
)
def numerical_gradient_does_not_restore_x(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        grad[i] = (f_plus - f(x)) / (2 * h)
    return grad
