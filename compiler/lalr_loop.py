"""Lark's LALR parser run from one flat loop, in C where the optional extension `_lalr` was built.

Lark's LALR loop spends most of a parse in generic machinery: a generator per token, a line
counter object, a deprecation check in every Token(), an attribute lookup chain per action, and
rule objects hashed in Python. `fast_parse` runs the very same tables, per-state (contextual)
lexers and tree callbacks from one flat loop, which halves the time of a large file. It does not
describe errors: anything it cannot take goes to Lark's loop, so messages stay Lark's (a text
with a syntax error is read twice up to the error). lark-cython 0.0.17 was measured too: a third
faster than Lark's loop, slower than this one, and its tokens are not `str` and its parser state
does not fit the parser's error descriptions. `_lalr.c` takes the same steps as `_run` in C, on
the same tables and tokens, and does what the tree callbacks Lark composed for each rule do
(`_plan`) without calling them, so the trees are the same.
"""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from lark import Lark, Token, Tree
from lark.lexer import ContextualLexer, UnlessCallback
from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders, ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

try:
    from . import _lalr  # the loop in C, where a C compiler was at install time
except ImportError:
    _lalr = None

_Lexer = tuple[Callable[..., Any], frozenset[str], frozenset[str], dict[str, Any], dict[str, dict[str, str]]]
# How the C loop makes a rule's tree without calling its Lark callback: the tree class's builder
# (`partial(Tree, rule)`), the children kept (index, whether inlined, Nones before it; None: all, as
# they are), Nones after them, whether one child stands for the tree (`?rule`), and for a
# repetition's step the children added to the tree so far (see `_grown`).
_Plan = tuple[Callable[[list[Any]], Any] | None, tuple[tuple[int, bool, int], ...] | None, int, bool, tuple[int, ...] | None]
_Reduction = tuple[int, Callable[[list[Any]], Any], str, _Plan | None]
_State = tuple[dict[str, int], dict[str, _Reduction], _Lexer | None]

_new_str = str.__new__


class NotHere(Exception):
    """The fast loop cannot take this text (or this Lark): Lark's own loop parses it."""


class FastTables(dict[int, _State]):
    """Per LALR state, made on first use from the Lark parser: its moves (terminal → state after a
    shift, rule → state after a reduction to it; the names never clash, terminals are upper case),
    its reductions (terminal → rule length, tree callback, rule name) and its contextual lexer (the
    compiled pattern's match, the ignored and newline-holding terminals, the token callbacks, and
    keyword tables that stand for Lark's `UnlessCallback`)."""

    def __init__(self, parser: Lark) -> None:
        super().__init__()
        frontend = parser.parser
        lalr = frontend.parser.parser
        if not isinstance(frontend.lexer, ContextualLexer) or frontend.lexer_conf.postlex is not None:
            raise NotHere("not a contextual lexer")
        if any(isinstance(key, str) for key in lalr.callbacks):
            raise NotHere("terminal callbacks in the parser")  # the loop shifts tokens as they are
        self.actions = lalr.parse_table.states
        self.callbacks = lalr.callbacks
        self.state_lexers = frontend.lexer.lexers
        self.start = lalr.parse_table.start_states["start"]
        self.end = lalr.parse_table.end_states["start"]
        self._lexers: dict[int, _Lexer] = {}

    def __missing__(self, state: int) -> _State:
        moves: dict[str, int] = {}
        reductions: dict[str, _Reduction] = {}
        for symbol, (action, arg) in self.actions[state].items():
            name = sys.intern(str(symbol))  # plain str keys: Token keys would compare in Python
            if action is Shift:
                moves[name] = arg
            else:
                callback = self.callbacks[arg]
                reductions[name] = (len(arg.expansion), _callback(arg, callback), sys.intern(str(arg.origin.name)),
                                    _plan(arg, callback))
        entry = (moves, reductions, self._lexer(state))
        self[state] = entry
        return entry

    def _lexer(self, state: int) -> _Lexer | None:
        basic = self.state_lexers.get(state)
        if basic is None:
            return None
        if id(basic) not in self._lexers:
            patterns = getattr(basic.scanner, "_mres", None)
            if not isinstance(patterns, list) or len(patterns) != 1:
                raise NotHere("not one pattern per lexer")
            callbacks, keywords = {}, {}
            for type_, callback in basic.callback.items():
                table = _keyword_table(callback)
                if table is None:
                    callbacks[type_] = callback
                else:
                    keywords[type_] = table
            self._lexers[id(basic)] = (patterns[0].match, frozenset(basic.ignore_types),
                                       frozenset(basic.newline_types), callbacks, keywords)
        return self._lexers[id(basic)]


def _grown(rule: Any, callback: Callable[[list[Any]], Any]) -> tuple[int, ...] | None:
    """For a repetition's left-recursive step (`__x: __x a b`), the children to add to the tree so
    far (None for any other rule). Lark makes a new tree around that tree's very list of children;
    the repetition is inlined in its parent, so no one else holds the old tree, and a repetition of
    many words or properties made a tree per step."""
    if type(callback) is not ChildFilterLALR_NoPlaceholders or not callback.to_include:
        return None
    first, *rest = callback.to_include
    if first != (0, True) or rule.expansion[0] != rule.origin or any(expand for _, expand in rest):
        return None
    return tuple(i for i, _ in rest)


