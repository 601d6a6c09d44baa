"""What the shipped question bank promises (issue 19): its size, the course topics it covers with
at least five questions each, the classic papers with at least two each, a kind on every item, a
quarter of the items at level 3, and no file that a test-wise student could game (the linter)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import REPO

from grader.quiz.bank import KINDS, Question, load
from grader.quiz.lint import LEVEL3_TARGET, lint

BANKS = REPO / "quizzes"


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    return list(load([BANKS]).questions.values())


def tagged(*tags: str) -> Callable[[Question], bool]:
    return lambda q: bool(set(tags) & set(q.tags))


def in_topic(topic: str) -> Callable[[Question], bool]:
    return lambda q: q.topic == topic


# each topic of the course notes that the first bank covered with fewer than five questions
COVERAGE: dict[str, Callable[[Question], bool]] = {
    "arrays, broadcasting and memory layout": in_topic("arrays"),
    "pooling": tagged("pooling"),
    "transposed convolution": tagged("transposed convolution"),
    "dropout": tagged("dropout"),
    "early stopping": tagged("early stopping"),
    "data augmentation": tagged("data augmentation"),
    "universal approximation": tagged("universal approximation"),
    "residual connections": tagged("residual connections"),
    "momentum and Nesterov": tagged("momentum", "Nesterov"),
    "temporal convolutional networks": tagged("TCN"),
    "sequence to sequence": tagged("seq2seq"),
    "count-based embeddings (co-occurrence, GloVe)": tagged("count-based", "GloVe"),
    "fastText": tagged("fastText"),
    "contextual embeddings (ELMo)": tagged("ELMo", "contextual"),
    "sentence encoders": tagged("sentence encoders"),
    "autoencoders other than VAEs": lambda q: (
        bool({"autoencoder", "denoising", "sparse", "contractive"} & set(q.tags))
        and "VAE" not in q.tags
    ),
    "anomaly detection": tagged("anomaly detection"),
    "DQN": tagged("DQN"),
    "actor-critic": tagged("actor-critic"),
    "search with deep RL (MCTS, AlphaGo)": tagged("MCTS", "AlphaGo"),
    "batch normalisation and covariate shift": tagged("batch normalisation"),
    "MC dropout": tagged("MC dropout"),
    "applications (vision, audio and video synthesis)": lambda q: q.topic == "applications",
}

PAPERS = {
    "AlexNet": ("Krizhevsky",),
    "ResNet": ("He, Zhang, Ren & Sun",),
    "Adam": ("Kingma & Ba",),
    "dropout": ("Srivastava",),
    "batch normalisation": ("Ioffe & Szegedy",),
    "LSTM": ("Hochreiter & Schmidhuber", "Gers, Schmidhuber"),
    "seq2seq and attention": ("Sutskever, Vinyals & Le", "Bahdanau", "Vaswani"),
    "GAN": ("Goodfellow et al. 2014",),
    "VAE": ("Kingma & Welling",),
    "GCN": ("Kipf & Welling",),
    "DQN": ("Mnih et al. 2015",),
}


def test_the_bank_is_large_enough(questions: list[Question]) -> None:
    static = [q for q in questions if q.generator is None]
    assert len(static) >= 360
    assert len({q.path.name for q in questions}) >= 24


@pytest.mark.parametrize("topic", sorted(COVERAGE))
def test_each_course_topic_has_at_least_five_questions(
    questions: list[Question], topic: str
) -> None:
    assert sum(1 for q in questions if COVERAGE[topic](q)) >= 5, topic


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_each_classic_paper_has_at_least_two_questions(
    questions: list[Question], paper: str
) -> None:
    on_paper = [
        q
        for q in questions
        if q.topic == "papers" and any(name in q.source for name in PAPERS[paper])
    ]
    assert len(on_paper) >= 2, paper


def test_every_paper_question_names_its_source(questions: list[Question]) -> None:
    assert [q.id for q in questions if q.topic == "papers" and not q.source] == []


def test_every_item_has_a_kind(questions: list[Question]) -> None:
    assert [q.id for q in questions if q.effective_kind not in KINDS] == []
    # a static item says what it is; recall is level 1, and level 1 is recall
    static = [q for q in questions if q.generator is None and q.figure is None]
    assert [q.id for q in static if q.kind is None] == []
    assert [q.id for q in static if (q.kind == "recall") != (q.difficulty == 1)] == []


def test_a_quarter_of_the_items_are_level_3_and_no_file_can_be_gamed() -> None:
    report = lint(load([BANKS]), seeds=20)
    overall = report.overall
    assert overall.level3 / overall.items >= LEVEL3_TARGET
    assert [f.name for f in report.files if f.failed] == []
    assert overall.key_longest / overall.static <= 0.30
