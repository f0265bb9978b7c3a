"""Canonical formatting of .ami text: single spaces, two-space indents, one property per line in
multi-line blocks, comments kept where they were. Idempotent; the result compiles to the same input."""
from __future__ import annotations

import functools
import re

from lark import Lark, Token, Tree

from .parser import cached_lark
from .parser import parse as checked_parse

INDENT = "  "
_COMMENT = re.compile(r'^((?:[^"#]|"(?:[^"\\\n]|\\.)*")*)(#.*)$')


@functools.lru_cache(maxsize=1)
def _token_parser() -> Lark:
    return cached_lark(propagate_positions=True, keep_all_tokens=True)


def _comments(text: str) -> tuple[dict[int, str], set[int], set[int]]:
    """Comments by line; which lines hold only a comment; which lines are blank."""
    comments: dict[int, str] = {}
    alone: set[int] = set()
    blank: set[int] = set()
    # Split at "\n" only, as the parser counts lines: str.splitlines would also break at form
    # feeds and Unicode line separators inside strings and misplace every later comment.
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            blank.add(n)
            continue
        m = _COMMENT.match(line)
        if m:
            comments[n] = m.group(2).rstrip()
            if not m.group(1).strip():
                alone.add(n)
    return comments, alone, blank


def _tokens(node: Tree | Token | None) -> list[Token]:
    if node is None:
        return []
    if isinstance(node, Token):
        return [] if node.type == "_NL" else [node]
    out: list[Token] = []
    for child in node.children:
        out.extend(_tokens(child))
    return out


class _Printer:
    def __init__(self, text: str) -> None:
        self.comments, self.alone, self.blank = _comments(text)
        self.out: list[str] = []
        self.done_to = 0  # last source line whose comments were emitted

    def gap(self, upto: int, indent: str) -> None:
        """Emit the comment-only lines before source line `upto`, keeping one blank line where there were any."""
        pending_blank = False
        for n in range(self.done_to + 1, upto):
            if n in self.blank:
                pending_blank = bool(self.out)
            elif n in self.alone:
                if pending_blank and self.out and self.out[-1] != "":
                    self.out.append("")
                pending_blank = False
                self.out.append(indent + self.comments[n])
        if pending_blank and self.out and self.out[-1] != "":
            self.out.append("")
        self.done_to = max(self.done_to, upto - 1)

    def line(self, text: str, source_lines: range) -> None:
        """Emit a line of code with the trailing comments of the source lines it covers."""
        trailing = [self.comments[n] for n in source_lines if n in self.comments and n not in self.alone and n > self.done_to]
        self.out.append(text + ("  " + "  ".join(trailing) if trailing else ""))
        self.done_to = max(self.done_to, source_lines.stop - 1)


def _property_text(prop: Tree, indent: str) -> list[tuple[str, int, int]]:
    """A property as output lines (text, first source line, last source line), keeping line breaks after commas."""
    toks = _tokens(prop)
    name, rest = toks[0], toks[1:]
    lines: list[tuple[str, int, int]] = []
    current, start = str(name), name.line
    cont = " " * (len(str(name)) + 1)
    prev: Token = name
    for tok in rest:
        if tok.type == "COMMA":
            current += ","
        elif prev.type == "COMMA" and tok.line > prev.line:
            lines.append((current, start, prev.line))
            current, start = indent + cont + str(tok), tok.line
        else:
            current += " " + str(tok)
        prev = tok
    lines.append((current, start, prev.end_line or prev.line))
    return lines


def _statement(p: _Printer, stmt: Tree) -> None:
    block = next((c for c in stmt.children if isinstance(c, Tree) and c.data == "block"), None)
    header = [t for c in stmt.children if c is not block for t in _tokens(c)]
    head = " ".join(str(t) for t in header)
    start = stmt.meta.line
    if block is None:
        p.line(head, range(start, stmt.meta.end_line + 1))
        return
    props = [c for c in block.children if isinstance(c, Tree) and c.data == "property"]
    lbrace, rbrace = block.children[0], block.children[-1]
    one_line = lbrace.line == rbrace.line and not any(n in p.comments for n in range(lbrace.line + 1, rbrace.line))
    if one_line and all(len(_property_text(pr, "")) == 1 for pr in props):
        inner = "; ".join(_property_text(pr, "")[0][0] for pr in props)
        p.line(f"{head} {{ {inner} }}" if inner else f"{head} {{ }}", range(start, rbrace.line + 1))
        return
    p.line(f"{head} {{", range(start, lbrace.line + 1))
    for pr in props:
        for text, first, last in _property_text(pr, ""):
            # Comment lines inside a list that continues over several lines keep its indentation.
            p.gap(first, INDENT + " " * (len(text) - len(text.lstrip(" "))))
            p.line(INDENT + text, range(first, last + 1))
    p.gap(rbrace.line, INDENT)
    p.line("}", range(rbrace.line, rbrace.line + 1))


def format_text(text: str, file: str = "<string>") -> str:
    """The canonical form of deployment text; raises `InputError` if it does not parse."""
    checked_parse(text, file)  # positioned syntax errors come from the one parser
    tree = _token_parser().parse(text)
    p = _Printer(text)
    for stmt in tree.children:
        if isinstance(stmt, Tree):
            p.gap(stmt.meta.line, "")
            _statement(p, stmt)
    p.gap(text.count("\n") + 2, "")
    while p.out and p.out[-1] == "":
        p.out.pop()
    return "\n".join(p.out) + "\n" if p.out else ""
