"""Source text → parse tree. The Lark parser is built once; its errors become positioned diagnostics
that say in words what was expected."""
from __future__ import annotations

import functools
import re
from copy import copy
from importlib import resources

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..cache import memo
from .diagnostics import Diagnostic, InputError, Span, suggest
from .lalr_loop import FastTables, fast_parse, tables_for

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


def parse_part(text: str, begin: int, stop: int, line: int) -> Tree | None:
    """The tree of `text[begin:stop]`, whole statements from the start of line `line`, its tokens'
    positions those in `text`; None where the fast loop cannot take it (`parse` says why)."""
    tables = fast_tables()
    return fast_parse(tables, text, begin=begin, stop=stop, line=line) if tables is not None else None


@functools.lru_cache(maxsize=1)
def fast_tables() -> FastTables | None:
    """The fast loop's tables for the language's parser (None if this Lark does not fit it)."""
    return tables_for(lark_parser())


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
