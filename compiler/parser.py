"""Source text → parse tree. The Lark parser is built once; its errors become positioned diagnostics
that say in words what was expected."""
from __future__ import annotations

import functools
import re
import sys
from copy import copy
from importlib import resources
from typing import Any, Callable

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import ContextualLexer, UnlessCallback
from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders, ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

from ..cache import memo
from .diagnostics import Diagnostic, InputError, Span, suggest

try:
    from . import _lalr  # the fast loop in C, where a C compiler was at install time
except ImportError:
    _lalr = None

_WORDS: dict[str, str | tuple[str, ...]] = {
    "NAME": "a name",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "RULE_ID": "a rule id such as AMI-OWN-001",
    "ARROW": "'->' or '<->'",
    "COMMA": "','",
    "STAR": "'*'",
    "_NL": "the end of the line",
    "_SEP": ("';'", "the end of the line"),
    "$END": "the end of the file",
}
_SEPARATORS = frozenset({"_NL", "_SEP"})  # a list's line break; a statement's or property's end
_STATEMENT_WORDS = ("deployment", "party", "agreement", "domain", "device", "link", "flow", "delegation", "waiver")


def cached_lark(**options: bool) -> Lark:
    """An LALR parser of the language with these options, built once and kept in the cache
    directory (building it costs ~0.2 s, loading it ~10 ms: the difference a pre-commit hook feels)."""
    grammar = resources.files("amisec.compiler").joinpath("grammar.lark").read_text(encoding="utf-8")
    options = {"parser": "lalr", "maybe_placeholders": True, **options}
    return memo("grammar", [f"lark {lark.__version__}", repr(sorted(options.items())), grammar],
                lambda: Lark(grammar, **options), dump=lambda parser, fh: parser.save(fh), load=Lark.load)


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The parser the compiler uses."""
    # no propagate_positions: it costs 40% of parsing; statement spans come from kept tokens
    return cached_lark(propagate_positions=False)


def parse(text: str, file: str) -> Tree:
    """Parse source text; raise `InputError` with one positioned diagnostic on a syntax error.

    A text is parsed by `fast_parse`; one that does not parse there is parsed again by Lark's own
    loop, whose exception (with its parser state) is what the diagnostic is made from."""
    tables = fast_tables()
    tree = fast_parse(tables, text) if tables is not None else None
    if tree is not None:
        return tree
    try:
        return lark_parser().parse(text)
    except UnexpectedInput as err:
        raise InputError([_diagnose(err, text, file)], {file: text}) from None


# --- the fast loop ------------------------------------------------------------------------------
# Lark's LALR loop spends most of a parse in generic machinery: a generator per token, a line
# counter object, a deprecation check in every Token(), an attribute lookup chain per action, and
# rule objects hashed in Python. `fast_parse` runs the very same tables, per-state (contextual)
# lexers and tree callbacks from one flat loop, which halves the time of a large file. It does not
# describe errors: anything it cannot take goes to Lark's loop, so messages stay Lark's (a text
# with a syntax error is read twice up to the error). lark-cython 0.0.17 was measured too: a third
# faster than Lark's loop, slower than this one, and its tokens are not `str` and its parser state
# does not fit the error descriptions below. `_lalr.c` takes the same steps as `_run` in C, on the
# same tables and tokens, and does what the tree callbacks Lark composed for each rule do (`_plan`)
# without calling them, so the trees are the same.

_Lexer = tuple[Callable[..., Any], frozenset[str], frozenset[str], dict[str, Any], dict[str, dict[str, str]]]
# How the C loop makes a rule's tree without calling its Lark callback: the tree class's builder
# (`partial(Tree, rule)`), the children kept (index, whether inlined, Nones before it; None: all, as
# they are), Nones after them, whether one child stands for the tree (`?rule`), and for a
# repetition's step the children added to the tree so far (see `_grown`).
_Plan = tuple[Callable[[list[Any]], Any] | None, tuple[tuple[int, bool, int], ...] | None, int, bool, tuple[int, ...] | None]
_Reduction = tuple[int, Callable[[list[Any]], Any], str, _Plan | None]
_State = tuple[dict[str, int], dict[str, _Reduction], _Lexer | None]

_new_str = str.__new__


class _NotHere(Exception):
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
            raise _NotHere("not a contextual lexer")
        if any(isinstance(key, str) for key in lalr.callbacks):
            raise _NotHere("terminal callbacks in the parser")  # the loop shifts tokens as they are
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
                raise _NotHere("not one pattern per lexer")
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


@functools.lru_cache(maxsize=1)
def fast_tables() -> FastTables | None:
    """The fast loop's tables for the language's parser (None if this Lark does not fit it)."""
    try:
        return FastTables(lark_parser())
    except (_NotHere, AttributeError):
        return None


def fast_parse(tables: FastTables, text: str, in_c: bool = True) -> Tree | None:
    """The tree Lark's parser makes of `text`, or None where Lark's loop must take over (a syntax
    error, or something the tables do not cover). The loop runs in C where the optional extension
    `_lalr` was built (10k elements: 0.98 → 0.60 s), else in Python (`in_c=False`: always)."""
    try:
        if in_c and _lalr is not None:
            return _lalr.run(tables, tables.start, tables.end, text, Token, _new_str, _NotHere)
        return _run(tables, text)
    except (_NotHere, KeyError):  # KeyError: no action for this terminal in this state
        return None


def _run(tables: FastTables, text: str) -> Tree:
    """Lark's contextual lexer and LALR loop (`BasicLexer.next_token`, `ParserState.feed_token`)
    in one function; positions are counted as Lark's `LineCounter` counts them."""
    state_stack = [tables.start]
    value_stack: list[Any] = []
    push_state, push_value = state_stack.append, value_stack.append
    moves, reductions, lexer = tables[tables.start]
    pos, line, line_start, size_of_text = 0, 1, 0, len(text)
    while pos < size_of_text:
        if lexer is None:
            raise _NotHere("no lexer for this state")
        match, ignored, newlines, callbacks, keywords = lexer
        found = match(text, pos)
        if found is None:
            raise _NotHere("no terminal matches here")
        type_, value, end = found.lastgroup, found.group(), found.end()
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


