"""The JSON contracts of dlgrade's outputs, as JSON Schema files (documented in docs/json.md):
``check`` (`dlgrade check --json`, and each entry of a class's ``<student>.json``) and ``quiz``
(`dlgrade quiz practice|exam --json`)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

NAMES = ("check", "quiz")


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (one of NAMES)."""
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)
