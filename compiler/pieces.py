"""Parse and build a large file in pieces, one per core, each piece a run of statements at a time.

A deployment file is a sequence of statements, so it can be cut before a line that starts one.
Every piece after the first is parsed and built in a forked process, each position the one in the
whole file; the parent does the first piece meanwhile and joins the pieces' statements and
problems in order.

The result is the whole-file result. Cuts are chosen cheaply (a statement word at the start of a
line, not after a line ending in a comma), so a cut can land inside a block; then a piece does not
parse, and the whole file is parsed again in one piece. The same happens for any syntax error, so
its message is exactly that of a whole-file parse. When every piece parses, the pieces' parses
are the whole file's: the grammar is a sequence of statements, LALR parses are unique, and no
token spans the newline before a cut.

Within a piece, statements are parsed and built a run of about `RUN_CHARS` characters at a time,
cut the same way: each run's parse tree is built into the model while it is still in the
processor's cache and then let go, where a piece's whole tree (hundreds of MB at utility scale)
was made first and walked afterwards from memory. A run the fast loop cannot take sends the whole
piece through `parse`, which describes a syntax error exactly as before.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from ..forked import ChildFailed, Forked, can_fork
from .builder import Builder
from .diagnostics import Diagnostic, InputError
from .model import Model
from .parser import parse, parse_part
from .source import Source

# Below this many lines a second process costs more than it saves.
PIECES_FROM_LINES = 2_000
_STATEMENT_START = re.compile(r"^(?:deployment|party|agreement|domain|device|link|flow|delegation|waiver)[ \t]", re.M)


# Characters per run of statements parsed and built together: a run's tree, some fifteen times its
# text, stays within the processor's cache (100k elements in one piece: 5.6-7.1 s as one tree,
# 4.6-5.4 s in runs).
RUN_CHARS = 1 << 16

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
        cut = _statement_start(text, int(len(text) * (_FIRST_PIECE_WEIGHT + k - 1) / total), len(text))
        if cut is not None and cut > (cuts[-1] if cuts else 0):
            cuts.append(cut)
    return cuts


def _statement_start(text: str, at: int, end: int) -> int | None:
    """The first line start from `at` on (before `end`) where a statement seems to begin."""
    found = _STATEMENT_START.search(text, at, end)
    # a statement word after a trailing comma continues a list (a misjudged cut only costs a
    # whole-piece parse, so a bounded look back is enough)
    while found and text[max(0, found.start() - 4096):found.start()].rstrip().endswith(","):
        found = _STATEMENT_START.search(text, found.end(), end)
    return found.start() if found else None


def build_model(source: Source, jobs: int) -> tuple[Model, list[Diagnostic]]:
    """The model of a source and the builder's problems; raises `InputError` on a syntax error."""
    lines = source.text.count("\n")
    cuts = cut_points(source.text, jobs) if jobs > 1 and lines >= PIECES_FROM_LINES and can_fork() else []
    pieces = _in_pieces(source, cuts) if cuts else None
    if pieces is None:
        builder = _built(source, 0, len(source.text))
        return builder.model(), builder.problems
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
    builder = _built(source, start, end)
    return builder.elements, builder.problems


def _built(source: Source, start: int, end: int) -> Builder:
    """A builder holding the statements of `source.text[start:end]` (`start` a line's start),
    parsed and built a run at a time; raises `InputError` on a syntax error."""
    text = source.text
    builder = Builder(source.file, source.sha256)
    first_line = line = text.count("\n", 0, start) + 1
    begin = start
    while True:
        cut = _statement_start(text, begin + RUN_CHARS, end) if begin + RUN_CHARS < end else None
        stop = end if cut is None else cut
        tree = parse_part(text, begin, stop, line)
        if tree is None:
            # the whole piece through `parse`, which tells what is wrong (after as many newlines as
            # lines precede it, so that positions are the file's)
            builder = Builder(source.file, source.sha256)
            builder.add(parse("\n" * (first_line - 1) + text[start:end], source.file))
            return builder
        builder.add(tree)
        if stop == end:
            return builder
        line += text.count("\n", begin, stop)
        begin = stop