def _terminal_words(names: set[str] | frozenset[str]) -> list[str]:
    parser = lark_parser()
    words = []
    for name in sorted(names):
        if name in _WORDS:
            said = _WORDS[name]
            words.extend((said,) if isinstance(said, str) else said)
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            words.append(name.lower())
            continue
        words.append(f"'{pattern.value}'" if pattern.type == "str" else name.lower())
    return sorted(set(words))


def _expected_phrase(names: set[str] | frozenset[str]) -> str:
    words = _terminal_words(names)
    if len(words) > 6:
        return "expected one of " + ", ".join(words)
    if len(words) == 1:
        return f"expected {words[0]}"
    return "expected " + ", ".join(words[:-1]) + f" or {words[-1]}"


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type in _SEPARATORS:
        return "';'" if token.startswith(";") else "end of line"
    if token.type in ("NAME", "NUMBER", "RULE_ID"):
        return f"'{token}'"
    if token.type == "STRING":
        return f"string {token}"
    return f"'{token}'"


def _diagnose(err: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(err, UnexpectedCharacters):
        return _bad_character(err, text, file)
    if isinstance(err, UnexpectedEOF):
        line, col = _end_position(text)
        return Diagnostic(Span(file, line, col, line, col + 1), f"unexpected end of file; {_expected_phrase(err.expected)}")
    assert isinstance(err, UnexpectedToken)
    return _bad_token(err, text, file)


def _acceptable(err: UnexpectedToken) -> set[str]:
    """The terminals the parser would really accept where it stopped.

    LALR merges states that share a core (the separators after a statement and after a
    property), so the raw expected set mixes both contexts; trying each candidate on a copy of the
    state keeps only the terminals that fit here."""
    state = err.state
    if state is None:
        return set(err.expected)
    conf = copy(state.parse_conf)
    conf.callbacks = {}
    table = conf.parse_table.states[state.position]
    ok: set[str] = set()
    for name in (n for n in table if n.isupper()):
        trial = state.copy(deepcopy_values=False)
        trial.parse_conf = conf
        try:
            trial.feed_token(Token(name, ""), is_end=name == "$END")
        except UnexpectedToken:
            continue
        ok.add(name)
    return ok or set(err.expected)


def _bad_token(err: UnexpectedToken, text: str, file: str) -> Diagnostic:
    token = err.token
    statement = _statement_in_block(err, text, file)
    if statement is not None:
        return statement
    acceptable = _acceptable(err)
    if token.type == "$END":
        line, col = _end_position(text)
        span = Span(file, line, col, line, col + 1)
    else:
        line = token.line or 1
        col = token.column or 1
        end_col = token.end_column if token.end_line == line and token.end_column else col + 1
        span = Span(file, line, col, line, max(end_col, col + 1))
    expected = acceptable - _SEPARATORS if token.type in _SEPARATORS else acceptable
    message = f"unexpected {_describe(token)}; {_expected_phrase(acceptable)}"
    return Diagnostic(span, message, _hint(err, expected))


_LINE_START = re.compile(r"[\t \f]*([a-z]+)\b")


def _statement_in_block(err: UnexpectedToken, text: str, file: str) -> Diagnostic | None:
    """A statement started inside a block whose `}` is missing. Inside a block a line starts with
    a property name, so `device b : meter` reads as a property `device` until the `:`; the
    mistake is the statement word, and that is what is named."""
    token = err.token
    if token.type == "$END" or not token.line or err.state is None:
        return None
    opened = [v for v in err.state.value_stack if isinstance(v, Token) and v.type == "LBRACE"]
    if not opened or not opened[-1].line or opened[-1].line >= token.line:
        return None  # not inside a block opened on an earlier line
    line_start = text.rfind("\n", 0, token.start_pos) + 1 if token.start_pos is not None else 0
    found = _LINE_START.match(text, line_start)
    if found is None or found.group(1) not in _STATEMENT_WORDS:
        return None
    word, col = found.group(1), found.start(1) - line_start + 1
    return Diagnostic(Span(file, token.line, col, token.line, col + len(word)),
                      f"unexpected '{word}'; {_expected_phrase({'RBRACE', 'NAME'})}",
                      f"the block above is not closed: add the missing '}}' before this '{word}' statement")


def _hint(err: UnexpectedToken, expected: set[str]) -> str | None:
    """What most likely went wrong, from the token found and what would have fitted."""
    token = err.token
    keywords = {w.upper() for w in _STATEMENT_WORDS}
    if token.type in keywords and "RBRACE" in expected:
        return f"the block above is not closed: add the missing '}}' before this '{token}' statement"
    if token.type == "NAME" and keywords & expected:
        close = suggest(str(token), _STATEMENT_WORDS)
        return f"did you mean '{close}'?" if close else "a statement starts with one of: " + ", ".join(_STATEMENT_WORDS)
    opens_late = token.type == "LBRACE" and bool(keywords & expected)
    if opens_late or (token.type in _SEPARATORS and expected == {"LBRACE"}):
        return "a block starts with '{' on the same line as its header"
    if token.type == "LBRACE" and "RBRACE" in expected:
        return "blocks do not nest: close this block with '}' before opening another"
    if _after_comma(err):
        return "a ',' is followed by the next item of the list; remove the trailing ','"
    if token.type == "$END" and "RBRACE" in expected:
        return "a block is not closed: add the missing '}'"
    if token.type in _SEPARATORS and not token.startswith(";") and expected == {"NAME"}:
        return "a list continues on the next line only after a trailing comma"
    return None


def _after_comma(err: UnexpectedToken) -> bool:
    """The parser stopped right after a list's ',' (possibly followed by a line break)."""
    values = [v for v in (err.state.value_stack if err.state else []) if not (isinstance(v, Token) and v.type in _SEPARATORS)]
    return bool(values) and isinstance(values[-1], Token) and values[-1].type == "COMMA"


def _bad_character(err: UnexpectedCharacters, text: str, file: str) -> Diagnostic:
    char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
    span = Span(file, err.line, err.column, err.line, err.column + 1)
    if char == '"':
        return Diagnostic(span, "unterminated string", 'a string starts and ends with " on the same line')
    shown = repr(char)[1:-1] if not char.isprintable() or char.isspace() else char
    hint = None
    if char.isalpha() and not char.isascii():
        hint = "names use ASCII letters, digits and _ only"
    elif char == "-":
        hint = "links are written a -> b or a <-> b; rule ids as AMI-OWN-001"
    return Diagnostic(span, f"unexpected character '{shown}'", hint or "see the language reference in the README")


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1
