"""Every code-reading question of the bank (``kind: code``) is run: the ```python block of its stem is
executed with NumPy and torch, and what its key claims (an output, a shape, an error) is asserted. A bank
edit that changes the code or the key without the other fails here, and a new code item must come with
its check.

Each check is Python run after the stem's code in the same namespace, with ``printed`` (what the code
printed) and ``error`` (the exception it raised, or None). ``setup`` runs before the stem's code, for
the names a stem uses without defining (a model, a batch)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re

import pytest
import yaml
from conftest import REPO

if importlib.util.find_spec("torch") is None:  # found, not imported: collection stays fast
    pytest.skip("the code items run with torch", allow_module_level=True)

BANKS = REPO / "quizzes"
PRELUDE = """
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
np.random.seed(0)
"""
FENCE = re.compile(r"```python\n(.*?)```", re.S)

CHECKS: dict[str, dict[str, str]] = {
    # -- arrays.yaml -----------------------------------------------------------------------------
    "arr-broadcast-shape": {"check": "assert printed.strip() == '(3, 4)'"},
    "arr-broadcast-error": {
        "check": "assert isinstance(error, ValueError) and 'broadcast' in str(error)\n"
        "assert (a + b[:, None]).shape == (3, 4)"
    },
    "arr-broadcast-values": {"check": "assert printed.strip() == '[ 60 120]'"},
    "arr-softmax-axis": {"check": "assert printed.strip() == '[1.5 1.5]'"},
    "arr-keepdims": {
        "check": "assert error is None\n"
        "assert np.array_equal(x - x.mean(axis=1), [[-0.5, -2.0], [1.5, 1.0]])\n"
        "assert np.array_equal(x - x.mean(axis=1, keepdims=True), [[-0.5, 0.5], [-1.0, 1.0]])"
    },
    "arr-argmax-axis": {"check": "assert printed.strip() == '[1 0 0]'"},
    "arr-outer-difference": {"check": "assert printed.strip() == '(3, 3) 8'"},
    "arr-view-not-transpose": {
        "check": "assert printed.strip() == 'tensor([0, 1]) tensor([0, 3])'"
    },
    "arr-contiguous": {
        "check": "assert printed.strip() == 'False' and isinstance(error, RuntimeError)\n"
        "assert y.reshape(6).tolist() == [0, 3, 1, 4, 2, 5]"
    },
    "arr-views-and-copies": {"check": "assert printed.strip() == '[1. 1. 0. 0.]'"},
    "arr-int-dtype": {"check": "assert printed.strip() == '[1.  1.  1.5]'"},
    "arr-transpose-write": {"check": "assert printed.strip() == '[[0, 1, 2], [100, 4, 5]]'"},
    "arr-repeated-index": {"check": "assert printed.strip() == '[3. 0. 2.]'"},
    # -- attention.yaml --------------------------------------------------------------------------
    "att-code-mha-shapes": {
        "check": "assert printed.strip() == 'torch.Size([2, 10, 64]) torch.Size([2, 8, 10, 10])'"
    },
    # -- autodiff.yaml -------------------------------------------------------------------------
    "ad-code-no-grad": {"check": "assert error is None and printed.strip() == 'tensor(6.)'"},
    "ad-code-retain-graph": {
        "check": "assert isinstance(error, RuntimeError) and 'second time' in str(error)\n"
        "assert x.grad.item() == 6.0"
    },
    "ad-code-inplace": {
        "check": "assert isinstance(error, RuntimeError) and 'inplace operation' in str(error)"
    },
    "ad-code-detach-target": {"check": "assert error is None and printed.strip() == 'tensor(-4.)'"},
    "ad-code-vjp": {"check": "assert printed.strip() == 'tensor([22., 10.])'"},
    "ad-code-retain-grad": {"check": "assert printed.strip() == 'tensor(3.) tensor(13.)'"},
    # -- adversarial.yaml ----------------------------------------------------------------------
    "adv-code-fgsm": {"check": "assert printed.strip() == 'tensor([0.1000, 0.6000, 0.8500])'"},
    # -- training.yaml ---------------------------------------------------------------------------
    "train-bn-code-batch-of-one": {
        "check": "assert isinstance(error, ValueError) and 'more than 1 value per channel' in str(error)"
    },
    "train-bn-code-train-eval": {"check": "assert printed.strip() == '[-1.0, 1.0] [0.76, 2.67]'"},
    "train-bn-code-running-stats": {
        "check": "assert printed.strip() == 'tensor([0.3000]) tensor([1.1000])'"
    },
    # -- transfer.yaml ---------------------------------------------------------------------------
    "transfer-code-freeze": {"check": "assert printed.strip() == 'True True'"},
    # -- deep_rl.yaml ----------------------------------------------------------------------------
    "drl-dqn-code": {"check": "assert error is None and printed.strip() == '0.0'"},
    # -- autoencoders.yaml -----------------------------------------------------------------------
    "ae-code-reparam": {"check": "assert printed.strip() == 'tensor([1.]) tensor([0.2500])'"},
    # -- backprop.yaml ---------------------------------------------------------------------------
    "bp-code-matmul-grad": {"check": "assert printed.strip() == 'torch.Size([3, 2]) True'"},
    # -- debugging.yaml --------------------------------------------------------------------------
    "dbg-zero-grad": {"check": "assert printed.strip() == 'tensor(-7.2000)'"},
    "dbg-zero-grad-in-loop": {"check": "assert error is None and printed.strip() == '0.8'"},
    "dbg-softmax-before-ce": {
        "check": "assert printed.strip() == '0.55'\n"
        "assert nn.CrossEntropyLoss()(logits, target).item() < 1e-3"
    },
    "dbg-eval-dropout": {"check": "assert printed.split() == ['False', 'True']"},
    "dbg-eval-keeps-autograd": {"check": "assert printed.strip() == 'True'"},
    "dbg-no-grad": {"check": "assert printed.strip() == 'False None'"},
    "dbg-loss-averaged-twice": {
        "check": "assert printed.strip() == 'tensor([0.1250, 0.2500, 0.3750, 0.5000])'"
    },
    "dbg-accumulate-loss": {
        "setup": "model = nn.Linear(3, 2)\nloss_fn = nn.CrossEntropyLoss()\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "loader = [(torch.randn(4, 3), torch.randint(0, 2, (4,))) for _ in range(3)]\n",
        "check": "assert error is None and total.requires_grad and total.grad_fn is not None",
    },
    "dbg-view-channels": {
        "check": "assert printed.strip() == '[0, 1, 2, 3]'\n"
        "assert img.permute(2, 0, 1)[0].flatten().tolist() == [0, 3, 6, 9]"
    },
    "dbg-mse-broadcast": {
        "check": "assert printed.strip() == '1.333'\n"
        "assert F.mse_loss(pred.squeeze(1), target).item() == 0.0"
    },
    "dbg-clip-norm": {"check": "assert printed.strip() == 'tensor([0.6000, 0.8000])'"},
    "dbg-tbptt-detach": {
        "check": "assert isinstance(error, RuntimeError) and 'second time' in str(error)"
    },
    "dbg-non-leaf": {"check": "assert error is None and printed.strip() == 'None'"},
    "dbg-optimizer-before-layer": {"check": "assert printed.strip() == 'True False'"},
    # -- regularization.yaml ---------------------------------------------------------------------
    "reg-dropout-code": {
        "check": "values = sorted(set(y.tolist()))\n"
        "assert len(values) == 2 and values[0] == 0.0 and abs(values[1] - 4 / 3) < 1e-6\n"
        "assert printed.strip().endswith(' 1.0')"
    },
    "reg-mc-dropout-code": {
        "check": "assert printed.strip() == '1'\n"
        "model.train()\n"
        "with torch.no_grad():\n"
        "    assert torch.stack([model(x) for _ in range(20)]).unique().numel() > 1"
    },
    # -- sequence_models.yaml -------------------------------------------------------------------
    "seq-tcn-code": {"check": "assert printed.strip() == '10 [5, 7, 9]'"},
    # -- recurrent.yaml ------------------------------------------------------------------------
    "rnn-code-batch-first": {
        "check": "assert printed.strip() == 'torch.Size([32, 5, 20]) torch.Size([1, 5, 20])'"
    },
    "rnn-code-bidirectional": {
        "check": "assert printed.strip() == 'torch.Size([3, 7, 40]) torch.Size([2, 3, 20])'"
    },
    "rnn-code-last-step": {
        "check": "assert error is None and torch.equal(out[:, -1], h[0])\n"
        "assert out[-1].shape != h[0].shape and not torch.allclose(out[:, 0], h[0])\n"
        "assert not torch.allclose(c[0], h[0])"
    },
}


def code_items() -> dict[str, str]:
    """id -> the stem of every question with kind: code."""
    found = {}
    for path in sorted(BANKS.glob("*.yaml")):
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            if q.get("kind") == "code":
                found[q["id"]] = q["text"]
    return found


def run(qid: str, stem: str) -> dict[str, object]:
    blocks = FENCE.findall(stem)
    assert len(blocks) == 1, f"{qid}: a code item has exactly one ```python block"
    spec = CHECKS[qid]
    ns: dict[str, object] = {}
    exec(PRELUDE + spec.get("setup", ""), ns)  # noqa: S102 - the bank's own code, reviewed
    buf = io.StringIO()
    error = None
    with contextlib.redirect_stdout(buf):
        try:
            exec(blocks[0], ns)  # noqa: S102
        except Exception as exc:  # the key may be "it raises"
            error = exc
    ns["printed"], ns["error"] = buf.getvalue(), error
    return ns


def test_every_code_item_has_a_check() -> None:
    items = code_items()
    assert len(items) >= 30
    assert sorted(set(items) - set(CHECKS)) == [], "code items without a check"
    assert sorted(set(CHECKS) - set(items)) == [], "checks for ids that are not code items"


@pytest.mark.parametrize("qid", sorted(CHECKS))
def test_a_code_item_does_what_its_key_says(qid: str) -> None:
    stem = code_items()[qid]
    ns = run(qid, stem)
    exec(CHECKS[qid]["check"], ns)  # noqa: S102
