"""Exporting banks to an LMS: Moodle XML and GIFT, and reading GIFT back (for round-trip checks).

Every question becomes a single-answer multiple-choice question with shuffled
answers (kept in order where the bank says ``fixed_order``), its explanation as
general feedback, one category per topic. A parametric question exports K
rendered variants into a category of its own, so Moodle's "random question
from category" draws variants as the engine does. Inline ``$math$`` becomes
``\\(math\\)``, which Moodle's MathJax filter renders; code is never touched.

Moodle XML is HTML: a fenced code block becomes ``<pre><code>``, inline code
``<code>``, and a figure a PNG embedded in the question as a base64 ``<file>``
(``@@PLUGINFILE@@``). GIFT keeps Markdown (``[markdown]``: Moodle renders the
fenced block as ``<pre><code>``) and links each figure to a PNG written beside
the GIFT file. Figures are drawn only here (matplotlib, imported when needed).
"""

from __future__ import annotations

import base64
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from grader.quiz.bank import Bank, Rendered
from grader.quiz.figures import FigureSpec
from grader.quiz.markup import INLINE_CODE, blocks, map_prose

CATEGORY_ROOT = "$course$/top/dlgrade"


@dataclass(frozen=True)
class Exported:
    """One question as written to the file (a parametric question gives several)."""

    name: str
    category: str
    rendered: Rendered
    fixed_order: bool

    @property
    def figure_file(self) -> str | None:
        """The PNG file name of its figure, if it has one."""
        return f"{self.name}.png" if self.rendered.figure is not None else None


def _math_prose(text: str) -> str:
    return re.sub(r"(?<!\\)\$([^$]+)\$", r"\\(\1\\)", text).replace(r"\$", "$")


def _math(text: str) -> str:
    """Inline ``$math$`` as ``\\(math\\)`` for MathJax, in the prose only (code untouched)."""
    return map_prose(text, _math_prose)


def items(
    bank: Bank, topics: list[str] | None = None, variants: int = 5, calculator: bool = True
) -> list[Exported]:
    """What an export writes: every question of ``topics`` (all by default), ``variants``
    renderings of each parametric one; without ``calculator``, none that needs one."""
    out: list[Exported] = []
    for q in sorted(bank.questions.values(), key=lambda q: (q.topic, q.id)):
        if (topics and q.topic not in topics) or (not calculator and q.calculator):
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


def figure_files(exported: list[Exported]) -> dict[str, FigureSpec]:
    """File name -> figure, for every exported question with a figure."""
    return {
        e.figure_file: e.rendered.figure
        for e in exported
        if e.figure_file and e.rendered.figure is not None
    }


# -- HTML (Moodle XML) --------------------------------------------------------------------------------
def _prose_html(prose: str) -> str:
    parts, pos = [], 0
    for m in INLINE_CODE.finditer(prose):
        parts.append(html.escape(_math_prose(prose[pos : m.start()])))
        parts.append(f"<code>{html.escape(m.group(2))}</code>")
        pos = m.end()
    parts.append(html.escape(_math_prose(prose[pos:])))
    return "".join(parts)


def to_html(text: str) -> str:
    """Question text as HTML: prose escaped with ``\\(math\\)``, inline code as ``<code>``,
    each fenced block as ``<pre><code class="language-...">``; blank lines between paragraphs
    become ``<br>`` pairs inside the prose."""
    parts = blocks(text)
    out = []
    for block in parts:
        if block.is_code:
            cls = f' class="language-{html.escape(block.language)}"' if block.language else ""
            out.append(f"<pre><code{cls}>{html.escape(block.text)}</code></pre>")
        elif block.text.strip():
            prose = block.text.strip("\n") if len(parts) > 1 else block.text
            paragraphs = re.split(r"\n[ \t]*\n", prose)
            out.append("<br><br>".join(_prose_html(p) for p in paragraphs))
    return "".join(out)


def question_html(e: Exported, alt: Callable[[FigureSpec], str] | None = None) -> str:
    """The question text as HTML, with its figure (``@@PLUGINFILE@@/name.png``) after it."""
    body = to_html(e.rendered.text)
    if e.rendered.figure is not None and e.figure_file:
        from grader.quiz.figures import alt_text

        description = (alt or alt_text)(e.rendered.figure)
        body += (
            f'<p><img src="@@PLUGINFILE@@/{e.figure_file}" alt="{html.escape(description)}" '
            'style="max-width: 100%"></p>'
        )
    return body


# -- Moodle XML ------------------------------------------------------------------------------------
def moodle_xml(exported: list[Exported], png: Callable[[FigureSpec], bytes] | None = None) -> str:
    """The questions as Moodle XML; ``png`` draws a figure (default: figures.png, matplotlib)."""
    if png is None:
        from grader.quiz.figures import png as draw_png

        png = draw_png
    drawn: dict[str, bytes] = {}
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
        ET.SubElement(qt, "text").text = question_html(e)
        if e.rendered.figure is not None and e.figure_file:
            key = repr(e.rendered.figure)
            if key not in drawn:
                drawn[key] = png(e.rendered.figure)
            f = ET.SubElement(qt, "file", name=e.figure_file, path="/", encoding="base64")
            f.text = base64.b64encode(drawn[key]).decode("ascii")
        gf = ET.SubElement(q, "generalfeedback", format="html")
        ET.SubElement(gf, "text").text = to_html(e.rendered.explanation)
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
            ET.SubElement(a, "text").text = to_html(choice)
            ET.SubElement(ET.SubElement(a, "feedback", format="html"), "text").text = ""
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


# -- GIFT ---------------------------------------------------------------------------------------------
_GIFT_SPECIAL = "\\~=#{}:"


def gift_escape(text: str) -> str:
    out = "".join("\\" + c if c in _GIFT_SPECIAL else c for c in text)
    return out.replace("\n", "\\n")


def gift_text(e: Exported, figure_folder: str = "figures") -> str:
    """The question's text as GIFT's Markdown: math for MathJax, code as written, and a link to
    the figure's PNG in ``figure_folder`` (beside the GIFT file)."""
    text = _math(e.rendered.text)
    if e.figure_file:
        text += f"\n\n![figure]({figure_folder}/{e.figure_file})"
    return text


def gift(exported: list[Exported], figure_folder: str = "figures") -> str:
    """The questions in GIFT; a figure is linked as ``figure_folder/<name>.png``, which the
    caller writes (see :func:`figure_files`)."""
    lines: list[str] = []
    current = None
    for e in exported:
        if e.category != current:
            lines += [f"$CATEGORY: {e.category}", ""]
            current = e.category
        r = e.rendered
        body = gift_escape(gift_text(e, figure_folder))
        lines.append(f"::{gift_escape(e.name)}::[markdown]{body} {{")
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
        choices: list[str] = []
        answer, explanation = -1, ""
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
