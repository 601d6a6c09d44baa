"""Parametric questions: each generator renders one variant from a seeded ``random.Random``.

A generator returns ``{"text", "choices", "answer", "explanation"}``. Its answer is
computed, never typed, and its distractors come from the mistakes students make
(forgetting to double the padding, dividing by the wrong thing). Register one with
``@generator("name")``; a bank names it with ``generator: name`` and ``params``.
Only the standard library here: the quiz must start fast.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

Generator = Callable[..., dict[str, Any]]
GENERATORS: dict[str, Generator] = {}


def generator(name: str) -> Callable[[Generator], Generator]:
    def register(fn: Generator) -> Generator:
        GENERATORS[name] = fn
        return fn

    return register


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


@generator("softmax_probability")
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
        texts = [f"{v:.3f}" for v in wrong if v is not None and 0 <= v <= 1]
        if len({f"{p:.3f}", *texts}) >= 4:
            break
    choices, answer = _choices(rng, f"{p:.3f}", texts)
    z = ", ".join(str(v) for v in logits)
    return {
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
