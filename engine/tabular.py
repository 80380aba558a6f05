"""The one table writer behind every export (sweep tables, run rows, curves, the class
gradebook): CSV (the ``csv`` module), Markdown that renders on GitHub, LaTeX with booktabs, a
caption and a label, and aligned text; one LaTeX escaping for all. Imports nothing of the engine."""

from __future__ import annotations

import csv
import io
import unicodedata

LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    r"""Text as LaTeX prints it literally; ``±`` becomes ``$\pm$``."""
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in str(text)).replace("±", r"$\pm$")


def write_table(
    head: list[str],
    body: list[list[str]],
    fmt: str,
    bold: set[int] | frozenset = frozenset(),
    caption: str = "",
    label: str = "",
    numeric_from: int | None = None,
    note: str = "",
    star: str = " ★",
) -> str:
    """``body`` rows under ``head`` as ``fmt`` (csv | markdown | latex | text). Rows whose index is
    in ``bold`` are the best (bold, starred in Markdown); columns from ``numeric_from`` on are
    right-aligned; ``note`` goes under the table (a LaTeX comment, a Markdown line)."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        w.writerows(body)
        return buf.getvalue()
    if fmt == "markdown":
        return _markdown(head, body, bold, note, star)
    if fmt == "latex":
        return _latex(head, body, bold, caption, label, len(head) if numeric_from is None else numeric_from, note)
    if fmt == "text":
        return _text(head, body, bold, note)
    raise ValueError(f"unknown format {fmt!r}")


def _markdown(head: list[str], body: list[list[str]], bold, note: str, star: str) -> str:
    def cell(s: str) -> str:
        return str(s).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, head)) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for i, row in enumerate(body):
        cells = [cell(c) for c in row]
        if i in bold:
            cells = [f"**{c}**" if c else c for c in cells]
            cells[-1] += star
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + (f"\n{note}\n" if note else "")


def _latex(head: list[str], body: list[list[str]], bold, caption: str, label: str, first_num: int, note: str) -> str:
    align = "l" * first_num + "r" * (len(head) - first_num)
    lines = [r"% needs \usepackage{booktabs}", r"\begin{table}[ht]", r"\centering"]
    if caption:
        lines.append(r"\caption{" + latex_escape(caption) + "}")
    if label:
        lines.append(r"\label{" + label + "}")
    lines += [r"\begin{tabular}{" + align + "}", r"\toprule", " & ".join(map(latex_escape, head)) + r" \\"]
    lines.append(r"\midrule")
    for i, row in enumerate(body):
        cells = [latex_escape(c) for c in row]
        if i in bold:
            cells = [r"\textbf{" + c + "}" if c else c for c in cells]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if note:
        lines.append("% " + note)
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters (wide) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width: int) -> str:
    text = str(text)
    return text + " " * (width - display_width(text))


def _text(head: list[str], body: list[list[str]], bold, note: str) -> str:
    widths = [max([display_width(str(h)), *(display_width(str(r[i])) for r in body)]) for i, h in enumerate(head)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(head, widths, strict=True))]
    for i, row in enumerate(body):
        text = "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True))
        lines.append(text + ("  ← best" if i in bold else ""))
    return "\n".join(lines) + "\n" + (f"{note}\n" if note else "")
