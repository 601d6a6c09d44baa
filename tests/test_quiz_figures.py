"""Figures and code in questions: each figure function draws what its questions claim (checked
with NumPy/torch), terminal and PNG drawings, exports (Moodle's embedded file, GIFT's linked PNG,
<pre><code>), the calculator filter, the quiz never importing matplotlib, and the terminal
interface showing a figure and a code block."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO
from test_quiz import Terminal
from test_quiz_schema import CODE_ITEM

from grader.cli import cli
from grader.oracle import torch  # lazy: imported by the first test that uses it
from grader.quiz import figures
from grader.quiz.bank import load
from grader.quiz.export import gift, items, moodle_xml, read_gift, to_html
from grader.quiz.figures import FIGURES, FigureSpec, plot
from grader.quiz.sampling import draw

BANKS = REPO / "quizzes"
FIGURE_BANK = BANKS / "figures.yaml"
DLGRADE = [sys.executable, "-c", "from grader.cli import main; main()"]
EVERY_SPEC = (
    [FigureSpec("loss_curves", {"scenario": s}) for s in figures.LOSS_SCENARIOS]
    + [FigureSpec("activation", {"name": n}) for n in figures.ACTIVATIONS]
    + [FigureSpec("activation", {"name": n, "derivative": True}) for n in figures.ACTIVATIONS]
    + [FigureSpec("gan_losses", {"scenario": s}) for s in figures.GAN_SCENARIOS]
    + [FigureSpec("gan_samples", {"scenario": s}) for s in figures.SAMPLE_SCENARIOS]
    + [
        FigureSpec("decision_boundary", {"data": d, "model": m, "flip": 0.1})
        for d in figures.DATASETS
        for m in figures.MODELS
    ]
)


def _series(spec: FigureSpec, label: str) -> np.ndarray:
    s = next(s for s in plot(spec).series if s.label == label)
    return np.array(s.y)


# -- what each figure shows ----------------------------------------------------------------------
@pytest.mark.parametrize("spec", EVERY_SPEC, ids=repr)
def test_every_figure_draws_and_is_reproducible(spec: FigureSpec) -> None:
    assert figures.check(spec) is None
    for seed in (0, 1, 2):
        again = FigureSpec(spec.function, spec.params, seed)
        assert plot(again) == plot(again)  # the same seed, the same figure


def test_every_registered_figure_function_is_covered() -> None:
    assert {s.function for s in EVERY_SPEC} == set(FIGURES)


@pytest.mark.parametrize("seed", range(20))
def test_loss_curves_show_their_scenario(seed: int) -> None:
    def spec(scenario: str) -> FigureSpec:
        return FigureSpec("loss_curves", {"scenario": scenario}, seed)

    train, val = (
        _series(spec("overfitting"), "training"),
        _series(spec("overfitting"), "validation"),
    )
    best = int(np.argmin(val))
    assert 8 <= best <= 30 and val[-1] > val[best] + 0.5  # the validation loss turns up...
    assert train[-1] < train[best] < train[0]  # ... while the training loss keeps falling
    low = _series(spec("lr_too_low"), "training")
    slope = np.polyfit(np.arange(len(low)), low, 1)[0]
    assert -0.01 < slope < -0.002 and low[-1] > 1.8  # slow, steady, far from done
    under = _series(spec("underfitting"), "training")
    assert under[-1] > 1.4 and abs(under[-10:].mean() - under[-20:-10].mean()) < 0.05  # flat, high
    high = _series(spec("lr_too_high"), "training loss")
    assert high[-10:].mean() > 2 * high[:10].mean()  # it climbs
    sawtooth = _series(spec("unshuffled"), "training loss")
    period = np.corrcoef(sawtooth[:-10], sawtooth[10:])[0, 1]
    assert period > 0.9 and sawtooth[-50:].mean() > 0.8 * sawtooth[:50].mean()  # repeats, no gain
    steps = _series(spec("step_decay"), "training")
    assert steps[28] - steps[31] > 0.15 and steps[58] - steps[61] > 0.07  # drops at 30 and 60


@pytest.mark.parametrize("name", sorted(figures.ACTIVATIONS))
def test_activation_derivatives_match_autograd(name: str) -> None:
    curve = plot(FigureSpec("activation", {"name": name, "derivative": True})).series[0]
    x = torch.tensor(curve.x, dtype=torch.float64, requires_grad=True)
    fn = {
        "relu": torch.relu,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1),
        "elu": torch.nn.functional.elu,
        "gelu": torch.nn.functional.gelu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softplus": torch.nn.functional.softplus,
    }[name]
    fn(x).sum().backward()
    away_from_kinks = np.abs(np.array(curve.x)) > 1e-3
    assert np.allclose(
        np.array(curve.y)[away_from_kinks], x.grad.numpy()[away_from_kinks], atol=1e-5
    )


def _accuracy(spec: FigureSpec) -> float:
    p = plot(spec)
    r = p.region
    xs, ys = np.array(r.xs), np.array(r.ys)
    right = total = 0
    for label, s in enumerate(p.series):
        for x, y in zip(s.x, s.y, strict=True):
            i, j = int(np.argmin(np.abs(xs - x))), int(np.argmin(np.abs(ys - y)))
            right += r.inside[j][i] == bool(label)
            total += 1
    return right / total


@pytest.mark.parametrize("seed", range(10))
def test_decision_boundaries_show_their_model(seed: int) -> None:
    def acc(data: str, model: str, flip: float = 0.0) -> float:
        return _accuracy(
            FigureSpec("decision_boundary", {"data": data, "model": model, "flip": flip}, seed)
        )

    assert 0.25 <= acc("xor", "linear") <= 0.75  # no line separates XOR
    assert acc("xor", "nonlinear") >= 0.9 and acc("circles", "nonlinear") >= 0.9
    assert acc("moons", "nonlinear") >= 0.85 and acc("blobs", "linear") >= 0.85
    assert acc("moons", "memorising", 0.1) >= 0.95  # it fits even the flipped labels (on a grid)


def test_the_linear_model_draws_a_half_plane() -> None:
    """Every row of the region switches class at most once, and where it switches moves along
    a straight line from row to row."""
    r = plot(FigureSpec("decision_boundary", {"data": "circles", "model": "linear"}, 4)).region
    inside = np.array(r.inside, dtype=int)
    switches = [np.flatnonzero(np.diff(row)) for row in inside]
    assert all(len(s) <= 1 for s in switches)
    rows = [j for j, s in enumerate(switches) if len(s) == 1]
    cols = [switches[j][0] for j in rows]
    assert len(rows) >= 10
    fit = np.polyval(np.polyfit(rows, cols, 1), rows)
    assert np.abs(fit - cols).max() <= 1.0


def test_gan_figures_show_their_failure() -> None:
    wins = FigureSpec("gan_losses", {"scenario": "discriminator_wins"})
    assert _series(wins, "discriminator")[-20:].max() < 0.15
    assert _series(wins, "generator")[-20:].mean() > 5
    balanced = FigureSpec("gan_losses", {"scenario": "balanced"})
    assert 1.1 < _series(balanced, "discriminator").mean() < 1.5
    for scenario, modes_hit in (("mode_collapse", 1), ("healthy", 8)):
        fake = plot(FigureSpec("gan_samples", {"scenario": scenario})).series[1]
        angles = np.round(np.arctan2(fake.y, fake.x) / (np.pi / 4)) % 8
        assert len(set(angles.tolist())) == modes_hit


def test_the_figure_questions_match_their_figures() -> None:
    bank = load([FIGURE_BANK])
    figs = {q.id: q.figure for q in bank.questions.values() if q.figure}
    assert len(figs) >= 10 and len(bank.questions) >= 11
    assert 0.25 <= _accuracy(figs["fig-boundary-xor-linear"]) <= 0.75  # "near 50 %"
    assert _accuracy(figs["fig-boundary-memorising"]) >= 0.97  # "100 %", drawn on a grid
    peak = max(plot(figs["fig-sigmoid-derivative"]).series[0].y)
    assert peak == pytest.approx(0.25, abs=1e-6)
    lr_low = plot(figs["fig-lr-too-low"]).series[0].y
    assert lr_low[0] == pytest.approx(2.3, abs=0.06) and lr_low[-1] == pytest.approx(2.03, abs=0.06)


# -- drawing ---------------------------------------------------------------------------------------
def test_the_terminal_plot_fits_its_width_and_tells_series_apart() -> None:
    text = figures.terminal(FigureSpec("loss_curves", {"scenario": "overfitting"}), 70, 16)
    lines = text.plain.splitlines()
    assert max(len(line) for line in lines) <= 70 and 14 <= len(lines) <= 17
    assert any("\u2800" < c <= "\u28ff" for c in text.plain)  # braille dots
    assert "training" in lines[-1] and "validation (dashed)" in lines[-1]
    region = figures.terminal(FigureSpec("decision_boundary", {"data": "xor"}), 60, 14).plain
    assert "░" in region and "o" in region and "x" in region


def test_png_is_drawn_with_matplotlib() -> None:
    data = figures.png(FigureSpec("gan_samples", {"scenario": "mode_collapse"}))
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_importing_the_bank_and_figures_does_not_import_matplotlib() -> None:
    code = (
        "import sys\n"
        "from grader.quiz import bank, figures, generators, lint\n"
        "from grader.quiz.figures import FigureSpec, terminal\n"
        "terminal(FigureSpec('loss_curves'), 60, 12)\n"
        "print('matplotlib' in sys.modules, 'numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_a_quiz_with_figures_never_imports_matplotlib(tmp_path: Path) -> None:
    code = (
        "import sys, atexit\n"
        "atexit.register(lambda: print('MPL' if 'matplotlib' in sys.modules else 'NO-MPL', file=sys.stderr))\n"
        "from grader.cli import main\nmain()\n"
    )
    env = {**os.environ, "DLGRADE_HOME": str(tmp_path), "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "quiz",
            "practice",
            "--bank",
            str(FIGURE_BANK),
            "--n",
            "3",
            "--seed",
            "1",
        ],
        input=b"a\nb\nc\n",
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0 and b"NO-MPL" in proc.stderr, proc.stderr
    assert "⠀" < max(proc.stdout.decode()) and b"Question 3 of 3" in proc.stdout  # braille drawn


# -- exports ---------------------------------------------------------------------------------------
def test_moodle_xml_embeds_each_figure_as_a_base64_file() -> None:
    exported = items(load([FIGURE_BANK]), variants=2)
    root = ET.fromstring(moodle_xml(exported))
    with_files = 0
    for q in root.findall("question[@type='multichoice']"):
        text = q.find("questiontext/text").text
        f = q.find("questiontext/file")
        assert f is not None, q.find("name/text").text  # every question of this bank has one
        assert f.get("encoding") == "base64" and f.get("path") == "/"
        assert f'src="@@PLUGINFILE@@/{f.get("name")}"' in text and 'alt="Figure: ' in text
        assert base64.b64decode(f.text)[:4] == b"\x89PNG"
        with_files += 1
    assert with_files == len(exported) == 13 + 2


def test_gift_links_figures_written_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "quiz.gift"
    result = CliRunner().invoke(
        cli,
        [
            "quiz",
            "export",
            "--format",
            "gift",
            "--out",
            str(out),
            "--bank",
            str(BANKS),
            "--topic",
            "figures",
            "--variants",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "quiz-figures"
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert len(pngs) == 14 and "fig-overfitting.png" in pngs and "13 questions" not in result.output
    text = out.read_text()
    for name in pngs:
        assert f"![figure](quiz-figures/{name})" in text
        assert (folder / name).read_bytes()[:4] == b"\x89PNG"


def test_code_blocks_export_as_pre_code_and_keep_their_dollars(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CODE_ITEM)
    (e,) = items(load([tmp_path]))
    shown = to_html(e.rendered.text)
    assert '<pre><code class="language-python">cost_$ = x.sum(dim=0)  # $not math$\n' in shown
    assert "What does this print, for \\(x\\) of shape (2, 3)?" in shown
    assert to_html(e.rendered.explanation).startswith("Summing over <code>dim_0</code>")
    xml_text = ET.fromstring(moodle_xml([e])).find(".//questiontext/text").text
    assert "<pre><code" in xml_text and "\\(not math\\)" not in xml_text
    ((_, _, back),) = read_gift(gift([e]))
    assert "```python\ncost_$ = x.sum(dim=0)  # $not math$\nprint(cost_$.shape)\n```" in back.text


def test_no_calculator_leaves_out_the_questions_that_need_one(tmp_path: Path) -> None:
    bank = load([BANKS])
    needs = {q.id for q in bank.questions.values() if q.calculator}
    assert needs and "softmax-probability" in needs
    kept = {e.name.rsplit("-v", 1)[0] for e in items(bank, variants=1, calculator=False)}
    assert kept and not kept & needs
    drawn = draw(bank, n=len(bank.questions), seed=2, calculator=False)
    assert drawn and not {i.qid for i in drawn} & needs
    assert {i.qid for i in draw(bank, n=len(bank.questions), seed=2)} & needs


# -- the terminal interface -----------------------------------------------------------------------
def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "DLGRADE_HOME": str(home), "PYTHONPATH": str(REPO)}


def test_the_terminal_interface_draws_the_figure_above_the_choices(tmp_path: Path) -> None:
    term = Terminal(
        [*DLGRADE, "quiz", "practice", "--bank", str(FIGURE_BANK), "--n", "1", "--seed", "4"],
        _env(tmp_path),
        cols=110,
        rows=44,
    )
    screen = term.wait_for("Enter: save")
    lines = screen.splitlines()
    braille = [i for i, line in enumerate(lines) if any("\u2801" <= c <= "\u28ff" for c in line)]
    marks = [i for i, line in enumerate(lines) if "░" in line or " o " in line]
    choice = next(i for i, line in enumerate(lines) if "a) " in line)
    assert (braille or marks) and max(braille + marks) < choice, screen
    term.child.sendcontrol("c")
    term.rest()


def test_the_terminal_interface_shows_code_as_written(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "c.yaml").write_text(CODE_ITEM)
    term = Terminal(
        [*DLGRADE, "quiz", "practice", "--bank", str(bank), "--n", "1"], _env(tmp_path), cols=100
    )
    screen = term.wait_for("Enter: save")
    assert "cost_$ = x.sum(dim=0)  # $not math$" in screen
    assert "for x of shape (2, 3)?" in screen  # the prose's math made readable
    assert "```" not in screen
    term.child.sendcontrol("c")
    term.rest()


def test_a_piped_quiz_prints_code_as_written(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "c.yaml").write_text(CODE_ITEM)
    out = subprocess.run(
        [*DLGRADE, "quiz", "practice", "--bank", str(bank), "--n", "1"],
        input="a\n",
        capture_output=True,
        text=True,
        env={**_env(tmp_path), "COLUMNS": "40"},  # narrower than the code: never cropped
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "    cost_$ = x.sum(dim=0)  # $not math$" in lines
    assert "    print(cost_$.shape)" in lines and "```" not in out.stdout


def test_png_without_matplotlib_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.errors import UserError

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(UserError, match=r"pip install 'dlgrade\[plot\]'"):
        figures.png(FigureSpec("loss_curves"))
