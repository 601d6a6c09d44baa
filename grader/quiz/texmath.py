"""Inline ``$math$`` made readable in a terminal: the common LaTeX commands as Unicode.

``$\\sigma(z_1 - z_2)$`` reads as ``σ(z₁ − z₂)``. What it does not know stays as
written, so nothing is lost; exports (Moodle) keep the LaTeX. Code (fenced blocks, inline
`code`) is left exactly as written.
"""

from __future__ import annotations

import re

from grader.quiz.markup import map_prose

SYMBOLS = {
    r"\cdot": "·",
    r"\times": "×",
    r"\leftarrow": "←",
    r"\rightarrow": "→",
    r"\to": "→",
    r"\leq": "≤",
    r"\le": "≤",
    r"\geq": "≥",
    r"\ge": "≥",
    r"\neq": "≠",
    r"\approx": "≈",
    r"\infty": "∞",
    r"\partial": "∂",
    r"\nabla": "∇",
    r"\sum": "Σ",
    r"\prod": "Π",
    r"\sqrt": "√",
    r"\in": "∈",
    r"\lfloor": "⌊",
    r"\rfloor": "⌋",
    r"\lceil": "⌈",
    r"\rceil": "⌉",
    r"\|": "‖",
    r"\log": "log",
    r"\exp": "exp",
    r"\max": "max",
    r"\min": "min",
    r"\ln": "ln",
    r"\tanh": "tanh",
    r"\alpha": "α",
    r"\beta": "β",
    r"\gamma": "γ",
    r"\delta": "δ",
    r"\epsilon": "ε",
    r"\varepsilon": "ε",
    r"\eta": "η",
    r"\theta": "θ",
    r"\lambda": "λ",
    r"\mu": "μ",
    r"\pi": "π",
    r"\rho": "ρ",
    r"\sigma": "σ",
    r"\tau": "τ",
    r"\phi": "φ",
    r"\psi": "ψ",
    r"\omega": "ω",
    r"\Delta": "Δ",
    r"\Sigma": "Σ",
    r"\dots": "…",
    r"\ldots": "…",
    r"\cdots": "⋯",
    r"\mid": "|",
    r"\sim": "~",
    r"\propto": "∝",
    r"\odot": "⊙",
    r"\otimes": "⊗",
    r"\top": "ᵀ",
    r"\ell": "ℓ",
    r"\cup": "∪",
    r"\cap": "∩",
    r"\forall": "∀",
    r"\exists": "∃",
    r"\kappa": "κ",
    r"\xi": "ξ",
    r"\nu": "ν",
    r"\zeta": "ζ",
    r"\chi": "χ",
    r"\Phi": "Φ",
    r"\Omega": "Ω",
    r"\Lambda": "Λ",
    r"\Theta": "Θ",
    r"\Pi": "Π",
    r"\pm": "±",
    r"\circ": "∘",
    r"\ll": "≪",
    r"\gg": "≫",
    r"\,": " ",
    r"\;": " ",
    r"\quad": "  ",
}
SUPER = str.maketrans("0123456789+-=()nijkTtalmsxd", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱʲᵏᵀᵗᵃˡᵐˢˣᵈ")
SUB = str.maketrans("0123456789+-=()ijknt", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ᵢⱼₖₙₜ")
BINARY = {r"\cdot", r"\times", r"\leftarrow", r"\rightarrow", r"\to", r"\leq", r"\le", r"\geq"}
BINARY |= {
    r"\ge",
    r"\neq",
    r"\approx",
    r"\in",
    r"\mid",
    r"\sim",
    r"\propto",
    r"\odot",
    r"\otimes",
    r"\cup",
    r"\cap",
    r"\pm",
    r"\ll",
    r"\gg",
}
WORDS = {r"\log", r"\exp", r"\max", r"\min", r"\ln", r"\tanh", r"\quad", r"\,", r"\;"}
_COMMANDS = sorted(SYMBOLS, key=len, reverse=True)
_COMMAND_RE = re.compile(
    "(?:"
    + "|".join(re.escape(c) + (r"(?![A-Za-z])" if c[-1].isalpha() else "") for c in _COMMANDS)
    + ")(?:[ ]+(?=[A-Za-z0-9(\\[{|]))?"
)


def _command(m: re.Match[str]) -> str:
    name = m.group(0).rstrip(" ")
    if name in BINARY:
        return f" {SYMBOLS[name]} "
    if name in WORDS:  # log x, but log(x) and max_a
        return SYMBOLS[name] + (" " if m.group(0).endswith(" ") else "")
    return SYMBOLS[name]  # a symbol: LaTeX drops the space after it


def _script(body: str, table: dict[int, int]) -> str | None:
    converted = body.translate(table)
    return converted if all(ord(c) > 127 for c in converted) else None


def _math(expr: str) -> str:
    expr = re.sub(r"\\(?:mathrm|text|mathbf|operatorname)\{([^{}]*)\}", r"\1", expr)
    expr = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", expr)
    expr = re.sub(r"\\sqrt\{([^{}]*)\}", r"√(\1)", expr)
    expr = re.sub(r"\\hat\s*\{?([A-Za-z])\}?", "\\1\u0302", expr)
    expr = re.sub(r"\\tilde\s*\{?([A-Za-z])\}?", "\\1\u0303", expr)
    expr = re.sub(r"\\bar\s*\{?([A-Za-z])\}?", "\\1\u0304", expr)
    expr = re.sub(r"\\(?:mathcal|mathbb|boldsymbol)\{([^{}]*)\}", r"\1", expr)
    expr = expr.replace("\\ ", " ").replace("\\!", "")
    expr = _COMMAND_RE.sub(_command, expr)

    def script(m: re.Match[str]) -> str:
        body = m.group(2) if m.group(2) is not None else m.group(3)
        converted = _script(body, SUPER if m.group(1) == "^" else SUB)
        if converted is not None:
            return converted
        if len(body) == 1:
            return m.group(0)
        plain = body.isascii() and body.isalnum()  # d_model, not e^(zᵢ)
        return f"{m.group(1)}{body}" if plain else f"{m.group(1)}({body})"

    expr = re.sub(r"(_)(?:\{([^{}]*)\}|([A-Za-z0-9]))", script, expr)  # inner subscripts first
    expr = re.sub(r"(\^)(?:\{([^{}]*)\}|([A-Za-z0-9]))", script, expr)
    expr = expr.replace(" - ", " − ").replace("{", "").replace("}", "")
    return re.sub(" {2,}", " ", expr).strip()


def _readable_prose(text: str) -> str:
    return re.sub(r"(?<!\\)\$([^$]+)\$", lambda m: _math(m.group(1)), text).replace(r"\$", "$")


def readable(text: str) -> str:
    """``text`` with each ``$...$`` segment rendered for a terminal (``\\$`` is a dollar); code
    blocks and inline code untouched."""
    return map_prose(text, _readable_prose)
