"""The bank linter of `quiz validate`: the shares a test-wise student exploits (key longest,
absolute words only in distractors), duplicate stems, one concept one question, distractors too
close to the key. Banks are written for each test; one test checks the shipped bank."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from grader.quiz import generators
from grader.quiz.bank import load
from grader.quiz.generators import too_close
from grader.quiz.lint import MAX_SHARE, lint

BANKS = REPO / "quizzes"
DLGRADE = [sys.executable, "-c", "from grader.cli import main; main()"]


def item(qid: str, choices: list[str], answer: int = 0, text: str | None = None) -> str:
    quoted = ", ".join(json.dumps(c) for c in choices)
    stem = json.dumps(text or f"What about {qid}?")
    return (
        f"  - {{id: {qid}, text: {stem}, choices: [{quoted}], answer: {answer}, explanation: e}}\n"
    )


BALANCED = ["the first idea", "the second one", "a third option"]  # the key is not the longest


def bank_file(tmp_path: Path, name: str, items: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("questions:\n" + "".join(items))
    return path


def test_the_share_of_keys_that_are_the_longest_choice_fails_a_file_over_35_percent(
    tmp_path: Path,
) -> None:
    longest = ["a much longer right answer", "short", "brief"]
    tie = ["same size", "same form", "other"]  # a tie is not *strictly* the longest
    bank_file(
        tmp_path,
        "ok.yaml",
        [item(f"ok{i}", BALANCED) for i in range(3)] + [item("ok3", longest), item("ok4", tie)],
    )
    bank_file(tmp_path, "bad.yaml", [item("b0", longest), item("b1", BALANCED)])
    report = lint(load([tmp_path]))
    files = {f.name: f for f in report.files}
    assert (files["ok.yaml"].static, files["ok.yaml"].key_longest) == (5, 1)
    assert files["ok.yaml"].failed == []
    assert (files["bad.yaml"].key_longest, files["bad.yaml"].failed) == (1, ["key longest in 50%"])
    assert report.overall.key_longest == 2 and report.overall.static == 7
    assert not report.passed


def test_the_length_is_measured_as_shown(tmp_path: Path) -> None:
    """$\\sigma$ shows as σ: LaTeX source does not make a choice look longer."""
    bank_file(tmp_path, "t.yaml", [item("m", ["$\\sigma(\\alpha)$", "tanh(x)", "relu(x)"])])
    assert lint(load([tmp_path])).overall.key_longest == 0


@pytest.mark.parametrize(
    ("choices", "answer", "counted"),
    [
        (["it helps", "it always helps", "it hurts"], 0, True),  # only a distractor is absolute
        (["it never helps", "it always helps", "it hurts"], 0, False),  # the key too
        (["it helps", "it sometimes helps", "it hurts"], 0, False),  # none
        (["it helps", "call `x.all()` first", "it hurts"], 0, False),  # code is not a word
        (["it helps", "It Cannot help", "it hurts"], 0, True),  # any case
        (["it helps", "totally useless", "it can't help"], 0, True),
    ],
)
def test_absolute_words_only_in_distractors(
    tmp_path: Path, choices: list[str], answer: int, counted: bool
) -> None:
    bank_file(tmp_path, "t.yaml", [item("a", choices, answer)])
    assert lint(load([tmp_path])).overall.absolute_distractors == int(counted)


def test_a_file_over_the_limit_on_absolute_words_fails(tmp_path: Path) -> None:
    absolute = ["it helps", "it only helps", "it hurts"]
    bank_file(tmp_path, "t.yaml", [item("a", absolute), item("b", BALANCED), item("c", BALANCED)])
    (f,) = lint(load([tmp_path])).files
    assert f.share(f.absolute_distractors) == pytest.approx(1 / 3) and f.failed == []
    bank_file(tmp_path, "t.yaml", [item("a", absolute), item("b", absolute), item("c", BALANCED)])
    (f,) = lint(load([tmp_path])).files
    assert f.share(f.absolute_distractors) > MAX_SHARE and f.failed


def test_duplicate_stems_are_found_whatever_the_case_spacing_and_punctuation(
    tmp_path: Path,
) -> None:
    bank_file(tmp_path, "a.yaml", [item("one", BALANCED, text="What does  dropout do?")])
    bank_file(
        tmp_path,
        "b.yaml",
        [
            item("two", BALANCED, text="what does dropout do"),
            item("three", BALANCED, text="What does batch norm do?"),
        ],
    )
    problems = lint(load([tmp_path])).problems
    assert [(p.path.name, p.qid) for p in problems] == [("b.yaml", "two")]
    assert "duplicate stem: one at" in problems[0].message and "a.yaml:2" in problems[0].message


def test_the_same_stem_with_different_figures_is_not_a_duplicate(tmp_path: Path) -> None:
    stem = "The figure shows a training run. What went wrong?"
    figs = [
        "{function: loss_curves, params: {scenario: overfitting}}",
        "{function: loss_curves, params: {scenario: lr_too_high}}",
    ]
    (tmp_path / "f.yaml").write_text(
        "questions:\n"
        + "".join(
            f"  - {{id: f{i}, text: {json.dumps(stem)}, choices: [a1, b22, c3], answer: 0,"
            f" explanation: e, figure: {fig}}}\n"
            for i, fig in enumerate(figs)
        )
    )
    bank = load([tmp_path])
    assert bank.problems == [] and lint(bank).problems == []


def test_one_generator_behind_two_entries_is_refused(tmp_path: Path) -> None:
    bank_file(tmp_path, "a.yaml", ["  - {id: kl-1, generator: kl_gaussians}\n"])
    bank_file(tmp_path, "b.yaml", ["  - {id: kl-2, generator: kl_gaussians}\n"])
    problems = lint(load([tmp_path]), seeds=5).problems
    assert [(p.path.name, p.qid) for p in problems] == [("b.yaml", "kl-2")]
    assert "generator kl_gaussians also backs kl-1" in problems[0].message


def test_two_generators_declaring_one_concept_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gen(rng: random.Random) -> dict:
        return {"text": "t", "choices": ["1", "2", "3"], "answer": 0, "explanation": "e"}

    monkeypatch.setitem(generators.GENERATORS, "test_a", gen)
    monkeypatch.setitem(generators.GENERATORS, "test_b", gen)
    monkeypatch.setitem(generators.INFO, "test_a", generators.GeneratorInfo(concept="same idea"))
    monkeypatch.setitem(generators.INFO, "test_b", generators.GeneratorInfo(concept="same idea"))
    bank_file(
        tmp_path, "a.yaml", ["  - {id: a, generator: test_a}\n", "  - {id: b, generator: test_b}\n"]
    )
    problems = lint(load([tmp_path]), seeds=5).problems
    assert [p.qid for p in problems] == ["b"] and "concept 'same idea'" in problems[0].message


def test_a_distractor_too_close_to_the_key_on_some_seed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gamma_099(rng: random.Random) -> dict:
        """The old Q-learning slip: forgetting γ = 0.99 lands within 1 % of the key."""
        gamma = rng.choice([0.5, 0.5, 0.5, 0.99])
        key, forgot = 1 + gamma * 1.5, 1 + 1.5
        return {
            "text": "t",
            "choices": [f"{key:.4g}", f"{forgot:.4g}", f"{key + 7:.4g}"],
            "answer": 0,
            "explanation": "e",
        }

    monkeypatch.setitem(generators.GENERATORS, "test_gamma", gamma_099)
    bank_file(tmp_path, "a.yaml", ["  - {id: g, generator: test_gamma}\n"])
    problems = lint(load([tmp_path])).problems
    assert len(problems) == 1 and problems[0].qid == "g"
    seed = int(problems[0].message.split("seed ")[1].split(":")[0])
    assert random.Random(seed).choice([0.5, 0.5, 0.5, 0.99]) == 0.99  # the first seed drawing it
    assert "'2.5' is too close to the key '2.485'" in problems[0].message


@pytest.mark.parametrize(
    ("key", "other", "close"),
    [
        ("2.485", "2.5", True),  # 0.6 %
        ("1.2", "1.25", False),  # 4 %
        ("-0.601", "-0.6", True),
        ("0.125", "0.126", True),  # one unit of the last digit shown
        ("0.04", "0.05", False),  # short decimals are exact, not rounded
        ("7850", "7840", False),  # counts are exact: a forgotten bias is a fair distractor
        ("32", "32", True),
        ("(1.5, 0)", "(1.49, 0)", True),
        ("(1.5, 0)", "(1.5, 2)", False),
        ("(12, 8, 16)", "(12, 16, 8)", False),
        ("ReLU", "ReLU6", False),
    ],
)
def test_too_close(key: str, other: str, close: bool) -> None:
    assert too_close(key, other) is close


def test_every_shipped_generator_keeps_its_distractors_apart_from_its_key() -> None:
    """The generators this engine ships pass the linter's 500-seed check (whatever the static
    content of the bank)."""
    report = lint(load([BANKS]))
    assert [p for p in report.problems if "too close" in p.message] == []


# -- the command ----------------------------------------------------------------------------------
def test_validate_prints_the_linter_table_and_passes_a_clean_bank(tmp_path: Path) -> None:
    bank_file(tmp_path, "clean.yaml", [item(f"q{i}", BALANCED) for i in range(4)])
    ok = subprocess.run(
        [*DLGRADE, "quiz", "validate", str(tmp_path)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "clean.yaml" in ok.stdout and "0 (0%)" in ok.stdout
    assert ok.stdout.strip().splitlines()[-1].startswith("ok: 4 questions")


def test_validate_fails_a_file_over_the_limit_and_says_why(tmp_path: Path) -> None:
    longest = ["a much longer right answer", "short", "brief"]
    bank_file(tmp_path, "gameable.yaml", [item("a", longest), item("b", BALANCED)])
    bad = subprocess.run(
        [*DLGRADE, "quiz", "validate", str(tmp_path)], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout and "1 (50%)" in bad.stdout
    assert "1 file over the linter's limit" in bad.stderr


def test_validate_json(tmp_path: Path) -> None:
    longest = ["a much longer right answer", "short", "brief"]
    bank_file(tmp_path, "a.yaml", [item("a", longest), item("b", BALANCED)])
    bank_file(tmp_path, "b.yaml", [item("c", BALANCED, text="What about a?")])
    out = subprocess.run(
        [*DLGRADE, "quiz", "validate", "--json", str(tmp_path)], capture_output=True, text=True
    )
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert result["passed"] is False and result["questions"] == 3
    files = {f["file"]: f for f in result["files"]}
    assert files["a.yaml"]["key_longest_share"] == 0.5 and not files["a.yaml"]["passed"]
    assert files["b.yaml"]["passed"] and result["overall"]["static"] == 3
    assert [(p["id"], "duplicate stem" in p["message"]) for p in result["problems"]] == [
        ("c", True)
    ]


# The shipped bank passes the linter: true once the bank writer's rewrite of quizzes/ (branch
# `quizbank`, which adds papers.yaml) is merged; until then the current bank fails, as expected.
@pytest.mark.xfail(
    not (BANKS / "papers.yaml").exists(),
    reason="the rewritten bank (with papers.yaml) is not merged yet",
    strict=True,
)
def test_the_shipped_bank_passes_the_linter() -> None:
    report = lint(load([BANKS]))
    assert report.problems == [] and [f.name for f in report.files if f.failed] == []
    overall = report.overall
    assert overall.share(overall.level3, overall.items) >= 0.25
