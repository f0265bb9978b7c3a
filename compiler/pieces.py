"""Parse and build a large file in pieces, one per core.

A deployment file is a sequence of statements, so it can be cut before a line that starts one.
Every piece after the first is parsed and built in a forked process, after as many newlines as
lines precede it, so that each position is the one in the whole file; the parent does the first
piece meanwhile and joins the pieces' statements and problems in order.

The result is the whole-file result. Cuts are chosen cheaply (a statement word at the start of a
line, not after a line ending in a comma), so a cut can land inside a block; then a piece does not
parse, and the whole file is parsed again in one piece. The same happens for any syntax error, so
its message is exactly that of a whole-file parse. When every piece parses, the pieces' parses
are the whole file's: the grammar is a sequence of statements, LALR parses are unique, and no
token spans the newline before a cut.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from ..forked import ChildFailed, Forked, can_fork
from .builder import Builder
from .diagnostics import Diagnostic, InputError
from .model import Model
from .parser import parse
from .source import Source

# Below this many lines a second process costs more than it saves.
PIECES_FROM_LINES = 2_000
_STATEMENT_START = re.compile(r"^(?:deployment|party|agreement|domain|device|link|flow|delegation|waiver)[ \t]", re.M)


# A forked piece's statements are pickled, sent and unpickled here, which adds a fifth to a
# quarter of its parse to the time it takes (10k and 100k-element plans: 0.20 s on 0.82 s, 1.9 s on
# 6.8 s); the piece parsed here has none of that, so it is longer by about as much (100k elements,
# three runs each: 8.5-9.6 s with equal pieces, 7.7-9.0 s with this weight).
_FIRST_PIECE_WEIGHT = 1.2


def cut_points(text: str, pieces: int) -> list[int]:
    """Offsets of line starts that split `text` into up to `pieces` parts that take about as long:
    the first (parsed in this process) `_FIRST_PIECE_WEIGHT` times the size of each other."""
    cuts: list[int] = []
    total = _FIRST_PIECE_WEIGHT + pieces - 1
    for k in range(1, pieces):
        found = _STATEMENT_START.search(text, int(len(text) * (_FIRST_PIECE_WEIGHT + k - 1) / total))
        # a statement word after a trailing comma continues a list (a misjudged cut only costs a
        # whole-file parse, so a bounded look back is enough)
        while found and text[max(0, found.start() - 4096):found.start()].rstrip().endswith(","):
            found = _STATEMENT_START.search(text, found.end())
        if found and found.start() > (cuts[-1] if cuts else 0):
            cuts.append(found.start())
    return cuts


def build_model(source: Source, jobs: int) -> tuple[Model, list[Diagnostic]]:
    """The model of a source and the builder's problems; raises `InputError` on a syntax error."""
    lines = source.text.count("\n")
    cuts = cut_points(source.text, jobs) if jobs > 1 and lines >= PIECES_FROM_LINES and can_fork() else []
    pieces = _in_pieces(source, cuts) if cuts else None
    if pieces is None:
        builder = Builder(source.file, source.sha256)
        model = builder.build(parse(source.text, source.file))
        return model, builder.problems
    builder = Builder(source.file, source.sha256)
    for elements, problems in pieces:
        for kind, found in elements.items():
            builder.elements[kind].extend(found)
        builder.problems.extend(problems)
    return builder.model(), builder.problems


def _in_pieces(source: Source, cuts: list[int]) -> list[tuple[dict[str, list[Any]], list[Diagnostic]]] | None:
    """Each piece's statements and problems, in order; None when a piece does not parse."""
    bounds = list(zip([0, *cuts], [*cuts, len(source.text)]))
    children = [Forked(functools.partial(_piece, source, start, end), f"parsing {source.file} from offset {start}")
                for start, end in bounds[1:]]
    try:
        first = _piece(source, *bounds[0])
        return [first, *(child.result() for child in children)]
    except (ChildFailed, InputError):  # the whole-file parse tells exactly what is wrong
        return None
    finally:
        for child in children:
            child.cancel()


def _piece(source: Source, start: int, end: int) -> tuple[dict[str, list[Any]], list[Diagnostic]]:
    padding = "\n" * source.text.count("\n", 0, start)
    builder = Builder(source.file, source.sha256)
    builder.add(parse(padding + source.text[start:end], source.file))
    return builder.elements, builder.problems