def _callback(rule: Any, callback: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """The tree callback of a rule for the Python loop: Lark's, or one that grows a repetition's tree."""
    kept = _grown(rule, callback)
    if kept is None:
        return callback

    def add_to_first(children: list[Any]) -> Any:
        tree = children[0]
        tree.children.extend([children[i] for i in kept])
        return tree

    return add_to_first


def _plan(rule: Any, callback: Callable[[list[Any]], Any]) -> _Plan | None:
    """What Lark's callback for `rule` does, for the C loop to do itself (None: call the callback).
    Lark composes a callback of a child filter around `ExpandSingleChild` around the tree class;
    anything else is left to it."""
    kept = _grown(rule, callback)
    if kept is not None:
        return None, None, 0, False, kept
    ops, append_none = None, 0
    if type(callback) is ChildFilterLALR_NoPlaceholders:
        ops = tuple((i, bool(expand), 0) for i, expand in callback.to_include)
        callback = callback.node_builder
    elif type(callback) is ChildFilterLALR:
        ops = tuple((i, bool(expand), nones) for i, expand, nones in callback.to_include)
        append_none, callback = callback.append_none, callback.node_builder
    single = type(callback) is ExpandSingleChild
    if single:
        callback = callback.node_builder
    if not (type(callback) is functools.partial and callback.func is Tree and len(callback.args) == 1 and not callback.keywords):
        return None
    return callback, ops, append_none, single, None


def _keyword_table(callback: Any) -> dict[str, str] | None:
    """Lark's `UnlessCallback` retypes a NAME that is exactly a keyword; for plain keywords that is
    a dict lookup (None: leave the callback to do it)."""
    if type(callback) is not UnlessCallback or callback.scanner.g_regex_flags:
        return None
    terminals = callback.scanner.terminals
    if any(t.pattern.type != "str" or t.pattern.flags for t in terminals):
        return None
    table: dict[str, str] = {}
    for t in terminals:
        table.setdefault(t.pattern.value, t.name)  # the first alternative wins, as in the pattern
    return table


def tables_for(parser: Lark) -> FastTables | None:
    """The fast loop's tables for a Lark parser (None if that parser does not fit the loop)."""
    try:
        return FastTables(parser)
    except (NotHere, AttributeError):
        return None


def fast_parse(tables: FastTables, text: str, in_c: bool = True, begin: int = 0, stop: int | None = None,
               line: int = 1) -> Tree | None:
    """The tree Lark's parser makes of `text[begin:stop]` (`begin` the start of line `line`), its
    tokens' positions those in `text`; or None where Lark's loop must take over (a syntax error, a
    token that runs past `stop`, or something the tables do not cover). The loop runs in C where the
    optional extension `_lalr` was built (10k elements: 0.98 → 0.60 s), else in Python (`in_c=False`:
    always)."""
    stop = len(text) if stop is None else stop
    try:
        if in_c and _lalr is not None:
            return _lalr.run(tables, tables.start, tables.end, text, Token, _new_str, NotHere, begin, stop, line)
        return _run(tables, text, begin, stop, line)
    except (NotHere, KeyError):  # KeyError: no action for this terminal in this state
        return None


def _run(tables: FastTables, text: str, begin: int, stop: int, line: int) -> Tree:
    """Lark's contextual lexer and LALR loop (`BasicLexer.next_token`, `ParserState.feed_token`)
    in one function, over `text[begin:stop]`; positions are counted as Lark's `LineCounter` counts
    them, from line `line` at `begin`."""
    state_stack = [tables.start]
    value_stack: list[Any] = []
    push_state, push_value = state_stack.append, value_stack.append
    moves, reductions, lexer = tables[tables.start]
    pos, line_start = begin, begin
    while pos < stop:
        if lexer is None:
            raise NotHere("no lexer for this state")
        match, ignored, newlines, callbacks, keywords = lexer
        found = match(text, pos)
        if found is None:
            raise NotHere("no terminal matches here")
        type_, value, end = found.lastgroup, found.group(), found.end()
        if end > stop:
            raise NotHere("a token runs past the end of the text parsed")
        end_line, end_line_start = line, line_start
        if type_ in newlines and "\n" in value:
            end_line += value.count("\n")
            end_line_start = pos + value.rindex("\n") + 1
        if type_ in ignored and type_ not in callbacks:
            pos, line, line_start = end, end_line, end_line_start
            continue
        # Token(...) as Lark's constructor fills it, without its keyword-deprecation check (3x faster)
        token = _new_str(Token, value)
        token.type, token.value, token.start_pos, token.end_pos = type_, value, pos, end
        token.line, token.column = line, pos - line_start + 1
        token.end_line, token.end_column = end_line, end - end_line_start + 1
        pos, line, line_start = end, end_line, end_line_start
        if type_ in keywords:
            token.type = type_ = keywords[type_].get(value, type_)
        elif type_ in callbacks:
            skip = type_ in ignored
            token = callbacks[type_](token)
            if skip:
                continue
            type_ = token.type
        while True:  # reduce as long as the table says so, then shift the token
            target = moves.get(type_)
            if target is not None:
                push_state(target)
                push_value(token)
                moves, reductions, lexer = tables[target]
                break
            target = _reduce(tables, state_stack, value_stack, reductions[type_])
            moves, reductions, lexer = tables[target]
    while True:  # the end of the text: reduce up to the start rule
        target = _reduce(tables, state_stack, value_stack, reductions["$END"])
        if target == tables.end:
            return value_stack[-1]
        moves, reductions, lexer = tables[target]


def _reduce(tables: FastTables, state_stack: list[int], value_stack: list[Any], reduction: _Reduction) -> int:
    """Replace the reduced rule's states and values on the stacks by its tree (`ParserState.reduce`);
    the state it leads to."""
    length, callback, rule, _ = reduction
    children = value_stack[-length:] if length else []
    if length:
        del state_stack[-length:]
        del value_stack[-length:]
    target = tables[state_stack[-1]][0][rule]
    state_stack.append(target)
    value_stack.append(callback(children))
    return target
