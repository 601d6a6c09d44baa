# Public tests of `backprop`: run them with  dlgrade check backprop
# (the graders also run hidden tests, which are not in this file)
# Generated from solutions/test_backprop.py by `dlgrade generate`: do not edit.
"""Graders of `backprop`: every gradient against PyTorch's autograd on the same numbers.

`student` is your module, `rng` a random generator seeded for you. PyTorch's
layers store W as (d_out, d_in); the references use F.linear(x, W.T, b), the
same layer in your layout.

Every rule of the docstrings, and the tests that exercise it (hidden ones marked *):
  linear_forward: x @ W + b ............... test_linear_forward_matches_torch
  linear_backward: dx, dW = x.T @ dout, db summed over the batch . test_linear_backward_matches_autograd,
                                             test_batch_of_one*
  relu: max(x, 0); dout where x > 0 ....... test_relu_forward_and_backward_match_torch
        the derivative at exactly 0 is 0 .. test_relu_derivative_at_zero_is_zero*,
                                             test_mlp_with_each_activation[relu]*
  sigmoid_backward: at the pre-activation, dout * s (1 - s) . test_sigmoid_backward_matches_autograd
        0, not nan, where the sigmoid saturates . test_sigmoid_backward_at_large_inputs
  tanh_backward: at the pre-activation .... test_tanh_backward_matches_autograd
  mse_loss: mean over all N elements, dpred = 2 (pred - target) / N . test_mse_loss_matches_torch,
                                             test_mse_loss_of_other_shapes*
  mlp_forward: the activation after every layer but the last . test_mlp_forward_matches_torch,
                                             test_mlp_of_depth_one*, test_mlp_of_depth_four_with_sigmoid_and_tanh*
  mlp_backward: every layer's (dW, db), in the order of params . test_mlp_backward_matches_autograd,
        relu, sigmoid, tanh; depth 1 and 4; a batch of one . test_mlp_with_each_activation[...]*,
                                             test_mlp_of_depth_one*, test_mlp_of_depth_four_with_sigmoid_and_tanh*,
                                             test_batch_of_one*
  numerical_gradient: central differences, coordinates coupled . test_numerical_gradient_matches_autograd
        any shape, x left as it was found . test_numerical_gradient_of_any_shape_leaves_x_as_it_was*
  inputs left unmodified .................. test_inputs_left_unmodified*
"""

import numpy as np
import pytest

from grader.testing import (
    F,
    expect_array,
    expect_arrays,
    expect_scalar,
    expect_sequence,
    expect_unmodified,
    oracle,
    torch,
)

ACTIVATIONS = ("relu", "sigmoid", "tanh")

# every MLP is built of affine layers: a failure of the MLP is sent to them first when they fail
BUILDS_ON = {"mlp_forward": ("linear_forward",), "mlp_backward": ("linear_backward",)}


# -- the PyTorch references -------------------------------------------------------------------
def _leaf(t):
    return t.clone().requires_grad_(True)


@oracle
def linear_ref(x, W, b, dout):
    x, W, b = _leaf(x), _leaf(W), _leaf(b)
    out = F.linear(x, W.T, b)
    out.backward(dout)
    return out, x.grad, W.grad, b.grad


@oracle
def activation_ref(name, x, dout):
    x = _leaf(x)
    out = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[name](x)
    out.backward(dout)
    return out, x.grad


@oracle
def mse_ref(pred, target):
    pred = _leaf(pred)
    loss = F.mse_loss(pred, target)
    loss.backward()
    return loss, pred.grad


@oracle
def mlp_ref(X, params, activation, dscores):
    params = [(_leaf(W), _leaf(b)) for W, b in params]
    h = X
    for i, (W, b) in enumerate(params):
        h = F.linear(h, W.T, b)
        if i < len(params) - 1:
            h = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation](h)
    h.backward(dscores)
    return h, [(W.grad, b.grad) for W, b in params]


TORCH_FUNCTIONS = {  # the functions of grader/runtime/factories.py, written in torch
    "sum_of_squares": lambda x: (x * x).sum(),
    "sum_of_sines": lambda x: torch.sin(x).sum(),
    "log_sum_exp": lambda x: torch.logsumexp(x.flatten(), dim=0),
    "weighted_cubes": lambda x: (
        (torch.arange(x.numel(), device=x.device) % 3 - 1).reshape(x.shape) * x**3
    ).sum(),
}


@oracle
def gradient_ref(name, x):
    x = _leaf(x)
    TORCH_FUNCTIONS[name](x).backward()
    return x.grad


# -- inputs -------------------------------------------------------------------------------------------
def random_layers(rng, sizes):
    return [
        (rng.normal(scale=1 / np.sqrt(d_in), size=(d_in, d_out)), rng.normal(scale=0.1, size=d_out))
        for d_in, d_out in zip(sizes[:-1], sizes[1:])
    ]


def check_grads(got, expected, n_layers):
    grads = expect_sequence(
        got, n_layers, name="the list of gradients", what="one (dW, db) per layer"
    )
    parts = []
    for i, (pair, (dW_ref, db_ref)) in enumerate(zip(grads, expected)):
        dW, db = expect_sequence(pair, 2, name=f"the gradients of layer {i}", what="(dW, db)")
        parts += [(f"dW of layer {i}", dW, dW_ref), (f"db of layer {i}", db, db_ref)]
    expect_arrays(parts)


