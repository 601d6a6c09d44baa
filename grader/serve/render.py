"""Question text as HTML: paragraphs, fenced code blocks as ``<pre><code>``, inline ``code``,
**bold**, and inline ``$math$`` through the quiz's texmath (the same reading as the terminal).

Everything from a bank is escaped first: a question can show ``<script>`` but never run it.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

from grader.quiz.texmath import readable

FENCE = re.compile(r"^```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
INLINE = re.compile(r"(`[^`\n]+`)|((?<!\\)\$[^$\n]+\$)|(\*\*[^*\n]+\*\*)")


def inline(text: str) -> Markup:
    """One line or paragraph of text: code, math and bold made HTML, the rest escaped."""
    out: list[str] = []
    last = 0
    for m in INLINE.finditer(text):
        out.append(_plain(text[last : m.start()]))
        code, math, bold = m.groups()
        if code:
            out.append(f"<code>{escape(code[1:-1])}</code>")
        elif math:
            out.append(f'<span class="math">{escape(readable(math))}</span>')
        else:
            out.append(f"<strong>{escape(bold[2:-2])}</strong>")
        last = m.end()
    out.append(_plain(text[last:]))
    return Markup("".join(out))


def _plain(text: str) -> str:
    return escape(text.replace("\\$", "$"))


def to_html(text: str) -> Markup:
    """A question's text (Markdown with inline math and fenced code) as HTML blocks."""
    blocks: list[str] = []
    last = 0
    for m in FENCE.finditer(text):
        blocks += _paragraphs(text[last : m.start()])
        language = m.group(1)
        cls = f' class="language-{escape(language)}"' if language else ""
        blocks.append(f"<pre><code{cls}>{escape(m.group(2).rstrip(chr(10)))}</code></pre>")
        last = m.end()
    blocks += _paragraphs(text[last:])
    return Markup("\n".join(blocks))


def _paragraphs(text: str) -> list[str]:
    return [
        f"<p>{inline(' '.join(line.strip() for line in p.strip().splitlines()))}</p>"
        for p in re.split(r"\n\s*\n", text)
        if p.strip()
    ]
