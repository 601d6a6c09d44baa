"""Multi-step parametric questions: a calculation of several steps, each step a place to slip.

Shapes and parameters through a small CNN, a forward and backward pass through a two-layer
network, one scaled dot-product attention step, one GCN layer, an n-step return, a gradient
through T steps of a linear RNN, a chain of transposed convolutions, two steps of an LSTM
cell's memory. Numbers are small and hand-computable unless the generator says
``calculator=True``; each distractor is the answer one named mistake gives. Registered in
generators.GENERATORS like the one-step generators; standard library only.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from grader.quiz.generators import (
    _numeric,
    _p,
    _plus,
    _rendered_question,
    fraction,
    generator,
    shown_alike,
    too_close,
)

Vector = tuple[float | Fraction, ...]  # Fractions where a choice must be exact
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _pow(base: float, n: int) -> str:
    """``0.5³``: a power as read in prose (outside math)."""
    return f"{base:g}{str(n).translate(_SUPERSCRIPT)}"


def _vec(v: Vector, fmt: str = "{:.4g}") -> str:
    return "(" + ", ".join(fmt.format(x + 0.0) for x in v) + ")"  # + 0.0: no "-0"


def _vec_alike(vectors: list[Vector], cap: int) -> list[str]:
    """``vectors`` shown with one precision per component: in each position, the fewest
    decimals (at most ``cap``) that show every vector's entry there exactly."""
    columns = [shown_alike([v[i] for v in vectors], cap) for i in range(len(vectors[0]))]
    return ["(" + ", ".join(col[r] for col in columns) + ")" for r in range(len(vectors))]


def _vec_fraction(v: Vector) -> str:
    return "(" + ", ".join(fraction(x) for x in v) + ")"


def _modal(texts: list[str]) -> bool:
    """The first of ``texts`` (the key) is the one a test-wise student would build from the
    most frequent entry in each component (the linter's majority cue)."""
    split = [t.strip("()").split(", ") for t in texts]
    counts = [Counter(p[i] for p in split) for i in range(len(split[0]))]
    score = [sum(c[p[i]] for i, c in enumerate(counts)) for p in split]
    return score[0] > max(score[1:])


def _vector_choices(
    rng: random.Random,
    value: Vector,
    wrongs: Sequence[Vector],
    k: int = 4,
    decimals: int = 3,
    exact: bool = False,
) -> tuple[list[str], int]:
    """Choices for a vector answer: the mistakes' vectors that stand apart from the key and
    from each other, then shifted copies of the key if fewer than ``k - 1`` do. Every choice is
    shown with one precision per component (``decimals`` at most), or as exact fractions
    (``exact``). The distractors are picked so that the key is not the most frequent value in
    each component; where no choice of mistakes allows that, the mistakes' entries are crossed
    (a grid of their values)."""

    def texts_of(vectors: list[Vector]) -> list[str]:
        if exact:
            return [_vec_fraction(v) for v in vectors]
        return _vec_alike(vectors, decimals)

    def apart(vectors: list[Vector]) -> bool:
        shown = texts_of(vectors)
        return all(
            not too_close(a, b) for i, a in enumerate(shown) for j, b in enumerate(shown) if i != j
        )

    candidates: list[Vector] = []
    for w in wrongs:
        if apart([value, *candidates, w]):
            candidates.append(w)
    step = 1
    while len(candidates) < k - 1:
        w = tuple(x + (step if i == step % len(value) else 0) for i, x in enumerate(value))
        if apart([value, *candidates, w]):
            candidates.append(w)
        step += 1
    picked = _unmodal(value, candidates, k, texts_of, apart)
    if picked is None:  # cross the mistakes' entries: a grid of their values
        columns = [sorted({v[i] for v in (value, *candidates)}) for i in range(len(value))]
        grid = [g for g in itertools.product(*columns) if g != tuple(value)]
        extra = [g for g in grid if g not in candidates]
        picked = _unmodal(value, candidates + extra, k, texts_of, apart)
    if picked is None:
        picked = candidates[: k - 1]
    shown = texts_of([value, *picked])
    options = list(shown)
    rng.shuffle(options)
    return options, options.index(shown[0])


def _unmodal(
    value: Vector,
    candidates: list[Vector],
    k: int,
    texts_of: Callable[[list[Vector]], list[str]],
    apart: Callable[[list[Vector]], bool],
) -> list[Vector] | None:
    """The first ``k - 1`` candidates (in their order of preference) that stand apart and leave
    the key without a majority cue; None if there are none."""
    for combo in itertools.combinations(candidates, k - 1):
        chosen = [value, *combo]
        if apart(chosen) and not _modal(texts_of(chosen)):
            return list(combo)
    return None


def _matrix(rows: list[list[int]]) -> str:
    return "[" + ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in rows) + "]"


# -- convolutional networks --------------------------------------------------------------------------
def _conv(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


@generator("cnn_shapes_params", concept="shapes and parameters through a CNN")
def cnn_shapes_params(rng: random.Random) -> dict[str, Any]:
    """Conv (stride 1) -> ReLU -> 2x2 max pool -> conv (stride 2) -> flatten -> linear: the
    parameter count needs the flattened size, which needs every shape on the way."""
    c0, size = rng.choice([(1, 28), (3, 32), (3, 28), (1, 32)])
    k1 = rng.choice([3, 5])
    p1 = rng.choice([0, k1 // 2])
    c1, c2, classes = rng.choice([4, 6, 8]), rng.choice([8, 12, 16]), 10
    h1 = _conv(size, k1, 1, p1)
    h1p = h1 // 2
    h2 = _conv(h1p, 3, 2, 1)
    flat = c2 * h2 * h2
    conv1, conv2, fc = c1 * (c0 * k1 * k1 + 1), c2 * (c1 * 9 + 1), classes * (flat + 1)
    value = conv1 + conv2 + fc
    no_stride = c2 * _conv(h1p, 3, 1, 1) ** 2
    no_pool = c2 * _conv(h1, 3, 2, 1) ** 2
    wrongs = [
        conv1 + conv2 + classes * (no_stride + 1),  # the stride of the second conv ignored
        conv1 + conv2 + classes * (no_pool + 1),  # the pooling forgotten
        value - c1 - c2 - classes,  # no biases
        conv1 + c2 * (9 + 1) + fc,  # the second conv's filters span one channel only
    ]
    choices, answer = _numeric(rng, value, wrongs, "{:d}")
    pad = f"padding {p1}" if p1 else "no padding"
    return _rendered_question(
        f"A network takes ${c0}\\times{size}\\times{size}$ images (channels first): "
        f"`Conv2d({c0}, {c1}, kernel_size={k1}, stride=1, padding={p1})`, ReLU, "
        f"`MaxPool2d(2)`, `Conv2d({c1}, {c2}, kernel_size=3, stride=2, padding=1)`, ReLU, "
        f"flatten, `Linear(?, {classes})`. How many trainable parameters does it have in all "
        "(every layer with bias)?",
        choices,
        answer,
        f"Shapes: the first conv ({k1}×{k1}, {pad}) gives {c1}×{h1}×{h1}; pooling halves it to "
        f"{c1}×{h1p}×{h1p}; the stride-2 conv gives $\\lfloor({h1p} + 2 - 3)/2\\rfloor + 1$ = {h2}, "
        f"so {c2}×{h2}×{h2} = {flat} features reach the linear layer. Parameters: "
        f"${c1}({c0}\\cdot{k1 * k1} + 1)$ = {conv1}, ${c2}({c1}\\cdot 9 + 1)$ = {conv2}, "
        f"${classes}({flat} + 1)$ = {fc}; in all {value}. Pooling has no parameters; each filter "
        "spans every input channel.",
        c0=c0,
        size=size,
        k1=k1,
        p1=p1,
        c1=c1,
        c2=c2,
        classes=classes,
        flat=flat,
        value=value,
    )


@generator("transposed_conv_chain", concept="a chain of transposed convolutions")
def transposed_conv_chain(rng: random.Random) -> dict[str, Any]:
    """A decoder of three ConvTranspose2d layers, as in a DCGAN generator: the output width."""
    while True:  # a decoder: no layer shrinks the map, and the three together grow it
        n0 = rng.choice([1, 2, 3, 4])
        layers = [
            (rng.choice([3, 4, 5]), rng.choice([1, 2, 2]), rng.choice([0, 1])) for _ in range(3)
        ]
        if all(s == 1 for _, s, _ in layers):
            layers[1] = (4, 2, 1)
        sizes = [n0, *_chain_sizes(n0, layers)]
        if all(b >= a for a, b in itertools.pairwise(sizes)) and sizes[-1] > n0:
            break
    n = n0
    conv_rule: int | None = n0  # None once the convolution formula leaves nothing of the map
    no_minus_one, no_pad = n0, n0
    for k, s, p in layers:
        n = (n - 1) * s - 2 * p + k
        if conv_rule is not None:
            shrunk = (conv_rule + 2 * p - k) // s + 1
            conv_rule = shrunk if shrunk >= 2 else None
        no_minus_one = no_minus_one * s - 2 * p + k
        no_pad = (no_pad - 1) * s + k
    padded = any(p for _, _, p in layers)
    wrongs = [no_minus_one, no_pad if padded else None, conv_rule]
    wrongs.append(n0 * math.prod(s for _, s, _ in layers))
    choices, answer = _numeric(rng, n, wrongs, "{:d}")
    chain = ", then ".join(
        f"`ConvTranspose2d(kernel_size={k}, stride={s}, padding={p})`" for k, s, p in layers
    )
    return _rendered_question(
        f"A decoder maps a ${n0}\\times{n0}$ feature map through {chain}. What is the width of "
        "its output?",
        choices,
        answer,
        "Each transposed convolution maps $n$ to $(n - 1)s - 2p + k$: "
        + " → ".join([str(n0)] + [str(v) for v in _chain_sizes(n0, layers)])
        + ". Using the convolution formula shrinks the map instead; dropping the −1"
        + (" or the padding are the usual slips." if padded else " is the usual slip."),
        n0=n0,
        layers=layers,
        value=n,
    )


def _chain_sizes(n: int, layers: list[tuple[int, int, int]]) -> list[int]:
    sizes = []
    for k, s, p in layers:
        n = (n - 1) * s - 2 * p + k
        sizes.append(n)
    return sizes


# -- a two-layer network, forward and backward -------------------------------------------------------
@generator("mlp_backprop", concept="forward and backward pass through a two-layer network")
def mlp_backprop(rng: random.Random) -> dict[str, Any]:
    """∂L/∂W1[i, j] for y_hat = w2 · relu(W1 x + b1) + b2 and L = (y_hat - y)^2 / 2."""
    while True:
        x = [rng.choice([-2, -1, 1, 2]) for _ in range(2)]
        w1 = [[rng.randint(-2, 2) for _ in range(2)] for _ in range(2)]
        b1 = [rng.randint(-1, 1) for _ in range(2)]
        w2 = [rng.choice([-2, -1, 1, 2, 3]) for _ in range(2)]
        b2, y = rng.randint(-1, 1), rng.randint(-2, 3)
        z = [w1[r][0] * x[0] + w1[r][1] * x[1] + b1[r] for r in range(2)]
        h = [max(0, v) for v in z]
        y_hat = w2[0] * h[0] + w2[1] * h[1] + b2
        delta = y_hat - y
        i, j = rng.randrange(2), rng.randrange(2)
        if 0 in z or delta == 0:
            continue
        gate = 1 if z[i] > 0 else 0
        value = delta * w2[i] * gate * x[j]
        wrongs = [
            delta * w2[i] * x[j],  # the ReLU's gate ignored
            -value,  # (y - y_hat): the sign of the loss's derivative
            delta * gate * x[j],  # w2 forgotten on the way back
            y_hat * w2[i] * gate * x[j],  # the prediction instead of the error
            delta * w2[i] * gate * h[j],  # the hidden activation instead of the input
        ]
        if value != 0 or rng.random() < 0.3:  # a dead unit sometimes: its gradient is 0
            break
    choices, answer = _numeric(rng, float(value), [float(w) for w in wrongs], decimals=1)
    unit = "active" if gate else "inactive (its pre-activation is negative)"
    return _rendered_question(
        f"A network computes $\\hat y = w_2 \\cdot \\mathrm{{ReLU}}(W_1 x + b_1) + b_2$ with "
        f"$W_1$ = {_matrix(w1)} (one row per hidden unit), $b_1$ = {tuple(b1)}, $w_2$ = "
        f"{tuple(w2)}, $b_2$ = {b2}, and the loss $L = (\\hat y - y)^2 / 2$. For "
        f"the input $x$ = {tuple(x)} with target $y$ = {y}, what is $\\partial L / \\partial W_1[{i + 1}, {j + 1}]$ "
        f"(row {i + 1}, column {j + 1})?",
        choices,
        answer,
        f"Forward: $z = W_1 x + b_1$ = {tuple(z)}, $h$ = ReLU(z) = {tuple(h)}, $\\hat y$ = {y_hat}, "
        f"so $\\partial L/\\partial \\hat y = \\hat y - y$ = {delta}. Backward: "
        f"$\\partial L/\\partial h_{i + 1}$ = {delta}·{_p(w2[i])} = {delta * w2[i]}; unit {i + 1} is {unit}, "
        f"so the ReLU passes {'it' if gate else '0'}: $\\partial L/\\partial z_{i + 1}$ = "
        f"{delta * w2[i] * gate}; times $x_{j + 1}$ = {x[j]} gives {value}.",
        x=x,
        w1=w1,
        b1=b1,
        w2=w2,
        b2=b2,
        y=y,
        i=i,
        j=j,
        value=value,
    )


# -- attention --------------------------------------------------------------------------------------
@generator("attention_step", calculator=True, concept="one step of scaled dot-product attention")
def attention_step(rng: random.Random) -> dict[str, Any]:
    """The output of one query attending over three keys (d_k = 4, so the scale is 1/2)."""
    while True:
        q = [rng.choice([-1, 0, 1, 2]) for _ in range(4)]
        keys = [[rng.choice([-1, 0, 1]) for _ in range(4)] for _ in range(3)]
        values = [[rng.randint(-2, 3) for _ in range(2)] for _ in range(3)]
        dots = [sum(a * b for a, b in zip(q, k, strict=True)) for k in keys]
        if len(set(dots)) == 3 and len({tuple(v) for v in values}) == 3:
            break

    def attend(scores: list[float], rows: list[list[int]]) -> Vector:
        top = max(scores)
        e = [math.exp(s - top) for s in scores]
        w = [v / sum(e) for v in e]
        return tuple(sum(w[r] * rows[r][c] for r in range(3)) for c in range(len(rows[0])))

    value = attend([d / 2 for d in dots], values)
    best = values[dots.index(max(dots))]
    wrongs = [
        attend([float(d) for d in dots], values),  # no scaling
        attend([d / 4 for d in dots], values),  # divided by d_k, not its square root
        (float(best[0]), float(best[1])),  # hard attention: the best key's value
        tuple(sum(v[c] for v in values) / 3 for c in range(2)),  # the scores ignored
    ]
    choices, answer = _vector_choices(rng, value, wrongs, decimals=3)
    weights = attend([d / 2 for d in dots], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    return _rendered_question(
        f"Scaled dot-product attention, one query $q$ = {tuple(q)} over three keys $k_1$ = "
        f"{tuple(keys[0])}, $k_2$ = {tuple(keys[1])}, $k_3$ = {tuple(keys[2])} with values "
        f"$v_1$ = {tuple(values[0])}, $v_2$ = {tuple(values[1])}, $v_3$ = {tuple(values[2])} "
        "($d_k = 4$). What is the output $\\mathrm{softmax}(q K^T / \\sqrt{d_k})\\, V$?",
        choices,
        answer,
        f"The dot products are {tuple(dots)}; divided by $\\sqrt{{4}} = 2$: "
        f"{tuple(d / 2 for d in dots)}; softmax gives the weights "
        f"{_vec(weights, '{:.3f}')}; the output is their mix of the values: {choices[answer]}. "
        "Without the scaling the softmax is sharper; taking the best key's value alone is "
        "hard attention.",
        q=q,
        keys=keys,
        values=values,
        value=list(value),
    )


# -- graphs -------------------------------------------------------------------------------------------
_GRAPHS = {  # (name, number of nodes, edges): every component regular, so 1/sqrt(d_i d_j) = 1/d
    "a 4-cycle": (4, [(0, 1), (1, 2), (2, 3), (3, 0)]),
    "a 5-cycle": (5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]),
    "the complete graph on 4 nodes": (4, [(a, b) for a in range(4) for b in range(a + 1, 4)]),
    "two separate edges": (4, [(0, 1), (2, 3)]),
    "a triangle and a lone node": (4, [(0, 1), (1, 2), (2, 0)]),
}


def _gcn_node(
    feats: list[list[int]], rows: list[int], norm: int, w: list[list[int]], relu: bool
) -> Vector:
    """ReLU((sum of the features of ``rows``) / norm · W), or without the ReLU."""
    agg = [Fraction(sum(feats[j][c] for j in rows), norm) for c in range(2)]
    out = [agg[0] * w[0][c] + agg[1] * w[1][c] for c in range(2)]
    return tuple(max(Fraction(0), v) if relu else v for v in out)


@generator("gcn_step", concept="one GCN propagation step")
def gcn_step(rng: random.Random) -> dict[str, Any]:
    """One layer H' = ReLU(D^-1/2 (A + I) D^-1/2 H W) on a small graph; one node's new features."""
    name = rng.choice(sorted(_GRAPHS))
    n, edges = _GRAPHS[name]
    adj = [[0] * n for _ in range(n)]
    for a, b in edges:
        adj[a][b] = adj[b][a] = 1
    while True:
        feats = [[rng.randint(-2, 3) for _ in range(2)] for _ in range(n)]
        w = [[rng.choice([-1, 0, 1, 2]) for _ in range(2)] for _ in range(2)]
        i = rng.randrange(n)
        nbrs = [j for j in range(n) if adj[i][j]]
        deg = [sum(row) + 1 for row in adj]

        value = _gcn_node(
            feats, [i, *nbrs], deg[i], w, True
        )  # regular: every 1/sqrt(d_i d_j) is 1/d_i
        wt = [[w[0][0], w[1][0]], [w[0][1], w[1][1]]]
        candidates = [
            _gcn_node(feats, nbrs, max(1, deg[i] - 1), w, True) if nbrs else None,  # no self-loops
            _gcn_node(feats, [i, *nbrs], 1, w, True),  # no normalisation: a plain sum
            _gcn_node(feats, [i, *nbrs], deg[i], w, False),  # the ReLU forgotten
            _gcn_node(feats, [i, *nbrs], deg[i], wt, True),  # W transposed
        ]
        wrongs = [v for v in candidates if v is not None]
        if any(v != 0 for v in value) and sum(_vec(v) != _vec(value) for v in wrongs) >= 3:
            break
    edge_list = ", ".join(f"{a + 1}–{b + 1}" for a, b in edges)
    choices, answer = _vector_choices(rng, value, wrongs, exact=True)
    rows = "; ".join(f"node {j + 1}: {tuple(feats[j])}" for j in range(n))
    agg = [sum(feats[j][c] for j in [i, *nbrs]) for c in range(2)]
    return _rendered_question(
        f"A GCN layer computes $H' = \\mathrm{{ReLU}}(\\tilde D^{{-1/2}} (A + I) \\tilde D^{{-1/2}} H W)$, "
        f"where $\\tilde D$ holds the degrees of $A + I$. The graph is {name} (nodes 1 to {n}, "
        f"edges {edge_list}); the features $H$ are {rows}; $W$ = {_matrix(w)}. What is the new "
        f"feature vector of node {i + 1}?",
        choices,
        answer,
        f"With self-loops node {i + 1} and its neighbours all have degree {deg[i]}, so every "
        f"weight $1/\\sqrt{{d_i d_j}}$ is 1/{deg[i]}: the mean of the features of node {i + 1} "
        f"and its neighbours, ({agg[0]}, {agg[1]})/{deg[i]}; times $W$ and through the ReLU: "
        f"{choices[answer]}. Without self-loops the node forgets its own features; without the "
        "normalisation high-degree nodes blow up.",
        n=n,
        edges=edges,
        feats=feats,
        w=w,
        i=i,
        value=[float(v) for v in value],
    )


# -- reinforcement learning ------------------------------------------------------------------------
@generator("n_step_return", concept="n-step return with a bootstrap")
def n_step_return(rng: random.Random) -> dict[str, Any]:
    """G = r_0 + γ r_1 + γ² r_2 + γ³ V(s_3): three rewards, then the critic's estimate."""
    while True:
        rewards = [rng.choice([0, 1, -1, 2]) for _ in range(3)]
        v = rng.choice([2, 4, -2, 8])
        gamma = rng.choice([0.5, 0.9])
        n = len(rewards)
        value = sum(r * gamma**t for t, r in enumerate(rewards)) + gamma**n * v
        wrongs = [
            sum(r * gamma**t for t, r in enumerate(rewards)),  # the bootstrap forgotten
            sum(r * gamma**t for t, r in enumerate(rewards)) + v,  # the bootstrap undiscounted
            sum(r * gamma**t for t, r in enumerate(rewards)) + gamma ** (n - 1) * v,  # γ^(n-1)
            sum(r * gamma ** (t + 1) for t, r in enumerate(rewards)) + gamma ** (n + 1) * v,
        ]
        if any(rewards) and _all_apart(value, wrongs[:3]):
            break
    choices, answer = _numeric(rng, value, wrongs, decimals=3)
    terms = " ".join(
        f"{r:g}" if t == 0 else f"{_plus(r)}·{_pow(gamma, t) if t > 1 else f'{gamma:g}'}"
        for t, r in enumerate(rewards)
    )
    return _rendered_question(
        f"An actor-critic agent uses 3-step returns with $\\gamma = {gamma}$. From state $s_0$ it "
        f"receives the rewards $r_0, r_1, r_2$ = {tuple(rewards)} and reaches $s_3$ (not terminal), "
        f"where the critic estimates $V(s_3)$ = {v}. What is the 3-step return $G_0^{{(3)}}$?",
        choices,
        answer,
        f"$G_0^{{(3)}} = r_0 + \\gamma r_1 + \\gamma^2 r_2 + \\gamma^3 V(s_3)$ = {terms} "
        f"{_plus(v)}·{_pow(gamma, 3)} = {choices[answer]}. The bootstrap stands for every reward after step "
        "3, so it is discounted by $\\gamma^3$; leaving it out treats $s_3$ as terminal.",
        rewards=rewards,
        gamma=gamma,
        v=v,
        value=value,
    )


def _all_apart(value: float, wrongs: list[float]) -> bool:
    key = f"{value:.4g}"
    return all(not too_close(key, f"{w:.4g}") for w in wrongs)


# -- recurrent networks ---------------------------------------------------------------------------
@generator("bptt_gradient", concept="gradient growth or decay through time (BPTT)")
def bptt_gradient(rng: random.Random) -> dict[str, Any]:
    """∂L/∂h_0 through T steps of h_t = W h_{t-1} + U x_t with a diagonal W: one component
    vanishes, the other explodes."""
    while True:
        a, b = rng.choice([(0.5, 2.0), (2.0, 0.5), (0.5, 1.5), (1.5, 0.5), (0.5, 3.0)])
        steps = rng.randint(3, 6)
        g = (float(rng.choice([-4, -2, 2, 4, 8])), float(rng.choice([-1, 1, 2, 3])))
        value = (a**steps * g[0], b**steps * g[1])
        wrongs = [
            (a ** (steps - 1) * g[0], b ** (steps - 1) * g[1]),  # one step too few
            (steps * a * g[0], steps * b * g[1]),  # the steps added, not multiplied
            (a ** (steps + 1) * g[0], b ** (steps + 1) * g[1]),  # one step too many
            g,  # W ignored
        ]
        if max(abs(v) for v in value) < 1000:
            break
    choices, answer = _vector_choices(rng, value, wrongs, decimals=3)
    return _rendered_question(
        f"A linear RNN computes $h_t = W h_{{t-1}} + U x_t$ with $W$ = diag({a:g}, {b:g}). The loss "
        f"depends on $h_{steps}$ only, with $\\partial L/\\partial h_{steps}$ = {_vec(g, '{:g}')}. "
        f"What is $\\partial L/\\partial h_0$ after backpropagating through all {steps} steps?",
        choices,
        answer,
        f"Each step back multiplies by $W^T$, so $\\partial L/\\partial h_0 = (W^T)^{{{steps}}} "
        f"\\partial L/\\partial h_{steps}$ = ({_pow(a, steps)}·{_p(g[0])}, {_pow(b, steps)}·{_p(g[1])}) = "
        f"{choices[answer]}. A factor below 1 vanishes geometrically, one above 1 explodes: the reason for "
        "gradient clipping, gated cells (LSTM, GRU) and careful initialisation.",
        a=a,
        b=b,
        steps=steps,
        g=list(g),
        value=list(value),
    )


_GATES = (0.0, 0.5, 1.0)


@generator("lstm_cell_state", concept="the LSTM cell state over two steps")
def lstm_cell_state(rng: random.Random) -> dict[str, Any]:
    """c_t = f_t c_{t-1} + i_t g_t for two steps, with the gates' values given."""
    while True:
        c0 = rng.choice([-2.0, -1.0, 1.0, 2.0, 4.0])
        f = [rng.choice(_GATES) for _ in range(2)]
        i = [rng.choice(_GATES) for _ in range(2)]
        g = [rng.choice([-0.75, -0.5, 0.5, 0.75]) for _ in range(2)]
        c1 = f[0] * c0 + i[0] * g[0] + 0.0  # + 0.0: never "-0"
        value = f[1] * c1 + i[1] * g[1] + 0.0
        swapped1 = i[0] * c0 + f[0] * g[0]
        wrongs = [
            i[1] * swapped1 + f[1] * g[1],  # the forget and input gates swapped
            f[1] * c0 + i[1] * g[1],  # the first step skipped
            c1 + i[1] * g[1],  # nothing forgotten (f = 1)
            i[1] * g[1],  # the old memory dropped
        ]
        wrongs = [w + 0.0 for w in wrongs]  # never "-0"
        if _all_apart(value, wrongs[:2]):
            break
    choices, answer = _numeric(rng, value, wrongs, decimals=4)
    return _rendered_question(
        f"One unit of an LSTM has cell state $c_0$ = {c0:g}. Over the next two steps its gates "
        f"take the values forget $f$ = ({f[0]:g}, {f[1]:g}), input $i$ = ({i[0]:g}, {i[1]:g}) and "
        f"the candidate $\\tilde c$ = ({g[0]:g}, {g[1]:g}). What is the cell state $c_2$?",
        choices,
        answer,
        f"$c_t = f_t c_{{t-1}} + i_t \\tilde c_t$: $c_1$ = {f[0]:g}·{_p(c0)} {_plus(i[0] * g[0])} "
        f"= {c1:g}; $c_2$ = {f[1]:g}·{_p(c1)} {_plus(i[1] * g[1])} = {choices[answer]}. The forget gate "
        "scales the old memory, the input gate the new candidate; the output gate plays no part "
        f"in $c_t$, only in $h_t = o_t \\tanh(c_t)$.",
        c0=c0,
        f=f,
        i=i,
        g=g,
        value=value,
    )
