"""Exporting banks to an LMS: Moodle XML and GIFT, and reading GIFT back (for round-trip checks).

Every question becomes a single-answer multiple-choice question with shuffled
answers (kept in order where the bank says ``fixed_order``), its explanation as
general feedback, one category per topic. A parametric question exports K
rendered variants into a category of its own, so Moodle's "random question
from category" draws variants as the engine does. Inline ``$math$`` becomes
``\\(math\\)``, which Moodle's MathJax filter renders.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from grader.quiz.bank import Bank, Rendered
from grader.quiz.markup import map_prose

CATEGORY_ROOT = "$course$/top/dlgrade"


@dataclass(frozen=True)
class Exported:
    """One question as written to the file (a parametric question gives several)."""

    name: str
    category: str
    rendered: Rendered
    fixed_order: bool


def _math_prose(text: str) -> str:
    return re.sub(r"(?<!\\)\$([^$]+)\$", r"\\(\1\\)", text).replace(r"\$", "$")


def _math(text: str) -> str:
    """Inline ``$math$`` as ``\\(math\\)`` for MathJax, in the prose only (code untouched)."""
    return map_prose(text, _math_prose)


def items(bank: Bank, topics: list[str] | None = None, variants: int = 5) -> list[Exported]:
    out: list[Exported] = []
    for q in sorted(bank.questions.values(), key=lambda q: (q.topic, q.id)):
        if topics and q.topic not in topics:
            continue
        category = f"{CATEGORY_ROOT}/{q.topic}"
        if q.generator is None:
            out.append(Exported(q.id, category, q.render(0), q.fixed_order))
        else:
            for k in range(variants):
                out.append(
                    Exported(f"{q.id}-v{k + 1}", f"{category}/{q.id}", q.render(k), q.fixed_order)
                )
    return out


# -- Moodle XML ------------------------------------------------------------------------------------
def moodle_xml(exported: list[Exported]) -> str:
    quiz = ET.Element("quiz")
    current = None
    for e in exported:
        if e.category != current:
            cat = ET.SubElement(quiz, "question", type="category")
            ET.SubElement(ET.SubElement(cat, "category"), "text").text = e.category
            current = e.category
        q = ET.SubElement(quiz, "question", type="multichoice")
        ET.SubElement(ET.SubElement(q, "name"), "text").text = e.name
        qt = ET.SubElement(q, "questiontext", format="html")
        ET.SubElement(qt, "text").text = html.escape(_math(e.rendered.text))
        gf = ET.SubElement(q, "generalfeedback", format="html")
        ET.SubElement(gf, "text").text = html.escape(_math(e.rendered.explanation))
        for tag, value in (
            ("defaultgrade", "1"),
            ("penalty", "0"),
            ("hidden", "0"),
            ("single", "true"),
            ("shuffleanswers", "false" if e.fixed_order else "true"),
            ("answernumbering", "abc"),
        ):
            ET.SubElement(q, tag).text = value
        for i, choice in enumerate(e.rendered.choices):
            a = ET.SubElement(
                q, "answer", fraction="100" if i == e.rendered.answer else "0", format="html"
            )
            ET.SubElement(a, "text").text = html.escape(_math(choice))
            ET.SubElement(ET.SubElement(a, "feedback", format="html"), "text").text = ""
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


# -- GIFT ---------------------------------------------------------------------------------------------
_GIFT_SPECIAL = "\\~=#{}:"


def gift_escape(text: str) -> str:
    out = "".join("\\" + c if c in _GIFT_SPECIAL else c for c in text)
    return out.replace("\n", "\\n")


def gift(exported: list[Exported]) -> str:
    lines: list[str] = []
    current = None
    for e in exported:
        if e.category != current:
            lines += [f"$CATEGORY: {e.category}", ""]
            current = e.category
        r = e.rendered
        lines.append(f"::{gift_escape(e.name)}::[markdown]{gift_escape(_math(r.text))} {{")
        for i, choice in enumerate(r.choices):
            lines.append(("=" if i == r.answer else "~") + gift_escape(_math(choice)))
        lines.append("####" + gift_escape(_math(r.explanation)))
        lines += ["}", ""]
    return "\n".join(lines)


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def read_gift(text: str) -> list[tuple[str, str, Rendered]]:
    """(category, name, question) for each question of a GIFT file written by ``gift``."""
    found = []
    category = ""
    blocks = re.split(r"\n\s*\n", text)
    for block in blocks:
        block = block.strip()
        if not block:
            continue
        if block.startswith("$CATEGORY:"):
            category = block.split(":", 1)[1].strip()
            continue
        m = re.match(r"::(.*?)(?<!\\)::(?:\[markdown\])?(.*?)(?<!\\)\{\n(.*)\n\}$", block, re.S)
        if not m:
            raise ValueError(f"not a GIFT question: {block[:60]!r}")
        name, body, answers = m.group(1), m.group(2).strip(), m.group(3)
        choices, answer, explanation = [], -1, ""
        for line in answers.split("\n"):
            if line.startswith("####"):
                explanation = _unescape(line[4:])
            elif line[:1] in "=~":
                if line[0] == "=":
                    answer = len(choices)
                choices.append(_unescape(line[1:]))
        found.append(
            (
                category,
                _unescape(name),
                Rendered(_unescape(body), tuple(choices), answer, explanation),
            )
        )
    return found
