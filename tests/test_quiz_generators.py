"""Every parametric generator: its answer against an independent computation (torch or NumPy),
on 500 seeds; the right choice is the computed value, the distractors are not. A generator that
draws a figure is checked against the same function in torch."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import numpy as np
import pytest

from grader.oracle import F, nn, torch  # lazy: torch is imported by the first test that uses it
from grader.quiz.catalog import GENERATORS

SEEDS = range(500)
META = "meta"  # shapes and parameter counts without allocating or initialising weights


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _receptive_field(layers: list[tuple[int, int]]) -> int:
    """The input positions one output depends on, found by autograd through a 1-d conv stack."""
    size = 1
    for k, s in reversed(layers):
        size = (size - 1) * s + k
    x = torch.ones(1, 1, size + 8, requires_grad=True)
    h = x
    for k, s in layers:
        h = F.conv1d(h, torch.ones(1, 1, k), stride=s)
    h[0, 0, 0].backward()
    return int((x.grad != 0).sum())


def _sgd_momentum(w: float, v: float, g: float, beta: float, lr: float) -> float:
    p = torch.nn.Parameter(torch.tensor([w], dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr, momentum=beta)
    opt.state[p]["momentum_buffer"] = torch.tensor([v], dtype=torch.float64)
    p.grad = torch.tensor([g], dtype=torch.float64)
    opt.step()
    return p.item()


def _adam(w: float, g: float, lr: float) -> float:
    p = torch.nn.Parameter(torch.tensor([w], dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=lr, betas=(0.9, 0.999), eps=1e-8)
    p.grad = torch.tensor([g], dtype=torch.float64)
    opt.step()
    return p.item()


def _dropout_kept(p: float, x: float) -> float:
    torch.manual_seed(0)
    out = F.dropout(torch.full((1000,), x, dtype=torch.float64), p=p, training=True)
    return out[out != 0][0].item()


def _batchnorm(batch: list[float], i: int, gamma: float, beta: float) -> float:
    bn = nn.BatchNorm1d(1, eps=1e-5).double().train()
    with torch.no_grad():
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
    return bn(torch.tensor(batch, dtype=torch.float64)[:, None])[i, 0].item()


def _kl(mu1: float, s1: float, mu2: float, s2: float) -> float:
    from torch.distributions import Normal, kl_divergence

    return kl_divergence(Normal(mu1, s1), Normal(mu2, s2)).item()


def _gcn_entry(edges: list[list[int]], i: int, j: int) -> float:
    a = np.eye(4)
    for u, v in edges:
        a[u, v] = a[v, u] = 1
    d = np.diag(1 / np.sqrt(a.sum(axis=1)))
    return float((d @ a @ d)[i, j])


def _epsilon_greedy(epsilon: float, actions: int, greedy: bool) -> float:
    probs = np.full(actions, epsilon / actions)
    probs[0] += 1 - epsilon  # action 0 plays the greedy one
    return float(probs[0] if greedy else probs[1])


def _td(d: dict, sarsa: bool) -> float:
    q_next = np.array(d["next"])
    target = d["r"] + d["gamma"] * (q_next[d["a_next"]] if sarsa else q_next.max())
    return d["q"] + d["alpha"] * (target - d["q"])


def _cnn_params(d: dict) -> int:
    features = nn.Sequential(
        nn.Conv2d(d["c0"], d["c1"], d["k1"], stride=1, padding=d["p1"], device=META),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(d["c1"], d["c2"], 3, stride=2, padding=1, device=META),
        nn.ReLU(),
        nn.Flatten(),
    )
    flat = features(torch.zeros(1, d["c0"], d["size"], d["size"], device=META)).shape[1]
    return _params(nn.Sequential(features, nn.Linear(flat, d["classes"], device=META)))


def _transposed_chain(d: dict) -> int:
    x = torch.zeros(1, 1, d["n0"], d["n0"], device=META)
    for k, s, p in d["layers"]:
        x = F.conv_transpose2d(x, torch.zeros(1, 1, k, k, device=META), stride=s, padding=p)
    return x.shape[-1]


def _mlp_grad(d: dict) -> float:
    w1 = torch.tensor(d["w1"], dtype=torch.float64, requires_grad=True)
    x = torch.tensor(d["x"], dtype=torch.float64)
    h = torch.relu(w1 @ x + torch.tensor(d["b1"], dtype=torch.float64))
    y_hat = torch.tensor(d["w2"], dtype=torch.float64) @ h + d["b2"]
    (0.5 * (y_hat - d["y"]) ** 2).backward()
    return w1.grad[d["i"], d["j"]].item()


def _attention(d: dict) -> tuple[float, ...]:
    def t(v: list) -> torch.Tensor:
        return torch.tensor(v, dtype=torch.float64)[None]

    out = F.scaled_dot_product_attention(t([d["q"]]), t(d["keys"]), t(d["values"]))
    return tuple(out[0, 0].tolist())


def _gcn(d: dict) -> tuple[float, ...]:
    n = d["n"]
    a = np.eye(n)
    for u, v in d["edges"]:
        a[u, v] = a[v, u] = 1
    norm = np.diag(1 / np.sqrt(a.sum(axis=1)))
    out = np.maximum(0, norm @ a @ norm @ np.array(d["feats"]) @ np.array(d["w"]))
    return tuple(out[d["i"]])


def _bptt(d: dict) -> tuple[float, ...]:
    h0 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    w = torch.diag(torch.tensor([d["a"], d["b"]], dtype=torch.float64))
    u = torch.tensor([[0.3, -0.2], [0.1, 0.4]], dtype=torch.float64)
    h = h0
    for t in range(d["steps"]):
        h = w @ h + u @ torch.tensor([1.0, -float(t)], dtype=torch.float64)
    (torch.tensor(d["g"], dtype=torch.float64) @ h).backward()
    return tuple(h0.grad.tolist())


def _lstm_c2(d: dict) -> float:
    """An nn.LSTMCell whose gates read their pre-activations straight from the input."""
    cell = nn.LSTMCell(4, 1).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(4, dtype=torch.float64))  # rows: i, f, g, o
        cell.weight_hh.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()

    def logit(p: float) -> float:
        return -50.0 if p == 0 else 50.0 if p == 1 else math.log(p / (1 - p))

    h = torch.zeros(1, 1, dtype=torch.float64)
    c = torch.tensor([[d["c0"]]], dtype=torch.float64)
    for t in range(2):
        x = [logit(d["i"][t]), logit(d["f"][t]), math.atanh(d["g"][t]), 0.0]
        h, c = cell(torch.tensor([x], dtype=torch.float64), (h, c))
    return c.item()


ORACLES = {
    "cnn_shapes_params": _cnn_params,
    "transposed_conv_chain": _transposed_chain,
    "mlp_backprop": _mlp_grad,
    "attention_step": _attention,
    "gcn_step": _gcn,
    "n_step_return": lambda d: float(
        np.sum(np.array(d["rewards"]) * d["gamma"] ** np.arange(3)) + d["gamma"] ** 3 * d["v"]
    ),
    "bptt_gradient": _bptt,
    "lstm_cell_state": _lstm_c2,
    "conv_output_size": lambda d: F.conv2d(
        torch.zeros(1, 1, d["n"], d["n"]),
        torch.zeros(1, 1, d["k"], d["k"]),
        stride=d["s"],
        padding=d["p"],
    ).shape[-1],
    "transposed_conv_output_size": lambda d: F.conv_transpose2d(
        torch.zeros(1, 1, d["n"], d["n"]),
        torch.zeros(1, 1, d["k"], d["k"]),
        stride=d["s"],
        padding=d["p"],
    ).shape[-1],
    "softmax_probability": lambda d: torch.softmax(
        torch.tensor(d["logits"], dtype=torch.float64), 0
    )[d["i"]].item(),
    "dense_parameter_count": lambda d: _params(nn.Linear(d["d_in"], d["d_out"], device=META)),
    "conv_parameter_count": lambda d: _params(nn.Conv2d(d["c"], d["f"], d["k"], device=META)),
    "lstm_parameter_count": lambda d: _params(nn.LSTM(d["d"], d["h"], device=META)),
    "gru_parameter_count": lambda d: _params(nn.GRU(d["d"], d["h"], device=META)),
    "embedding_parameter_count": lambda d: _params(nn.Embedding(d["v"], d["d"], device=META)),
    "receptive_field": lambda d: _receptive_field(d["layers"]),
    "matmul_shape": lambda d: tuple(
        (torch.zeros(*d["shapes"][0]) @ torch.zeros(*d["shapes"][1])).shape
    ),
    "cross_entropy_value": lambda d: F.cross_entropy(
        torch.tensor([d["logits"]], dtype=torch.float64), torch.tensor([d["y"]])
    ).item(),
    "sigmoid_bce": lambda d: F.binary_cross_entropy_with_logits(
        torch.tensor(float(d["z"]), dtype=torch.float64),
        torch.tensor(float(d["t"]), dtype=torch.float64),
    ).item(),
    "perceptron_update": lambda d: tuple(
        np.array(d["w"])
        + d["lr"] * (d["y"] - (np.dot(d["w"], d["x"]) + d["b"] > 0)) * np.array(d["x"])
    ),
    "momentum_step": lambda d: _sgd_momentum(d["w"], d["v"], d["g"], d["beta"], d["lr"]),
    "adam_first_step": lambda d: _adam(d["w"], d["g"], d["lr"]),
    "discounted_return": lambda d: float(
        np.sum(np.array(d["rewards"]) * d["gamma"] ** np.arange(len(d["rewards"])))
    ),
    "q_learning_update": lambda d: _td(d, sarsa=False),
    "sarsa_update": lambda d: _td(d, sarsa=True),
    "epsilon_greedy_probability": lambda d: _epsilon_greedy(
        d["epsilon"], d["actions"], d["greedy"]
    ),
    "ucb_score": lambda d: d["q"] + d["c"] * np.sqrt(np.log(d["t"]) / d["n"]),
    "inverted_dropout_scale": lambda d: _dropout_kept(d["p"], d["x"]),
    "batchnorm_output": lambda d: _batchnorm(d["batch"], d["i"], d["gamma"], d["beta"]),
    "kl_gaussians": lambda d: _kl(d["mu1"], d["s1"], d["mu2"], d["s2"]),
    "attention_scale": lambda d: (
        1 / math.sqrt(nn.MultiheadAttention(d["d_model"], d["heads"], device=META).head_dim)
    ),
    "normalized_adjacency": lambda d: _gcn_entry(d["edges"], d["i"], d["j"]),
}


def _numbers(text: str) -> tuple[float, ...]:
    """The numbers a choice shows: decimals, integers or exact fractions ("1/8")."""
    return tuple(float(Fraction(v.strip())) for v in text.strip("()").split(","))


TORCH_ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "elu": F.elu,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
}
FIGURE_GENERATORS = {"activation_from_plot"}


def test_there_are_at_least_twenty_generators_and_each_has_an_oracle() -> None:
    assert len(GENERATORS) >= 20
    assert set(GENERATORS) == set(ORACLES) | FIGURE_GENERATORS


def test_the_activation_drawn_is_the_one_named_by_the_key() -> None:
    from grader.quiz.figures import FigureSpec, plot

    names = {}
    for seed in range(200):
        out = GENERATORS["activation_from_plot"](random.Random(seed))
        name = out["data"]["name"]
        fig = out["figure"]
        assert fig == {"function": "activation", "params": {"name": name}}
        curve = plot(FigureSpec(fig["function"], fig["params"])).series[0]
        expected = TORCH_ACTIVATIONS[name](torch.tensor(curve.x, dtype=torch.float64))
        assert np.allclose(curve.y, expected.numpy(), atol=1e-9), name
        # the key names this function, and no distractor draws the same curve
        names[out["choices"][out["answer"]]] = name
        for k, choice in enumerate(out["choices"]):
            if k != out["answer"]:
                assert choice != out["choices"][out["answer"]]
    assert len(set(names.values())) == len(TORCH_ACTIVATIONS)  # every one drawn, one name each
    assert len(names) == len(TORCH_ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(set(GENERATORS) - FIGURE_GENERATORS))
def test_generator_answer_matches_an_independent_computation(name: str) -> None:
    for seed in SEEDS:
        out = GENERATORS[name](random.Random(seed))
        expected = np.atleast_1d(np.asarray(ORACLES[name](out["data"]), dtype=float))
        shown = [np.array(_numbers(c)) for c in out["choices"]]
        right = shown[out["answer"]]
        # the shown answer is the computed value, to the precision it is printed with
        digits = max(
            (len(c.split(".")[1]) if "." in c else 0)
            for c in out["choices"][out["answer"]].strip("()").split(",")
        )
        tolerance = 0.6 * 10.0**-digits if digits else 0.5
        rel = 5e-4 * np.abs(expected)  # 4 significant figures ("{:.4g}")
        assert right.shape == expected.shape and np.all(
            np.abs(right - expected) <= np.maximum(tolerance, rel)
        ), (name, seed, out["choices"], out["answer"], expected)
        for k, other in enumerate(shown):
            if k != out["answer"]:
                assert other.shape != expected.shape or np.any(np.abs(other - expected) > 1e-9), (
                    name,
                    seed,
                    out["choices"],
                )


def test_transposed_convolutions_grow_the_map_and_name_only_slips_that_apply() -> None:
    """A decoder that shrinks its map, a choice of width 1, or "dropping the padding" named as a
    slip where every padding is 0: each was found by a reviewer."""
    from grader.quiz.generators import transposed_conv_output_size
    from grader.quiz.multistep import _chain_sizes, transposed_conv_chain

    for seed in range(300):
        q = transposed_conv_chain(random.Random(seed))
        n0, layers = q["data"]["n0"], q["data"]["layers"]
        sizes = [n0, *_chain_sizes(n0, layers)]
        assert all(b >= a for a, b in itertools.pairwise(sizes)) and sizes[-1] > n0, (seed, sizes)
        assert "1" not in q["choices"] and len(set(q["choices"])) == 4, (seed, q["choices"])
        assert ("padding" in q["explanation"]) == any(p for _, _, p in layers), seed
        q = transposed_conv_output_size(random.Random(seed))
        assert ("padding are" in q["explanation"]) == bool(q["data"]["p"]), seed
