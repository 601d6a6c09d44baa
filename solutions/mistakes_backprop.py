"""Known mistakes in `backprop`, each with the hint a student gets when their code makes it.

Instructor-only (never generated into exercises/). Each function reproduces one
mistake; it must be self-contained: NumPy only, no helpers from this file.
The MLP's mistakes are replayed on the reference's cache (see `produced_by` below).
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


@mistake(
    "mse_loss",
    "the mean is over all N = pred.size elements, not over the batch (the rows) only: divide the "
    "loss by N and the gradient 2 (pred - target) by N",
)
def mse_mean_over_the_batch_only(pred, target):
    diff = pred - target
    n = diff.shape[0]
    return float(np.sum(diff**2) / n), 2.0 * diff / n


# The MLP's cache is each student's own design: its mistakes are replayed on the reference's
# cache, (layers, activation) with layers = [(h, W, b, z)] (input and pre-activation per layer).
@mistake(
    "mlp_forward",
    "the last layer has no activation: the scores are the last affine map h @ W + b as it is",
    compared=(0,),
)
def mlp_forward_activation_after_the_last_layer(X, params, activation="relu"):
    act = {
        "relu": lambda z: np.maximum(z, 0.0),
        "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
        "tanh": np.tanh,
    }[activation]
    h, layers = X, []
    for W, b in params:
        z = h @ W + b
        layers.append((h, W, b, z))
        h = act(z)
    return h, (layers, activation)


@mistake(
    "mlp_forward",
    "every layer but the last is followed by the activation: h = act(h @ W + b)",
    compared=(0,),
)
def mlp_forward_without_the_activation(X, params, activation="relu"):
    h, layers = X, []
    for W, b in params:
        z = h @ W + b
        layers.append((h, W, b, z))
        h = z
    return h, (layers, activation)


@mistake(
    "mlp_backward",
    "the activation's derivative is taken at the pre-activation z = h @ W + b; your cache gives "
    "it the activation's output act(z) (sigmoid_backward and tanh_backward take z)",
    produced_by={"cache": "mlp_forward"},
)
def mlp_backward_at_the_post_activation(dscores, cache):
    layers, activation = cache
    act = {
        "relu": lambda z: np.maximum(z, 0.0),
        "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
        "tanh": np.tanh,
    }[activation]
    grads, dh = [], dscores
    for i in reversed(range(len(layers))):
        h, W, b, z = layers[i]
        if i == len(layers) - 1:
            dz = dh
        else:
            a = act(z)  # the post-activation, where the pre-activation belongs
            if activation == "relu":
                dz = dh * (a > 0)
            elif activation == "sigmoid":
                s = 0.5 * (1.0 + np.tanh(0.5 * a))
                dz = dh * s * (1 - s)
            else:
                dz = dh * (1 - np.tanh(a) ** 2)
        grads.append((h.T @ dz, dz.sum(axis=0)))
        dh = dz @ W.T
    return grads[::-1]


@mistake(
    "mlp_backward",
    "between layers the gradient passes through the activation's derivative: "
    "dz = act_backward(dh, z) before the affine layer's backward",
    produced_by={"cache": "mlp_forward"},
)
def mlp_backward_skips_the_activation_derivative(dscores, cache):
    layers, activation = cache
    grads, dh = [], dscores
    for h, W, _b, _z in reversed(layers):
        grads.append((h.T @ dh, dh.sum(axis=0)))
        dh = dh @ W.T
    return grads[::-1]


@mistake(
    "mlp_backward",
    "with tanh too the gradient passes through the activation's derivative: "
    "dz = dh * (1 - tanh(z)**2), tanh_backward(dh, z)",
    produced_by={"cache": "mlp_forward"},
)
def mlp_backward_skips_the_tanh_derivative(dscores, cache):
    layers, activation = cache
    grads, dh = [], dscores
    for i in reversed(range(len(layers))):
        h, W, b, z = layers[i]
        dz = dh
        if i < len(layers) - 1 and activation == "relu":
            dz = dh * (z > 0)
        elif i < len(layers) - 1 and activation == "sigmoid":
            s = 0.5 * (1.0 + np.tanh(0.5 * z))
            dz = dh * s * (1 - s)
        grads.append((h.T @ dz, dz.sum(axis=0)))
        dh = dz @ W.T
    return grads[::-1]


@mistake(
    "mlp_backward",
    "the last layer has no activation: its dz is dscores itself, without an activation's derivative",
    produced_by={"cache": "mlp_forward"},
)
def mlp_backward_through_an_activation_after_the_last_layer(dscores, cache):
    layers, activation = cache
    grads, dh = [], dscores
    for h, W, _b, z in reversed(layers):
        if activation == "relu":
            dz = dh * (z > 0)
        elif activation == "sigmoid":
            s = 0.5 * (1.0 + np.tanh(0.5 * z))
            dz = dh * s * (1 - s)
        else:
            dz = dh * (1 - np.tanh(z) ** 2)
        grads.append((h.T @ dz, dz.sum(axis=0)))
        dh = dz @ W.T
    return grads[::-1]


@mistake(
    "mlp_backward",
    "return the gradients in the order of params, the first layer first: "
    "reverse the list you built from the last layer back",
    produced_by={"cache": "mlp_forward"},
)
def mlp_backward_in_reverse_order(dscores, cache):
    layers, activation = cache
    grads, dh = [], dscores
    for i in reversed(range(len(layers))):
        h, W, b, z = layers[i]
        dz = dh
        if i < len(layers) - 1:
            if activation == "relu":
                dz = dh * (z > 0)
            elif activation == "sigmoid":
                s = 0.5 * (1.0 + np.tanh(0.5 * z))
                dz = dh * s * (1 - s)
            else:
                dz = dh * (1 - np.tanh(z) ** 2)
        grads.append((h.T @ dz, dz.sum(axis=0)))
        dh = dz @ W.T
    return grads


@mistake(
    "linear_backward",
    "db sums dout over the batch, axis 0: one entry per output unit, shape (d_out,), not per sample",
)
def linear_backward_db_over_the_wrong_axis(dout, x, W, b):
    return dout @ W.T, x.T @ dout, dout.sum(axis=1)


@mistake(
    "relu_backward",
    "the mask comes from the input x: dx = dout where x > 0, not where dout > 0",
)
def relu_backward_masks_by_dout(dout, x):
    return np.where(dout > 0, dout, 0.0)


@mistake(
    "relu_backward",
    "multiply by the upstream gradient (the chain rule): dx = dout where x > 0, not 1",
)
def relu_backward_forgets_dout(dout, x):
    return np.where(x > 0, 1.0, 0.0)


@mistake(
    "relu_backward",
    "relu_backward changes dout in place (dx = dout is the same array): work on a copy, or use "
    "np.where(x > 0, dout, 0.0)",
    in_place=True,
)
def relu_backward_changes_dout_in_place(dout, x):
    dx = dout
    dx[x <= 0] = 0
    return dx


@mistake(
    "relu_forward",
    "relu_forward changes x in place (x[x < 0] = 0): return a new array, np.maximum(x, 0)",
    in_place=True,
)
def relu_forward_changes_x_in_place(x):
    x[x < 0] = 0
    return x


@mistake(
    "tanh_backward",
    "the derivative is 1 - tanh(x)**2, the square of tanh(x); yours takes tanh(x**2)",
)
def tanh_backward_of_the_square(dout, x):
    return dout * (1.0 - np.tanh(x**2))


@mistake(
    "numerical_gradient",
    "nudge every entry on its own: loop over np.ndindex(x.shape); for i in range(len(x)) moves "
    "whole rows of a 2-d x at once",
)
def numerical_gradient_by_rows(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in range(len(x)):
        old = x[i]  # for a 2-d x a whole row, and a view of it
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@mistake(
    "numerical_gradient",
    "restore each entry after nudging it (x[i] = old): otherwise the next differences are taken at "
    "a point where every earlier entry is still moved by -h",
)
def numerical_gradient_does_not_restore_its_copy(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        grad[i] = (f_plus - f(x)) / (2 * h)
    return grad


@mistake(
    "numerical_gradient",
    "the central difference divides by 2h, the distance between x + h and x - h: "
    "(f(x + h) - f(x - h)) / (2 * h)",
)
def numerical_gradient_divides_by_h(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / h
    return grad