def check_mlp(student, rng, sizes, activation, n=None):
    n = n if n is not None else int(rng.integers(2, 8))
    X = rng.normal(size=(n, sizes[0]))
    params = random_layers(rng, sizes)
    dscores = rng.normal(size=(n, sizes[-1]))
    scores_ref, grads_ref = mlp_ref(X, params, activation, dscores)
    scores, cache = expect_sequence(
        student.mlp_forward(X, params, activation), 2, what="(scores, cache)"
    )
    expect_array(scores, scores_ref, name="the scores")
    check_grads(student.mlp_backward(dscores, cache), grads_ref, len(params))


# -- public tests ------------------------------------------------------------------------------------------
@pytest.mark.points(1)
def test_linear_forward_matches_torch(student, rng):
    """linear_forward(x, W, b) = x @ W + b, as F.linear computes it."""
    n, d_in, d_out = (int(v) for v in rng.integers(2, 7, size=3))
    x, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    out, *_ = linear_ref(x, W, b, np.zeros((n, d_out)))
    expect_array(student.linear_forward(x, W, b), out)


@pytest.mark.points(3)
def test_linear_backward_matches_autograd(student, rng):
    """linear_backward gives dx, dW and db as autograd does: dout @ W.T, x.T @ dout, dout summed over the batch."""
    n, d_in, d_out = (int(v) for v in rng.integers(2, 7, size=3))
    x, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    dout = rng.normal(size=(n, d_out))
    _, dx_ref, dW_ref, db_ref = linear_ref(x, W, b, dout)
    dx, dW, db = expect_sequence(student.linear_backward(dout, x, W, b), 3, what="(dx, dW, db)")
    expect_arrays([("dx", dx, dx_ref), ("dW", dW, dW_ref), ("db", db, db_ref)])


@pytest.mark.points(2)
def test_relu_forward_and_backward_match_torch(student, rng):
    """relu_forward is max(x, 0); relu_backward passes dout where x > 0, as autograd does."""
    x, dout = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    out, dx = activation_ref("relu", x, dout)
    expect_array(student.relu_forward(x), out)
    expect_array(student.relu_backward(dout, x), dx, name="dx")


@pytest.mark.points(1)
def test_sigmoid_backward_matches_autograd(student, rng):
    """sigmoid_backward(dout, x) = dout * s * (1 - s) at the pre-activation x."""
    x, dout = rng.normal(scale=3, size=(4, 5)), rng.normal(size=(4, 5))
    expect_array(
        student.sigmoid_backward(dout, x), activation_ref("sigmoid", x, dout)[1], name="dx"
    )


@pytest.mark.points(1)
def test_sigmoid_backward_at_large_inputs(student, rng):
    """sigmoid_backward is 0, not nan, where the sigmoid saturates (|x| of 800 and more), and
    exact beside them: exp(x) / (1 + exp(x)) is inf / inf = nan there."""
    x = np.concatenate(
        [rng.uniform(800, 1e4, size=3), -rng.uniform(800, 1e4, size=3), rng.normal(size=4)]
    )
    dout = rng.normal(size=x.shape)
    expect_array(
        student.sigmoid_backward(dout, x), activation_ref("sigmoid", x, dout)[1], name="dx"
    )


@pytest.mark.points(1)
def test_tanh_backward_matches_autograd(student, rng):
    """tanh_backward(dout, x) = dout * (1 - tanh(x)**2) at the pre-activation x."""
    x, dout = rng.normal(scale=2, size=(4, 5)), rng.normal(size=(4, 5))
    expect_array(student.tanh_backward(dout, x), activation_ref("tanh", x, dout)[1], name="dx")


@pytest.mark.points(2)
def test_mse_loss_matches_torch(student, rng):
    """mse_loss gives F.mse_loss (the mean over all elements) and its gradient."""
    shape = tuple(int(v) for v in rng.integers(2, 6, size=2))
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    loss_ref, grad_ref = mse_ref(pred, target)
    loss, dpred = expect_sequence(student.mse_loss(pred, target), 2, what="(loss, dpred)")
    expect_scalar(loss, loss_ref, name="the loss")
    expect_array(dpred, grad_ref, name="dpred")


@pytest.mark.points(2)
def test_mlp_forward_matches_torch(student, rng):
    """mlp_forward of a 2-layer ReLU network gives the scores of the same network in torch."""
    sizes = [int(rng.integers(2, 6)), int(rng.integers(3, 8)), int(rng.integers(2, 5))]
    X, params = rng.normal(size=(5, sizes[0])), random_layers(rng, sizes)
    scores_ref, _ = mlp_ref(X, params, "relu", np.zeros((5, sizes[-1])))
    scores, _ = expect_sequence(student.mlp_forward(X, params), 2, what="(scores, cache)")
    expect_array(scores, scores_ref, name="the scores")


@pytest.mark.points(3)
def test_mlp_backward_matches_autograd(student, rng):
    """mlp_backward gives every layer's (dW, db) as autograd does, for a 3-layer ReLU network."""
    sizes = [int(v) for v in rng.integers(2, 7, size=4)]
    check_mlp(student, rng, sizes, "relu")


@pytest.mark.points(2)
def test_numerical_gradient_matches_autograd(student, rng):
    """numerical_gradient by central differences agrees with autograd to about 1e-7
    (a one-sided difference is off by about h, 1e-5), for a function of each coordinate alone
    and for log-sum-exp, which couples them."""
    x = rng.normal(size=tuple(int(v) for v in rng.integers(2, 5, size=2)))
    # log_sum_exp couples the coordinates: a nudge left in place changes the others' differences
    for name in (str(rng.choice(sorted(set(TORCH_FUNCTIONS) - {"log_sum_exp"}))), "log_sum_exp"):
        f = student.new("function", name)
        expect_array(
            student.numerical_gradient(f, x),
            gradient_ref(name, x),
            name=f"the gradient of {name}",
            rtol=1e-7,
            atol=1e-7,
        )
