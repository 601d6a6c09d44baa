# Exercise `backprop`: replace each `raise NotImplementedError` with your code.
# Check your work with:  dlgrade check backprop
# (generated from solutions/backprop.py by `dlgrade generate`)
"""Backpropagation by hand: a multi-layer perceptron, one local derivative at a time.

A network is a chain of simple functions. Backpropagation runs the chain
backwards: each function receives ``dout``, the gradient of the loss with
respect to its output, and returns the gradient with respect to its inputs
(and parameters) by the chain rule,

    dL/dinput = dL/doutput * doutput/dinput      (the local derivative).

So every forward function ``f(x)`` has a backward partner ``f_backward(dout, x)``
that needs only ``dout`` and what the forward pass saw.

Layouts: a layer's weights are ``W (d_in, d_out)`` and bias ``b (d_out,)``, so a
layer is ``x @ W + b`` on a batch ``x (n, d_in)``. Nothing here modifies its inputs.
"""

import numpy as np


def linear_forward(x, W, b):
    """An affine layer: out = x @ W + b.

    Args:
        x: float64 array ``(n, d_in)``, a batch of n inputs.
        W: float64 array ``(d_in, d_out)``.
        b: float64 array ``(d_out,)``, added to every row.

    Returns:
        float64 array ``(n, d_out)``.

    Example:
        >>> linear_forward(np.array([[1.0, 2.0]]), np.eye(2), np.array([0.5, 0.0]))
        array([[1.5, 2. ]])
    """
    return x @ W + b


def linear_backward(dout, x, W, b):
    """Gradients of an affine layer, given the upstream gradient ``dout = dL/dout``.

        dx = dout @ W.T      (n, d_in):  each input feeds every output through W
        dW = x.T @ dout      (d_in, d_out): summed over the batch
        db = sum_i dout[i]   (d_out,):   b is added to every row

    Args:
        dout: float64 array ``(n, d_out)``.
        x, W, b: the forward pass's inputs.

    Returns:
        ``(dx, dW, db)``, shaped like ``x``, ``W`` and ``b``.

    Example:
        >>> dx, dW, db = linear_backward(np.ones((2, 1)), np.ones((2, 3)), np.ones((3, 1)), np.zeros(1))
        >>> dW.ravel(), db
        (array([2., 2., 2.]), array([2.]))
    """
    dx = dout @ W.T
    dW = x.T @ dout
    db = np.sum(dout, axis=0)
    return dx, dW, db


def relu_forward(x):
    """ReLU, elementwise: max(x, 0).

    Example:
        >>> relu_forward(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
    """
    return np.maximum(x, 0.0)


def relu_backward(dout, x):
    """Gradient of ReLU: dout where x > 0, else 0 (the derivative at exactly 0 is taken as 0).

    Args:
        dout: float64 array, the upstream gradient, shaped like ``x``.
        x: float64 array, the input of relu_forward.

    Returns:
        ``dx``, shaped like ``x``.

    Example:
        >>> relu_backward(np.array([5.0, 5.0, 5.0]), np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 5.])
    """
    return np.where(x > 0, dout, 0.0)


def sigmoid_backward(dout, x):
    """Gradient of the sigmoid at the pre-activation ``x``: dout * s * (1 - s), s = sigmoid(x).

    Example:
        >>> sigmoid_backward(np.array([1.0]), np.array([0.0]))
        array([0.25])
    """
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return dout * s * (1.0 - s)


def tanh_backward(dout, x):
    """Gradient of tanh at the pre-activation ``x``: dout * (1 - tanh(x)**2).

    Example:
        >>> tanh_backward(np.array([2.0]), np.array([0.0]))
        array([2.])
    """
    t = np.tanh(x)
    return dout * (1.0 - t ** 2)


def mse_loss(pred, target):
    """Mean squared error and its gradient.

        loss = (1/N) sum (pred - target)**2      over all N = pred.size elements
        dpred = (2/N) (pred - target)

    Returns:
        ``(loss, dpred)``: a float and an array shaped like ``pred``.

    Example:
        >>> mse_loss(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
        (5.0, array([1., 3.]))
    """
    diff = pred - target
    N = pred.size
    loss = float(np.sum(diff ** 2) / N)
    dpred = 2.0 * diff / N
    return loss, dpred


def mlp_forward(X, params, activation="relu"):
    """Forward pass of a multi-layer perceptron.

    Every layer is ``h = act(h @ W + b)``, except the last, which has no
    activation and gives the scores. Keep in ``cache`` whatever the backward
    pass will need (here: each layer's input and pre-activation).

    Args:
        X: float64 array ``(n, d)``.
        params: list of ``(W, b)``, one per layer; ``W (d_in, d_out)``.
        activation: ``"relu"``, ``"sigmoid"`` or ``"tanh"``.

    Returns:
        ``(scores, cache)``: scores ``(n, d_last)``; cache is yours to design.

    Example:
        >>> scores, _ = mlp_forward(np.ones((1, 2)), [(np.ones((2, 1)), np.zeros(1))])
        >>> scores
        array([[2.]])
    """
    if activation == "relu":
        act = relu_forward
    elif activation == "sigmoid":
        act = lambda z: np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                                 np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
    elif activation == "tanh":
        act = np.tanh
    else:
        raise ValueError(f"unknown activation {activation!r}")
    layers = []
    h = X
    for k, (W, b) in enumerate(params):
        z = linear_forward(h, W, b)
        layers.append((h, W, b, z))
        if k < len(params) - 1:
            h = act(z)
        else:
            h = z
    cache = (activation, layers)
    return h, cache


def mlp_backward(dscores, cache):
    """Backward pass of :func:`mlp_forward`: the gradient of every layer's parameters.

    Walk the layers from the last to the first: through the activation (not
    after the last layer), then through the affine map, passing ``dx`` on.

    Args:
        dscores: float64 array ``(n, d_last)``, dL/dscores.
        cache: what mlp_forward returned.

    Returns:
        list of ``(dW, db)``, one per layer, in the order of ``params``.
    """
    activation, layers = cache
    def act_backward(d, z):
        if activation == "relu":
            return relu_backward(d, z)
        if activation == "sigmoid":
            return sigmoid_backward(d, z)
        return d
    grads = [None] * len(layers)
    d = dscores
    for k in reversed(range(len(layers))):
        h_in, W, b, z = layers[k]
        if k < len(layers) - 1:
            d = act_backward(d, z)
        d, dW, db = linear_backward(d, h_in, W, b)
        grads[k] = (dW, db)
    return grads


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a scalar function by central differences, one coordinate at a time.

        df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

    The error is O(h**2), against O(h) for the one-sided (f(x + h e_i) - f(x)) / h.

    Args:
        f: a function of one array returning a float.
        x: float64 array of any shape; left as it was found.
        h: the step.

    Returns:
        float64 array shaped like ``x``.

    Example:
        >>> numerical_gradient(lambda v: float(np.sum(v**2)), np.array([1.0, -2.0]))
        array([ 2., -4.])
    """
    xw = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(xw)
    for idx in np.ndindex(xw.shape):
        old = xw[idx]
        xw[idx] = old + h
        f_plus = f(xw)
        xw[idx] = old - h
        f_minus = f(xw)
        xw[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad
