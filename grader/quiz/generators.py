"""Parametric questions: each generator renders one variant from a seeded ``random.Random``.

A generator returns ``{"text", "choices", "answer", "explanation"}`` (and, optionally, a
``figure`` mapping for grader/quiz/figures.py, and ``data``: the numbers the tests check). Its
answer is computed, never typed, and its distractors come from the mistakes students make
(forgetting to double the padding, dividing by the wrong thing). Register one with
``@generator("name")``; say ``calculator=True`` when its numbers are not hand-computable (a
closed-book exam can leave such questions out), and ``concept=`` when two generators would
test the same idea (one concept, one question: `quiz validate` refuses a concept backed twice).
A bank names it with ``generator: name`` and ``params``.
Only the standard library here: the quiz must start fast.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Generator = Callable[..., dict[str, Any]]
GENERATORS: dict[str, Generator] = {}


@dataclass(frozen=True)
class GeneratorInfo:
    """What a bank needs to know of a generator without running it."""

    calculator: bool = False  # its numbers need a calculator
    concept: str = ""  # the idea it tests; two generators may not back one concept
    kind: str = "calculation"  # calculation | figure


INFO: dict[str, GeneratorInfo] = {}


def generator(
    name: str, *, calculator: bool = False, concept: str | None = None, kind: str = "calculation"
) -> Callable[[Generator], Generator]:
    """Registers a generator under ``name``."""

    def register(fn: Generator) -> Generator:
        GENERATORS[name] = fn
        INFO[name] = GeneratorInfo(calculator, concept or name, kind)
        return fn

    return register


NEAR = 0.02  # a distractor within 2 % of the key is too close to tell apart


def _number(text: str) -> float:
    """``text`` as a number: "0.25", "-2", or an exact fraction "-2/3" (ValueError otherwise)."""
    if "/" in text:
        num, den = text.split("/")
        return float(Fraction(int(num), int(den)))
    return float(text)


def _numbers(text: str) -> list[str] | None:
    """The numbers a choice shows ("12", "0.25", "1/8", "(1.5, -2)"), as written; None if not
    numeric."""
    parts = [t.strip() for t in text.strip().strip("()[]").split(",")]
    try:
        for t in parts:
            _number(t)
    except ValueError:
        return None
    return parts


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text and "e" not in text.lower() else 0


def _significant(text: str) -> int:
    mantissa = text.lower().split("e")[0].lstrip("+-−").replace(".", "").lstrip("0")
    return len(mantissa)


def too_close(key: str, other: str, rel: float = NEAR) -> bool:
    """``other`` shows (nearly) the key's number(s), in every component: within ``rel`` of it, or
    within one unit of the last digit shown where that digit is a rounding (three significant
    digits or more: 0.601 and 0.6 are too close, 0.04 and 0.05 are not). Integers shown exactly
    (counts, sizes) are too close only when equal: 7840 is a fair distractor for 7850."""
    a, b = _numbers(key), _numbers(other)
    if a is None or b is None or len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        fx, fy = _number(x), _number(y)
        if not any(c in t.lower() for t in (x, y) for c in ".e"):
            close = fx == fy
        else:
            close = abs(fx - fy) <= rel * abs(fx)
            if max(_significant(x), _significant(y)) >= 3:
                unit = 10.0 ** -max(_decimals(x), _decimals(y))
                close = close or abs(fx - fy) <= unit * 1.000001
        if not close:
            return False
    return True


def _plus(v: float, fmt: str = "{:g}") -> str:
    """``+ v`` or, for a negative v, ``− |v|`` (never ``+ -v``)."""
    v = v + 0.0  # no -0
    return f"+ {fmt.format(v)}" if v >= 0 else f"− {fmt.format(-v)}"


def _minus(v: float, fmt: str = "{:g}") -> str:
    """``− v`` or, for a negative v, ``+ |v|`` (never ``− -v``)."""
    v = v + 0.0  # no -0
    return f"− {fmt.format(v)}" if v >= 0 else f"+ {fmt.format(-v)}"


def _choices(
    rng: random.Random, correct: str, distractors: list[str], k: int = 4
) -> tuple[list[str], int]:
    """``correct`` and up to ``k - 1`` distinct distractors, in a random order; (choices, answer)."""
    picked: list[str] = []
    for d in distractors:
        if d != correct and d not in picked:
            picked.append(d)
    options = [correct, *picked[: k - 1]]
    rng.shuffle(options)
    return options, options.index(correct)


@generator("conv_output_size")
def conv_output_size(rng: random.Random, max_input: int = 64) -> dict[str, Any]:
    """The output width of a convolution: (n + 2p - k) // s + 1, with the usual slips as distractors."""
    while True:
        k = rng.choice([1, 3, 5, 7])
        s = rng.choice([1, 2, 2, 3])
        p = rng.choice([0, 1, 2, k // 2])
        n = rng.randint(max(k, 5), max_input)
        out = (n + 2 * p - k) // s + 1
        wrong = {
            (n + p - k) // s + 1,  # padding on one side only
            (n + 2 * p - k) // s,  # the +1 forgotten
            n + 2 * p - k + 1,  # the stride ignored
            math.ceil((n + 2 * p - k) / s) + 1,  # rounding up
            (n - k) // s + 1,  # padding ignored
        } - {out}
        wrong = {v for v in wrong if v > 0}
        if len(wrong) >= 3 and out > 0:
            break
    distractors = sorted(wrong, key=lambda v: (abs(v - out), v))
    choices, answer = _choices(rng, str(out), [str(v) for v in distractors])
    return {
        "data": {"n": n, "k": k, "s": s, "p": p, "value": out},
        "text": (
            f"A convolution with a ${k}\\times{k}$ kernel, stride {s} and zero padding {p} "
            f"(on every side) is applied to a ${n}\\times{n}$ input. What is the width of its output?"
        ),
        "choices": choices,
        "answer": answer,
        "explanation": (
            f"The output size is $\\lfloor (n + 2p - k) / s \\rfloor + 1$ = "
            f"$\\lfloor ({n} + 2\\cdot{p} - {k}) / {s} \\rfloor + 1$ = {out}. "
            "Padding adds p zeros on both sides (2p in all), the division by the stride rounds down, "
            "and the +1 counts the first window."
        ),
    }


@generator("softmax_probability", calculator=True)
def softmax_probability(rng: random.Random, classes: int = 3) -> dict[str, Any]:
    """The softmax probability of one class, from small integer logits."""
    while True:
        logits = [rng.randint(-2, 3) for _ in range(classes)]
        i = rng.randrange(classes)
        exps = [math.exp(z) for z in logits]
        p = exps[i] / sum(exps)
        wrong = [
            logits[i] / sum(logits) if sum(logits) else None,  # normalising the logits themselves
            1 / classes,  # ignoring the logits
            math.exp(logits[i]) / sum(abs(z) for z in logits) if any(logits) else None,
            1 / (1 + math.exp(-logits[i])),  # the sigmoid of the logit
        ]
        texts: list[str] = []
        for v in wrong:
            t = f"{v:.3f}" if v is not None and 0 <= v <= 1 else None
            if t and all(not too_close(u, t) for u in (f"{p:.3f}", *texts)):
                texts.append(t)
        if len(texts) >= 3:
            break
    choices, answer = _choices(rng, f"{p:.3f}", texts)
    z = ", ".join(str(v) for v in logits)
    return {
        "data": {"logits": logits, "i": i, "value": p},
        "text": (
            f"A classifier outputs the logits $z = ({z})$. What probability does softmax give "
            f"class {i + 1}?"
        ),
        "choices": choices,
        "answer": answer,
        "explanation": (
            f"$\\mathrm{{softmax}}(z)_{i + 1} = e^{{z_{i + 1}}} / \\sum_j e^{{z_j}}$ = "
            f"{exps[i]:.3f} / {sum(exps):.3f} = {p:.3f}. Softmax exponentiates first: dividing the raw "
            "logits by their sum is not a probability, and the sigmoid of one logit ignores the others."
        ),
    }


# -- helpers for numeric questions -----------------------------------------------------------
def _decimals_needed(v: float, cap: int) -> int:
    """The fewest decimals (at most ``cap``) that show ``v`` exactly."""
    for d in range(cap + 1):
        if abs(round(v, d) - v) < 1e-9:
            return d
    return cap


def _fixed(v: float | Fraction, d: int) -> str:
    """``v`` with ``d`` decimals, never "-0.00"."""
    t = f"{v + 0.0:.{d}f}"
    return t[1:] if t.startswith("-") and not t.strip("-0.") else t


def shown_alike(values: Sequence[float | Fraction], cap: int) -> list[str]:
    """``values`` shown with one precision, as the linter's precision check wants: the fewest
    decimals (at most ``cap``) that show every one of them exactly, else ``cap`` decimals for all.
    Integers stay integers; a rounded key never sits among exact distractors, or the reverse."""
    d = max(_decimals_needed(float(v), cap) for v in values)
    return [_fixed(v, d) for v in values]


def fraction(v: float | Fraction, limit: int = 1000) -> str:
    """``v`` as an exact fraction ("1/8", "-2/3", "3")."""
    f = Fraction(v).limit_denominator(limit)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _numeric(
    rng: random.Random,
    value: float,
    wrongs: Sequence[float | None],
    fmt: str = "{:g}",
    k: int = 4,
    decimals: int | None = None,
) -> tuple[list[str], int]:
    """Choices for a computed ``value``: the distractors the mistakes give, then, if fewer than
    ``k - 1`` stand apart once formatted (from the key and from each other, see
    :func:`too_close`), plausible neighbours of the value. With ``decimals``, every choice is
    shown with one number of decimals (:func:`shown_alike`, at most ``decimals``) and ``fmt``
    is not used; a whole-number key then gets whole-number neighbours."""
    integer = fmt.endswith("d}") and decimals is None
    whole = decimals is not None and abs(value - round(value)) < 1e-9

    def show(v: float) -> str:
        if decimals is not None:
            return _fixed(v, decimals)
        return fmt.format(int(round(v)) if integer else v)

    correct = show(value)
    texts: list[str] = []
    values: list[float] = []

    def apart(t: str) -> bool:
        return all(not too_close(u, t) and not too_close(t, u) for u in (correct, *texts))

    for w in wrongs:
        if w is None or (isinstance(w, float) and not math.isfinite(w)) or (integer and w <= 0):
            continue
        t = show(w)
        if apart(t):
            texts.append(t)
            values.append(w)
    step = 1
    while len(texts) < k - 1:
        for w in (value * (1 + 0.25 * step) + step, value * (1 - 0.2 * step) - step):
            if integer and w <= 0:
                w = value + 2 * step + 1
            if whole:
                w = float(round(w))
            t = show(w)
            if apart(t) and len(texts) < k - 1:
                texts.append(t)
                values.append(w)
        step += 1
    if decimals is not None:
        alike = shown_alike([value, *values[: k - 1]], decimals)
        if all(
            not too_close(a, b) for i, a in enumerate(alike) for j, b in enumerate(alike) if i != j
        ):
            correct, texts = alike[0], alike[1:]
    return _choices(rng, correct, texts[: k - 1], k)


def _stand_apart(fmt: str, value: float, wrongs: list[float]) -> bool:
    """Every mistake's answer, formatted, stands apart from the key's: a generator redraws its
    numbers until the mistakes it is about show as distractors."""
    key = fmt.format(value)
    return all(not too_close(key, fmt.format(w)) for w in wrongs)


def _rendered_question(
    text: str, choices: list[str], answer: int, explanation: str, **data: Any
) -> dict[str, Any]:
    return {
        "text": text,
        "choices": choices,
        "answer": answer,
        "explanation": explanation,
        "data": data,
    }


@generator("transposed_conv_output_size")
def transposed_conv_output_size(rng: random.Random) -> dict[str, Any]:
    n, k, s = rng.randint(3, 16), rng.choice([2, 3, 4, 5]), rng.choice([1, 2, 2, 3])
    p = rng.choice([0, 1]) if k > 2 else 0
    out = (n - 1) * s - 2 * p + k
    wrongs = [
        (n + 2 * p - k) // s + 1,
        n * s,
        (n - 1) * s + k if p else None,  # the padding forgotten
        (n - 1) * s - p + k if p else None,  # padded on one side only
        n * s - 2 * p + k,
    ]
    choices, answer = _numeric(rng, out, wrongs, "{:d}")
    return _rendered_question(
        f"A transposed convolution (`ConvTranspose2d`) with a ${k}\\times{k}$ kernel, stride {s} and "
        f"padding {p} is applied to a ${n}\\times{n}$ input. What is the width of its output?",
        choices,
        answer,
        f"A transposed convolution inverts the shape rule of a convolution: "
        f"$(n - 1) s - 2p + k$ = $({n} - 1)\\cdot{s} - 2\\cdot{p} + {k}$ = {out}. "
        "Using the convolution formula instead shrinks the input; forgetting the −1"
        + (" or the padding are the usual slips." if p else " is the usual slip."),
        n=n,
        k=k,
        s=s,
        p=p,
        value=out,
    )


@generator("dense_parameter_count")
def dense_parameter_count(rng: random.Random) -> dict[str, Any]:
    d_in, d_out = rng.choice([32, 64, 100, 128, 256, 784]), rng.choice([10, 16, 64, 128, 300])
    value = d_in * d_out + d_out
    choices, answer = _numeric(
        rng, value, [d_in * d_out, d_in * d_out + d_in, (d_in + 1) * (d_out + 1)], "{:d}"
    )
    return _rendered_question(
        f"How many trainable parameters does a fully connected layer from {d_in} inputs to {d_out} outputs (with bias) have?",
        choices,
        answer,
        f"A weight per (input, output) pair plus one bias per output: ${d_in}\\cdot{d_out} + {d_out}$ = {value}.",
        d_in=d_in,
        d_out=d_out,
        value=value,
    )


@generator("conv_parameter_count")
def conv_parameter_count(rng: random.Random) -> dict[str, Any]:
    c, f, k = rng.choice([1, 3, 16, 32, 64]), rng.choice([8, 16, 32, 64]), rng.choice([1, 3, 5, 7])
    value = f * (c * k * k + 1)
    wrongs = [f * c * k * k, f * (k * k + 1), f * k * k + 1, c * f * k]
    choices, answer = _numeric(rng, value, wrongs, "{:d}")
    return _rendered_question(
        f"How many trainable parameters does a `Conv2d({c}, {f}, kernel_size={k})` layer (with bias) have?",
        choices,
        answer,
        f"Each of the {f} filters has ${c}\\cdot{k}\\cdot{k}$ weights (it spans every input channel) and one bias: "
        f"${f}\\cdot({c}\\cdot{k * k} + 1)$ = {value}. The input's height and width do not matter: the weights are shared.",
        c=c,
        f=f,
        k=k,
        value=value,
    )


@generator("lstm_parameter_count")
def lstm_parameter_count(rng: random.Random) -> dict[str, Any]:
    d, h = rng.choice([8, 16, 32, 50, 100]), rng.choice([16, 32, 64, 128])
    value = 4 * (h * d + h * h + 2 * h)
    wrongs = [
        4 * (h * d + h * h + h),
        h * d + h * h + 2 * h,
        3 * (h * d + h * h + 2 * h),
        4 * (h * d + 2 * h),
    ]
    choices, answer = _numeric(rng, value, wrongs, "{:d}")
    return _rendered_question(
        f"How many parameters does `torch.nn.LSTM(input_size={d}, hidden_size={h})` (one layer) have?",
        choices,
        answer,
        f"Four gates (i, f, g, o), each with input weights ${h}\\times{d}$, recurrent weights ${h}\\times{h}$ and, "
        f"in PyTorch, two bias vectors of {h}: $4({h}\\cdot{d} + {h}\\cdot{h} + 2\\cdot{h})$ = {value}. "
        f"A GRU has three gates; textbooks with one bias vector per gate give "
        f"$4({h}\\cdot{d} + {h}\\cdot{h} + {h})$ = {4 * (h * d + h * h + h)}.",
        d=d,
        h=h,
        value=value,
    )


@generator("gru_parameter_count")
def gru_parameter_count(rng: random.Random) -> dict[str, Any]:
    d, h = rng.choice([8, 16, 32, 50, 100]), rng.choice([16, 32, 64, 128])
    value = 3 * (h * d + h * h + 2 * h)
    wrongs = [4 * (h * d + h * h + 2 * h), 3 * (h * d + h * h + h), 2 * (h * d + h * h + 2 * h)]
    choices, answer = _numeric(rng, value, wrongs, "{:d}")
    return _rendered_question(
        f"How many parameters does `torch.nn.GRU(input_size={d}, hidden_size={h})` (one layer) have?",
        choices,
        answer,
        f"Three gates (reset, update, new), each with ${h}\\times{d}$ input weights, ${h}\\times{h}$ recurrent "
        f"weights and two bias vectors of {h} in PyTorch: $3({h}\\cdot{d} + {h}\\cdot{h} + 2\\cdot{h})$ = {value}.",
        d=d,
        h=h,
        value=value,
    )


@generator("embedding_parameter_count")
def embedding_parameter_count(rng: random.Random) -> dict[str, Any]:
    v, d = rng.choice([1000, 5000, 10000, 30000, 50000]), rng.choice([50, 100, 128, 300, 512])
    value = v * d
    choices, answer = _numeric(rng, value, [v * d + d, v + d, v * d + v], "{:d}")
    return _rendered_question(
        f"An embedding layer maps a vocabulary of {v} tokens to vectors of size {d}. How many parameters does it have?",
        choices,
        answer,
        f"An embedding is a lookup table, one row of {d} numbers per token and no bias: ${v}\\cdot{d}$ = {value}. "
        "It equals a linear layer applied to one-hot vectors, without the bias.",
        v=v,
        d=d,
        value=value,
    )


@generator("receptive_field")
def receptive_field(rng: random.Random) -> dict[str, Any]:
    """At least one layer before the last has a stride above 1 (the last layer's stride does not
    change the receptive field of one output), so ignoring the strides is a wrong answer."""
    while True:
        layers = [(rng.choice([3, 3, 5]), rng.choice([1, 1, 2])) for _ in range(rng.randint(2, 4))]
        if any(s > 1 for _, s in layers[:-1]):
            break
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    naive = 1 + sum(k - 1 for k, _ in layers)
    summed = sum(k for k, _ in layers)
    product = 1
    for k, _ in layers:
        product *= k
    choices, answer = _numeric(rng, r, [naive, summed, product, r + jump], "{:d}")
    stack = ", ".join(f"{k}×{k} stride {s}" for k, s in layers)
    return _rendered_question(
        f"What is the receptive field (in input pixels, along one axis) of one output of this stack of "
        f"convolutions, input first: {stack}?",
        choices,
        answer,
        "Each layer adds $(k - 1)$ times the product of the strides before it: "
        f"$r = 1 + \\sum_l (k_l - 1) \\prod_{{j<l}} s_j$ = {r}. Ignoring the strides gives {naive}.",
        layers=layers,
        value=r,
    )


@generator("matmul_shape")
def matmul_shape(rng: random.Random) -> dict[str, Any]:
    b, n, k, m = rng.sample(range(2, 65), 4)  # four different sizes, so no shape is ambiguous
    correct = f"({b}, {n}, {m})"
    wrongs = [f"({b}, {m}, {n})", f"({n}, {m})", f"({b}, {n}, {k})", f"({b}, {k}, {m})"]
    choices, answer = _choices(rng, correct, wrongs)
    return _rendered_question(
        f"`A` has shape ({b}, {n}, {k}) and `B` has shape ({k}, {m}). What is the shape of `A @ B`?",
        choices,
        answer,
        f"`@` multiplies the last two axes, ({n}, {k}) by ({k}, {m}) gives ({n}, {m}), the inner {k} disappears, "
        f"and `B` is broadcast over the leading batch axis {b}: {correct}.",
        shapes=[[b, n, k], [k, m]],
        value=[b, n, m],
    )


@generator("cross_entropy_value", calculator=True)
def cross_entropy_value(rng: random.Random) -> dict[str, Any]:
    while True:  # below p = 0.6, -log p and 1 - p differ enough to tell apart
        logits = [rng.randint(-2, 3) for _ in range(3)]
        y = rng.randrange(3)
        lse = math.log(sum(math.exp(z) for z in logits))
        value = lse - logits[y]
        p = math.exp(logits[y] - lse)
        if len(set(logits)) > 1 and p <= 0.6:
            break
    slips = [  # each distractor and the slip that gives it
        (math.log(3), "$\\log 3$ is the loss of a uniform prediction, whatever the logits"),
        (1 - p, "$1 - p_y$ is not a logarithm"),
        (max(logits) - logits[y], "the largest logit minus $z_y$ drops the log-sum-exp"),
        (-math.log10(p), "a base-10 log gives $-\\log_{10} p_y$"),
        (lse, "$\\log \\sum_j e^{z_j}$ alone forgets to subtract $z_y$"),
    ]
    choices, answer = _numeric(rng, value, [w for w, _ in slips], "{:.3f}")
    named = [why for w, why in slips if f"{w:.3f}" in choices and f"{w:.3f}" != choices[answer]]
    z = ", ".join(map(str, logits))
    ordinal = ("first", "second", "third")[y]
    return _rendered_question(
        f"Logits $z = ({z})$; the true class is the {ordinal} one (its logit is {logits[y]}). What "
        "is the cross-entropy loss $-\\log \\mathrm{softmax}(z)_y$ (natural log)?",
        choices,
        answer,
        f"$-\\log p_y = \\log \\sum_j e^{{z_j}} - z_y$ = {lse:.3f} {_minus(logits[y])} = {value:.3f}."
        + (" Among the other choices: " + "; ".join(named) + "." if named else ""),
        logits=logits,
        y=y,
        value=value,
    )


@generator("sigmoid_bce", calculator=True)
def sigmoid_bce(rng: random.Random) -> dict[str, Any]:
    z = rng.choice([-3, -2, -1, -0.5, 0.5, 1, 2, 3])
    t = rng.choice([0, 1])
    s = 1 / (1 + math.exp(-z))
    value = -(t * math.log(s) + (1 - t) * math.log(1 - s))
    wrongs = [
        -(t * math.log(1 - s) + (1 - t) * math.log(s)),
        abs(t - s),
        (t - s) ** 2,
        -math.log(s),
    ]
    choices, answer = _numeric(rng, value, wrongs, "{:.3f}")
    return _rendered_question(
        f"A binary classifier outputs the logit $z = {z:g}$ for a sample of label $t = {t}$. What is the binary "
        "cross-entropy $-[t \\log \\sigma(z) + (1 - t) \\log(1 - \\sigma(z))]$?",
        choices,
        answer,
        f"$\\sigma({z:g})$ = {s:.3f}, so the loss is $-\\log$ of the probability given to the true label: {value:.3f}.",
        z=z,
        t=t,
        value=value,
    )


@generator("perceptron_update")
def perceptron_update(rng: random.Random) -> dict[str, Any]:
    w = [rng.randint(-3, 3) for _ in range(2)]
    x = [rng.randint(-2, 3) for _ in range(2)]
    b = rng.randint(-2, 2)
    lr = rng.choice([1, 0.5])
    score = w[0] * x[0] + w[1] * x[1] + b
    pred = 1 if score > 0 else 0
    y = 1 - pred  # a mistake, so the rule changes w
    sign = y - pred
    new = [w[i] + lr * sign * x[i] for i in range(2)]

    def fmt(v: Sequence[float]) -> str:
        return "(" + ", ".join(f"{a:g}" for a in v) + ")"

    wrongs: list[list[float]] = [
        [w[i] - lr * sign * x[i] for i in range(2)],  # the sign of the correction reversed
        [float(a) for a in w],  # no update: "the prediction was close enough"
        [w[i] + lr * x[i] for i in range(2)],  # always adding x
        [w[i] + sign * x[i] for i in range(2)],  # the learning rate forgotten
    ]
    picked: list[list[float]] = []
    for v in wrongs:
        if v != new and v not in picked:
            picked.append(v)
    extra = 1
    while len(picked) < 3:  # the mistakes coincide on these numbers: add neighbours
        v = [new[0] + extra, new[1] - extra]
        if v not in picked:
            picked.append(v)
        extra += 1
    vectors = [new, *picked[:3]]
    # one precision per component: halves (learning rate 0.5) show as 2.5 and 3.0, not 2.5 and 3
    columns = [shown_alike([v[i] for v in vectors], 1) for i in range(2)]
    shown = [f"({columns[0][r]}, {columns[1][r]})" for r in range(len(vectors))]
    choices, answer = _choices(rng, shown[0], shown[1:])
    return _rendered_question(
        f"A perceptron (labels 0/1, $f(x) = 1$ if $w \\cdot x + b > 0$) has $w = {fmt(w)}$, $b = {b}$. It sees "
        f"$x = {fmt(x)}$ with label $y = {y}$. What is $w$ after one update with learning rate {lr:g}?",
        choices,
        answer,
        f"$w \\cdot x + b$ = {score}, so $f(x) = {pred}$ and $y - f(x) = {sign}$: "
        f"$w \\leftarrow w + {lr:g}\\cdot({sign})\\cdot x$ = {choices[answer]}.",
        w=w,
        x=x,
        b=b,
        y=y,
        lr=lr,
        value=new,
    )


@generator("momentum_step")
def momentum_step(rng: random.Random) -> dict[str, Any]:
    """One step of SGD with momentum; the numbers are redrawn until plain SGD, the velocity
    without β and the step taken uphill all give answers that stand apart from the key."""
    while True:
        w, v, g = (
            rng.choice([1.0, 0.5, -1.0, 0.0]),
            rng.choice([0.2, -0.4, 1.0, 0.5, -1.0]),
            rng.choice([0.5, -1.0, 2.0, 1.5]),
        )
        beta, lr = rng.choice([0.9, 0.5]), rng.choice([0.1, 0.5])
        v_new = beta * v + g
        value = w - lr * v_new
        wrongs = [w - lr * g, w - lr * (v + g), w + lr * v_new, w - lr * (beta * g + v)]
        if _stand_apart("{:.4g}", value, wrongs[:3]):
            break
    choices, answer = _numeric(rng, value, wrongs, decimals=4)
    return _rendered_question(
        f"SGD with momentum (as in PyTorch: $v \\leftarrow \\beta v + g$, $w \\leftarrow w - \\eta v$), with $\\beta = {beta}$, "
        f"$\\eta = {lr}$. The weight is $w = {w}$, the velocity $v = {v}$, the gradient $g = {g}$. What is $w$ after the step?",
        choices,
        answer,
        f"$v$ = {beta}·{v} {_plus(g)} = {v_new:.4g}; $w$ = {w} {_minus(lr * v_new, '{:.4g}')} = {choices[answer]}. "
        "Plain SGD would ignore $v$; adding the step instead of subtracting climbs the loss.",
        w=w,
        v=v,
        g=g,
        beta=beta,
        lr=lr,
        value=value,
    )


@generator("adam_first_step")
def adam_first_step(rng: random.Random) -> dict[str, Any]:
    """Adam's first step is about η·sign(g); redrawn until forgetting the bias correction, using
    the raw gradient or the wrong sign each give an answer apart from the key."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    while True:
        w, g = rng.choice([1.0, 0.5, -2.0, 0.0]), rng.choice([0.001, 0.5, -3.0, 40.0])
        lr = rng.choice([0.1, 0.01])
        m, v = (1 - b1) * g, (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1), v / (1 - b2)
        value = w - lr * m_hat / (math.sqrt(v_hat) + eps)
        no_correction = w - lr * m / (math.sqrt(v) + eps)
        wrongs = [no_correction, w - lr * g, w + lr * math.copysign(1, g), w - lr * m]
        if _stand_apart("{:.4g}", value, wrongs[:3]):
            break
    choices, answer = _numeric(rng, value, wrongs, decimals=4)
    return _rendered_question(
        f"Adam ($\\beta_1 = 0.9$, $\\beta_2 = 0.999$, $\\epsilon = 10^{{-8}}$, learning rate {lr}) takes its first step "
        f"from $w = {w}$ with gradient $g = {g}$. What is $w$ after it?",
        choices,
        answer,
        "On the first step the bias-corrected moments are exactly $\\hat m = g$ and $\\hat v = g^2$, so the step is "
        f"$\\eta\\, g / (|g| + \\epsilon) \\approx \\eta\\,\\mathrm{{sign}}(g)$ whatever the size of $g$: $w$ = {choices[answer]}. "
        "Without the bias corrections it would be $(1-\\beta_1)/\\sqrt{1-\\beta_2} \\approx 3.16$ times that.",
        w=w,
        g=g,
        lr=lr,
        value=value,
    )


@generator("discounted_return")
def discounted_return(rng: random.Random) -> dict[str, Any]:
    rewards = [rng.choice([0, 0, 1, -1, 2]) for _ in range(rng.randint(3, 5))]
    if not any(rewards):
        rewards[-1] = 1
    gamma = rng.choice([0.9, 0.5, 0.8])
    value = sum(r * gamma**t for t, r in enumerate(rewards))
    wrongs = [
        sum(rewards),
        sum(r * gamma ** (t + 1) for t, r in enumerate(rewards)),
        sum(r * gamma ** (len(rewards) - 1 - t) for t, r in enumerate(rewards)),
        gamma * sum(rewards),
    ]
    choices, answer = _numeric(rng, value, wrongs, decimals=3)
    return _rendered_question(
        f"An episode gives the rewards $r_0, r_1, \\dots = {tuple(rewards)}$. What is the discounted return $G_0 = "
        f"\\sum_t \\gamma^t r_t$ with $\\gamma = {gamma}$?",
        choices,
        answer,
        "The first reward counts fully ($\\gamma^0 = 1$), each later one is discounted once more: "
        f"$G_0$ = {choices[answer]}. Starting the powers at 1, or reversing them, are the usual slips.",
        rewards=rewards,
        gamma=gamma,
        value=value,
    )


def _td_data(rng: random.Random) -> tuple[float, float, list[float], float, float, int]:
    """(Q(s, a), r, Q(s', ·), α, γ, the next action): the next action is never the greedy one
    (else SARSA and Q-learning coincide), neither bootstrap value is 0 and γ is 0.5 or 0.8 (else
    forgetting γ changes nothing, or almost nothing)."""
    while True:
        q_sa = rng.choice([0.0, 0.5, 1.0, -1.0])
        r = rng.choice([0.0, 1.0, -1.0, 2.0])
        q_next = [rng.choice([0.0, 0.5, 1.0, 2.0, -0.5]) for _ in range(3)]
        a_next = rng.randrange(3)
        if q_next[a_next] < max(q_next) and q_next[a_next] != 0:
            return q_sa, r, q_next, rng.choice([0.5, 0.1]), rng.choice([0.5, 0.8]), a_next


def _p(v: float) -> str:
    """A factor as written after a dot: ``2`` or ``(-0.5)``."""
    v = v + 0.0  # no -0
    return f"{v:g}" if v >= 0 else f"({v:g})"


@generator("q_learning_update")
def q_learning_update(rng: random.Random) -> dict[str, Any]:
    while True:
        q, r, nxt, alpha, gamma, a_next = _td_data(rng)
        value = q + alpha * (r + gamma * max(nxt) - q)
        sarsa = q + alpha * (r + gamma * nxt[a_next] - q)
        no_gamma = q + alpha * (r + max(nxt) - q)
        wrongs = [sarsa, no_gamma, r + gamma * max(nxt), q + alpha * (r - q)]
        if _stand_apart("{:.4g}", value, wrongs[:3]):
            break
    choices, answer = _numeric(rng, value, wrongs, decimals=3)
    return _rendered_question(
        f"Q-learning with $\\alpha = {alpha}$, $\\gamma = {gamma}$: $Q(s, a) = {q}$, the reward is {r}, and the next "
        f"state's values are $Q(s', \\cdot) = {tuple(nxt)}$ (not terminal). The next action taken is {a_next + 1}. "
        "What is the new $Q(s, a)$?",
        choices,
        answer,
        f"Q-learning bootstraps on the best next value, whatever action follows: $Q \\leftarrow Q + \\alpha(r + \\gamma \\max_{{a'}} Q(s', a') - Q)$ "
        f"= {q} + {alpha}·({r:g} + {gamma}·{_p(max(nxt))} {_minus(q)}) = {choices[answer]}. Using the action taken next "
        f"(value {nxt[a_next]:g}) is SARSA: {sarsa:.4g}; forgetting γ gives {no_gamma:.4g}.",
        q=q,
        r=r,
        next=nxt,
        alpha=alpha,
        gamma=gamma,
        a_next=a_next,
        value=value,
    )


@generator("sarsa_update")
def sarsa_update(rng: random.Random) -> dict[str, Any]:
    while True:
        q, r, nxt, alpha, gamma, a_next = _td_data(rng)
        value = q + alpha * (r + gamma * nxt[a_next] - q)
        qlearn = q + alpha * (r + gamma * max(nxt) - q)
        no_gamma = q + alpha * (r + nxt[a_next] - q)
        wrongs = [qlearn, no_gamma, r + gamma * nxt[a_next], q + alpha * (r - q)]
        if _stand_apart("{:.4g}", value, wrongs[:3]):
            break
    choices, answer = _numeric(rng, value, wrongs, decimals=3)
    return _rendered_question(
        f"SARSA with $\\alpha = {alpha}$, $\\gamma = {gamma}$: $Q(s, a) = {q}$, the reward is {r}, the next state's "
        f"values are $Q(s', \\cdot) = {tuple(nxt)}$ (not terminal) and the next action taken is {a_next + 1}. "
        "What is the new $Q(s, a)$?",
        choices,
        answer,
        f"SARSA bootstraps on the action actually taken next: $Q + \\alpha(r + \\gamma Q(s', a') - Q)$ = "
        f"{q} + {alpha}·({r:g} + {gamma}·{_p(nxt[a_next])} {_minus(q)}) = {choices[answer]}. The max over next actions "
        f"belongs to Q-learning ({qlearn:.4g}); forgetting γ gives {no_gamma:.4g}.",
        q=q,
        r=r,
        next=nxt,
        alpha=alpha,
        gamma=gamma,
        a_next=a_next,
        value=value,
    )


@generator("epsilon_greedy_probability")
def epsilon_greedy_probability(rng: random.Random) -> dict[str, Any]:
    eps, a = rng.choice([0.1, 0.2, 0.3, 0.5]), rng.choice([3, 4, 5, 10])
    greedy = rng.random() < 0.5
    value = 1 - eps + eps / a if greedy else eps / a
    wrongs = [1 - eps, eps, eps / (a - 1), 1 - eps + eps / a, eps / a, 1 / a]
    choices, answer = _numeric(rng, value, wrongs, decimals=3)
    which = "the greedy action" if greedy else "one particular non-greedy action"
    return _rendered_question(
        f"ε-greedy with $\\epsilon = {eps}$ over {a} actions (the random choice is uniform over all {a}, the greedy "
        f"one included). What is the probability of choosing {which}?",
        choices,
        answer,
        f"With probability $1 - \\epsilon$ the greedy action, and with probability $\\epsilon$ a uniform draw that "
        f"may also pick it: greedy $1 - \\epsilon + \\epsilon/{a}$, any other $\\epsilon/{a}$. Here {choices[answer]}.",
        epsilon=eps,
        actions=a,
        greedy=greedy,
        value=value,
    )


@generator("ucb_score", calculator=True)
def ucb_score(rng: random.Random) -> dict[str, Any]:
    q, n, t, c = (
        rng.choice([0.2, 0.5, 1.0]),
        rng.choice([1, 4, 10, 25]),
        rng.choice([10, 50, 100, 1000]),
        rng.choice([1.0, 2.0]),
    )
    value = q + c * math.sqrt(math.log(t) / n)
    wrongs = [
        q + c * math.sqrt(t / n),
        q + c * math.log(t) / n,
        q + math.sqrt(c * math.log(t) / n),
        q + c * math.sqrt(math.log10(t) / n),
    ]
    choices, answer = _numeric(rng, value, wrongs, decimals=3)
    return _rendered_question(
        f"UCB1 scores an arm with estimated value {q}, pulled {'once' if n == 1 else f'{n} times'} "
        f"in $t = {t}$ rounds, with $c = {c:g}$. "
        "What is its score $Q + c\\sqrt{\\ln t / N}$?",
        choices,
        answer,
        f"$\\ln {t}$ = {math.log(t):.4g}; the bonus is {c:g}·√({math.log(t):.4g}/{n}) = {value - q:.4g}, so the score "
        f"is {choices[answer]}. Rarely tried arms get a large bonus, which shrinks as $N$ grows.",
        q=q,
        n=n,
        t=t,
        c=c,
        value=value,
    )


@generator("inverted_dropout_scale")
def inverted_dropout_scale(rng: random.Random) -> dict[str, Any]:
    p, x = rng.choice([0.1, 0.2, 0.25, 0.5, 0.8]), rng.choice([1.0, 2.0, 3.0, 4.0])
    value = x / (1 - p)
    choices, answer = _numeric(rng, value, [x * (1 - p), x / p, x, x * p], decimals=3)
    return _rendered_question(
        f"Inverted dropout with drop probability $p = {p}$ at training time. An activation of {x} is kept. "
        "What value does the layer output for it?",
        choices,
        answer,
        f"Kept units are divided by the keep probability $1 - p$ = {1 - p:g}, so that the expected output equals the "
        f"input and nothing changes at test time: {x}/{1 - p:g} = {choices[answer]}.",
        p=p,
        x=x,
        value=value,
    )


@generator("batchnorm_output", calculator=True)
def batchnorm_output(rng: random.Random) -> dict[str, Any]:
    batch = rng.choice(
        [[1.0, 2.0, 3.0, 6.0], [0.0, 2.0, 4.0, 6.0], [2.0, 2.0, 4.0, 8.0], [-1.0, 1.0, 3.0, 5.0]]
    )
    i = rng.randrange(4)
    gamma, beta = rng.choice([1.0, 2.0, 0.5]), rng.choice([0.0, 1.0, -1.0])
    mean = sum(batch) / 4
    var = sum((b - mean) ** 2 for b in batch) / 4
    value = gamma * (batch[i] - mean) / math.sqrt(var + 1e-5) + beta
    var_unbiased = sum((b - mean) ** 2 for b in batch) / 3
    wrongs = [
        gamma * (batch[i] - mean) / math.sqrt(var_unbiased) + beta,
        gamma * (batch[i] - mean) / var + beta,
        (batch[i] - mean) / math.sqrt(var),
        gamma * batch[i] + beta,
    ]
    choices, answer = _numeric(rng, value, wrongs, "{:.3f}")
    return _rendered_question(
        f"Batch normalisation at training time, one feature, batch ${tuple(batch)}$, $\\gamma = {gamma}$, "
        f"$\\beta = {beta}$, $\\epsilon = 10^{{-5}}$. What does it output for the entry {batch[i]} (position {i + 1})?",
        choices,
        answer,
        f"The batch mean is {mean:g} and the (biased, divide-by-n) variance {var:g}: "
        f"$\\gamma (x - \\mu)/\\sqrt{{\\sigma^2 + \\epsilon}} + \\beta$ = {value:.3f}. Dividing by the variance instead of "
        "the standard deviation, or forgetting γ and β, are the usual slips.",
        batch=batch,
        i=i,
        gamma=gamma,
        beta=beta,
        value=value,
    )


@generator("kl_gaussians", calculator=True)
def kl_gaussians(rng: random.Random) -> dict[str, Any]:
    mu1, s1 = rng.choice([0.0, 0.5, 1.0, -1.0]), rng.choice([0.5, 1.0, 2.0])
    mu2, s2 = rng.choice([0.0, 1.0]), rng.choice([1.0, 2.0])
    if s1 == s2:  # equal spreads make KL symmetric; the question is about its asymmetry too
        s1 = 0.5 if s2 != 0.5 else 1.0
    value = math.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5
    reverse = math.log(s1 / s2) + (s2**2 + (mu2 - mu1) ** 2) / (2 * s1**2) - 0.5
    wrongs = [
        reverse,
        (mu1 - mu2) ** 2 / 2,
        math.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2),
        abs(math.log(s2 / s1)),
    ]
    choices, answer = _numeric(rng, value, wrongs, "{:.4f}")
    return _rendered_question(
        f"What is $\\mathrm{{KL}}(\\mathcal{{N}}({mu1:g}, {s1:g}^2) \\,\\|\\, \\mathcal{{N}}({mu2:g}, {s2:g}^2))$ (in nats)?",
        choices,
        answer,
        "For one-dimensional Gaussians, $\\mathrm{KL} = \\log(\\sigma_2/\\sigma_1) + (\\sigma_1^2 + (\\mu_1 - \\mu_2)^2)/(2\\sigma_2^2) - 1/2$ "
        f"= {value:.4f}. KL is not symmetric: the reverse direction gives {reverse:.4f}.",
        mu1=mu1,
        s1=s1,
        mu2=mu2,
        s2=s2,
        value=value,
    )


@generator("attention_scale")
def attention_scale(rng: random.Random) -> dict[str, Any]:
    """Sizes whose model width, head count and head dimension are all perfect squares, so that
    every choice is an exact fraction (1/8, 1/32, ...) and 1/√d_k is hand-computable."""
    # (256, 16) and (4096, 64) are left out: two of the slips would coincide with the key
    d_model, heads = rng.choice([(64, 4), (256, 4), (1024, 4), (1024, 16), (4096, 16)])
    d_k = d_model // heads
    value = 1 / math.sqrt(d_k)
    wrongs = [1 / math.sqrt(d_model), 1 / d_k, 1 / math.sqrt(heads), math.sqrt(d_k)]
    choices, answer = _choices(rng, fraction(value), [fraction(w) for w in wrongs])
    return _rendered_question(
        f"A transformer with $d_{{model}} = {d_model}$ and {heads} heads scales the dot products $QK^T$ of each head "
        "by which factor before the softmax?",
        choices,
        answer,
        f"Each head works in $d_k = d_{{model}}/h$ = {d_k} dimensions, and a dot product of two vectors with independent, "
        f"zero-mean, unit-variance components has variance $d_k$; dividing by $\\sqrt{{d_k}}$ keeps the softmax out of "
        f"saturation: 1/√{d_k} = {fraction(value)}. Using $d_{{model}}$ forgets that the heads split it; dividing by $d_k$ "
        "divides by the variance instead of the standard deviation; √d_k multiplies where it should divide.",
        d_model=d_model,
        heads=heads,
        value=value,
    )


@generator("normalized_adjacency", calculator=True)
def normalized_adjacency(rng: random.Random) -> dict[str, Any]:
    n = 4
    edges: set[tuple[int, int]] = set()
    wanted = rng.randint(3, 5)
    while len(edges) < wanted:
        a, b = rng.sample(range(n), 2)
        edges.add((min(a, b), max(a, b)))
    adj = [[0] * n for _ in range(n)]
    for a, b in edges:
        adj[a][b] = adj[b][a] = 1
    i, j = sorted(rng.choice(sorted(edges)))
    deg = [sum(row) + 1 for row in adj]  # with the self-loop of A + I
    value = 1 / math.sqrt(deg[i] * deg[j])
    no_loop = [sum(row) for row in adj]
    wrongs = [
        1 / math.sqrt(no_loop[i] * no_loop[j]) if no_loop[i] and no_loop[j] else None,
        1 / deg[i],
        1 / (deg[i] * deg[j]),
        1.0,
    ]
    choices, answer = _numeric(rng, value, wrongs, "{:.4f}")
    edge_list = ", ".join(f"{a + 1}–{b + 1}" for a, b in sorted(edges))
    return _rendered_question(
        f"An undirected graph on nodes 1 to 4 has the edges {edge_list}. A GCN layer uses "
        f"$\\hat A = \\tilde D^{{-1/2}}(A + I)\\tilde D^{{-1/2}}$, where $\\tilde D$ holds the degrees of $A + I$. What is $\\hat A_{{{i + 1},{j + 1}}}$?",
        choices,
        answer,
        f"With self-loops, node {i + 1} has degree {deg[i]} and node {j + 1} degree {deg[j]}; the entry of an edge is "
        f"$1/\\sqrt{{d_i d_j}}$ = {value:.4f}. Forgetting the self-loops changes the degrees.",
        edges=sorted(edges),
        i=i,
        j=j,
        value=value,
    )


# -- figures ------------------------------------------------------------------------------------------
_ACTIVATION_NAMES = {
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softplus": "softplus",
}
_ACTIVATION_LOOKALIKES = {
    "relu": ["leaky_relu", "softplus", "elu"],
    "leaky_relu": ["relu", "elu", "gelu"],
    "elu": ["leaky_relu", "gelu", "softplus"],
    "gelu": ["relu", "elu", "softplus"],
    "sigmoid": ["tanh", "softplus", "gelu"],
    "tanh": ["sigmoid", "elu", "leaky_relu"],
    "softplus": ["relu", "elu", "gelu"],
}
_ACTIVATION_SIGNS = {
    "relu": "0 for every negative input and the identity for positive ones, with a sharp corner at 0",
    "leaky_relu": "a straight line of small slope (0.1) for negative inputs and the identity for positive ones",
    "elu": "the identity for positive inputs and $e^x - 1$ for negative ones, flattening towards −1",
    "gelu": "$x\\,\\Phi(x)$: close to ReLU but smooth, with a small dip below 0 near $x \\approx -0.75$",
    "sigmoid": "an S-shape from 0 to 1 that passes 0.5 at $x = 0$",
    "tanh": "an S-shape from −1 to 1 that passes 0 at $x = 0$",
    "softplus": "$\\ln(1 + e^x)$: a smooth ReLU that stays above 0 and passes $\\ln 2 \\approx 0.69$ at $x = 0$",
}


@generator("activation_from_plot", kind="figure")
def activation_from_plot(rng: random.Random) -> dict[str, Any]:
    """Name the activation function drawn; the distractors are the ones that look most like it."""
    name = rng.choice(sorted(_ACTIVATION_NAMES))
    distractors = [_ACTIVATION_NAMES[n] for n in _ACTIVATION_LOOKALIKES[name]]
    choices, answer = _choices(rng, _ACTIVATION_NAMES[name], distractors)
    return {
        "text": "The figure shows an activation function $f(x)$ for $x$ from −4 to 4. Which one is it?",
        "choices": choices,
        "answer": answer,
        "explanation": f"It is {_ACTIVATION_NAMES[name]}: {_ACTIVATION_SIGNS[name]}. Look at the value at 0, "
        "the range, and what happens to negative inputs.",
        "figure": {"function": "activation", "params": {"name": name}},
        "data": {"name": name},
    }
