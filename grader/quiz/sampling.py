"""Drawing a quiz from the banks: reproducible by seed, no question twice, topics spread evenly.

With weights (``--weak``: a question's weight grows with its topic's error rate and
falls as it climbs the Leitner boxes), questions are drawn in proportion to them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from grader.errors import UserError
from grader.quiz.bank import Bank, Question
from grader.quiz.session import Item


def _weighted_order(
    rng: random.Random, pool: list[Question], weights: Mapping[str, float] | None
) -> list[Question]:
    """``pool`` in a random order; with weights, heavier questions tend to come first
    (Efraimidis-Spirakis: key u^(1/w))."""
    if not weights:
        pool = list(pool)
        rng.shuffle(pool)
        return pool
    keyed = [(rng.random() ** (1.0 / max(weights.get(q.id, 1.0), 1e-9)), q) for q in pool]
    return [q for _, q in sorted(keyed, key=lambda kq: -kq[0])]


def draw(
    bank: Bank,
    *,
    n: int,
    seed: int,
    topics: list[str] | None = None,
    difficulty: list[int] | None = None,
    weights: Mapping[str, float] | None = None,
    calculator: bool = True,
) -> list[Item]:
    """``n`` questions (fewer if the banks hold fewer), rendered and with their choices shuffled;
    without ``calculator``, only questions whose numbers are hand-computable."""
    if n < 1:
        raise UserError("--n must be at least 1")
    bank.require_topics(topics or [])
    chosen = [
        q
        for q in bank.questions.values()
        if (not topics or q.topic in topics)
        and (not difficulty or q.difficulty in difficulty)
        and (calculator or not q.calculator)
    ]
    if not chosen:
        raise UserError("no question matches the topics, difficulty and calculator rule asked for")
    rng = random.Random(seed)
    by_topic: dict[str, list[Question]] = {}
    for q in sorted(chosen, key=lambda q: q.id):
        by_topic.setdefault(q.topic, []).append(q)
    if weights:  # practice of weak spots: heavier questions first, whatever their topic
        picked = _weighted_order(rng, sorted(chosen, key=lambda q: q.id), weights)[:n]
    else:  # round robin over the topics (in a random order each round): they share the quiz evenly
        queues = {t: _weighted_order(rng, qs, None) for t, qs in sorted(by_topic.items())}
        picked = []
        while len(picked) < n and any(queues.values()):
            round_topics = [t for t in queues if queues[t]]
            rng.shuffle(round_topics)
            for t in round_topics[: n - len(picked)]:
                picked.append(queues[t].pop(0))
    rng.shuffle(picked)
    items = []
    for q in picked:
        variant = rng.getrandbits(32)
        rendered = q.render(variant)
        order = list(range(len(rendered.choices)))
        if not q.fixed_order:
            rng.shuffle(order)
        items.append(Item(q.id, q.topic, variant, tuple(order), rendered))
    return items
