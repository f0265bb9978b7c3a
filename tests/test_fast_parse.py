"""The parser's fast loop makes exactly the tree Lark's own loop makes (every token's type, text and
position), and hands every text it cannot parse to Lark's loop, whose errors are the ones reported."""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from amisec.compiler import InputError, lalr_loop, parser
from benchmarks.generate import generate

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "deployments").glob("*.ami")) + sorted((ROOT / "tests" / "data").rglob("*.ami"))

EDGE_TEXTS = {
    "empty": "",
    "blank lines": "\n\n  \n",
    "comments only": "# a\n  # b",
    "no final newline": 'deployment "D" { utility u }\nparty u "U" : utility',
    "trailing blanks": 'deployment "D" { utility u }   \t ',
    "semicolons": 'deployment "D" { utility u };;party u "U" : utility;',
    "crlf and tabs": 'deployment "D" {\r\n\tutility u\r\n}\r\nparty u "U" : utility\r\n',
    "keywords as values": 'deployment "D" { utility u }\ndevice d : meter in x { role in; owner party; control to }\n',
    "list over lines": 'deployment "D" {\n  utility u\n  standards a,\n    # why\n    b\n}\n',
    "fleet and arrows": "device m : meter x 5 in f\nlink l : m <-> h { carries *; latency 2s }\n",
    "waiver": 'waiver AMI-OWN-001 on m { reason "r \\" q"; approved_by "b"; expires 2027-01-01 }\n',
}


def _flat(node: Any) -> Iterator[tuple]:
    """Every node and token of a tree, tokens with every position Lark gives them."""
    if isinstance(node, Token):
        yield (node.type, str(node), node.value, node.start_pos, node.end_pos, node.line, node.column,
               node.end_line, node.end_column)
    elif isinstance(node, Tree):
        yield ("tree", node.data, len(node.children))
        for child in node.children:
            yield from _flat(child)
    else:
        yield (node,)


def _lark_tree(text: str) -> Tree | None:
    try:
        return parser.lark_parser().parse(text)
    except UnexpectedInput:
        return None


def _mutations(text: str, count: int, seed: int) -> Iterator[str]:
    """Texts a character or a line away from `text`: most do not parse, some parse differently."""
    rng = random.Random(seed)
    pieces = ["", " ", "\n", "\r\n", ";", ",", "{", "}", ":", "->", '"', "#", "x", "in", "device", "9", "é", "\t"]
    for _ in range(count):
        at = rng.randrange(len(text) + 1)
        yield text[:at] + rng.choice(pieces) + text[at + rng.randint(0, 3):]


@pytest.fixture(params=[
    pytest.param(True, id="loop in C", marks=pytest.mark.skipif(lalr_loop._lalr is None, reason="the C extension _lalr was not built")),
    pytest.param(False, id="loop in Python"),
])
def in_c(request: pytest.FixtureRequest) -> bool:
    """Each test once with the loop in C and once in Python: both make Lark's trees."""
    return request.param


def _same_as_lark(text: str, in_c: bool) -> None:
    tables = parser.fast_tables()
    assert tables is not None
    expected = _lark_tree(text)
    got = lalr_loop.fast_parse(tables, text, in_c)
    if expected is None:
        assert got is None
    else:
        assert got is not None and list(_flat(got)) == list(_flat(expected))


def test_the_pinned_lark_fits_the_fast_loop() -> None:
    assert parser.fast_tables() is not None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_files_parse_to_lark_trees(path: Path, in_c: bool) -> None:
    _same_as_lark(path.read_bytes().decode("utf-8-sig", "replace"), in_c)


@pytest.mark.parametrize("name", sorted(EDGE_TEXTS))
def test_edge_texts_parse_to_lark_trees(name: str, in_c: bool) -> None:
    _same_as_lark(EDGE_TEXTS[name], in_c)


def test_generated_deployment_parses_to_the_lark_tree(in_c: bool) -> None:
    _same_as_lark(generate(300), in_c)


@pytest.mark.parametrize("path", FILES[:4], ids=lambda p: p.name)
def test_mutated_texts_parse_or_fail_as_in_lark(path: Path, in_c: bool) -> None:
    for text in _mutations(path.read_text(encoding="utf-8"), 150, seed=len(path.name)):
        _same_as_lark(text, in_c)


def test_a_syntax_error_is_described_by_lark() -> None:
    text = 'deployment "D" {\n  utility u,\n}\n'
    with pytest.raises(InputError) as err:
        parser.parse(text, "d.ami")
    [diagnostic] = err.value.diagnostics
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 1)
    assert diagnostic.message == "unexpected '}'; expected '*', a name, a number or a quoted string"
    assert diagnostic.hint == "a ',' is followed by the next item of the list; remove the trailing ','"


def _statement_starts(text: str) -> list[int]:
    return [0] + [m.start() for m in re.finditer(r"^(?=device |link |party )", text, re.M) if m.start()]


def test_a_part_of_a_text_parses_with_its_positions_in_the_text(in_c: bool) -> None:
    """`begin`/`stop`/`line` parse a run of statements as if the text before it were there: every
    token's offset, line and column are those of the whole text."""
    tables = parser.fast_tables()
    text = generate(60)
    starts = _statement_starts(text)
    begin, stop = starts[len(starts) // 3], starts[2 * len(starts) // 3]
    line = text.count("\n", 0, begin) + 1
    got = lalr_loop.fast_parse(tables, text, in_c, begin=begin, stop=stop, line=line)
    padded = "\n" * (line - 1) + text[begin:stop]
    expected = _lark_tree(padded)
    assert got is not None and expected is not None
    shift = begin - (line - 1)  # the padded text's offsets sit this far before the whole text's

    def moved(node: tuple) -> tuple:
        return node[:3] + (node[3] + shift, node[4] + shift) + node[5:] if len(node) == 9 else node

    assert list(_flat(got)) == [moved(node) for node in _flat(expected)]


def test_a_token_running_past_the_stop_hands_the_part_to_lark(in_c: bool) -> None:
    tables = parser.fast_tables()
    text = 'deployment "D" { utility u }\nparty u "U" : utility\n'
    inside_the_string = text.index('"U"') + 2
    assert lalr_loop.fast_parse(tables, text, in_c, stop=inside_the_string) is None
    assert lalr_loop.fast_parse(tables, text, in_c, stop=text.index("party")) is not None
