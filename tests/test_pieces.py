"""A large file parsed in pieces on several processes compiles exactly as in one piece: the same
input document, the same problems in the same order, the same syntax error."""
from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from amisec.compiler import InputError, Source, compile_source, pieces
from amisec.compiler.builder import Builder
from amisec.compiler.parser import parse
from benchmarks.generate import generate

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")


@pytest.fixture(autouse=True)
def pieces_from_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pieces, "PIECES_FROM_LINES", 1)


def _source(text: str, file: str = "plan.ami") -> Source:
    return Source(file, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def _outcome(text: str, jobs: int) -> object:
    try:
        return compile_source(_source(text), jobs=jobs)
    except InputError as err:
        return [str(d) for d in err.diagnostics]


TEXTS = {path.stem: path.read_text(encoding="utf-8") for path in sorted((ROOT / "deployments").glob("*.ami"))}
TEXTS["generated"] = generate(600)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_pieces_compile_to_the_same_document(name: str) -> None:
    whole = _outcome(TEXTS[name], jobs=1)
    assert isinstance(whole, dict)
    for jobs in (2, 3, 4):
        assert _outcome(TEXTS[name], jobs) == whole


def test_a_piece_is_really_parsed_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    started = []
    real = pieces.Forked

    def counting(*args, **kwargs):
        started.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(pieces, "Forked", counting)
    _outcome(TEXTS["generated"], jobs=2)
    assert len(started) == 1 and started[0].startswith("parsing plan.ami")


def test_a_piece_parsed_elsewhere_comes_back_as_the_same_model() -> None:
    source = _source(TEXTS["generated"])
    whole, _ = pieces.build_model(source, 1)
    split, _ = pieces.build_model(source, 2)
    for collection in ("parties", "domains", "devices", "links", "flows", "delegations"):
        assert [_typed(e) for e in getattr(split, collection)] == [_typed(e) for e in getattr(whole, collection)]


def test_problems_in_several_pieces_come_in_file_order() -> None:
    text = TEXTS["generated"]
    lines = text.splitlines(keepends=True)
    for at in (len(lines) // 5, len(lines) // 2, len(lines) * 4 // 5):
        index = next(i for i in range(at, len(lines)) if "medium rf_mesh" in lines[i])
        lines[index] = lines[index].replace("medium rf_mesh", "medium carrier_pigeon")
    broken = "".join(lines)
    whole = _outcome(broken, jobs=1)
    assert isinstance(whole, list) and len(whole) == 3
    assert _outcome(broken, jobs=3) == whole


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_syntax_error_anywhere_reads_as_in_a_whole_file_parse(where: float) -> None:
    lines = TEXTS["generated"].splitlines(keepends=True)
    index = int(len(lines) * where)
    lines[index] = lines[index].rstrip("\n") + " }}\n"
    broken = "".join(lines)
    whole = _outcome(broken, jobs=1)
    assert isinstance(whole, list) and len(whole) == 1
    assert _outcome(broken, jobs=2) == whole == _outcome(broken, jobs=4)


def test_a_cut_inside_a_block_falls_back_to_one_piece() -> None:
    # `device ...` at the start of a line inside a block looks like a statement to the cutter
    body = "".join(f"  redundancy {i % 3}\n" for i in range(200))
    text = TEXTS["riverside"] + "device late : meter in field {\n" + body + "device x : meter in field\n  owner metro\n}\n"
    assert pieces.cut_points(text, 2)
    assert _outcome(text, jobs=2) == _outcome(text, jobs=1)


def test_cuts_fall_at_statement_starts_and_not_after_a_trailing_comma() -> None:
    text = 'party a "A" : utility\nagreement m : service_contract {\n  covers a,\nb\n}\nparty b "B" : utility\n'
    cuts = pieces.cut_points(text, 4)
    assert all(text[c - 1] == "\n" and text[c:].startswith(("party", "agreement")) for c in cuts)
    assert cuts == sorted(set(cuts))
    assert pieces.cut_points("", 4) == [] and pieces.cut_points("# only a comment\n", 2) == []


def test_the_piece_parsed_here_is_the_larger_one() -> None:
    # the forked pieces also pickle their statements back; the first piece, parsed in this
    # process, is longer by that much, the others alike
    text = "".join(f'party p{i} "P" : utility\n' for i in range(10_000))
    for count in (2, 3, 4):
        bounds = [0, *pieces.cut_points(text, count), len(text)]
        sizes = [b - a for a, b in zip(bounds, bounds[1:])]
        assert len(sizes) == count
        assert sizes[0] == pytest.approx(pieces._FIRST_PIECE_WEIGHT * sizes[1], rel=0.01)
        assert max(sizes[1:]) - min(sizes[1:]) <= 30


def _typed(value: object) -> object:
    """The value with the type of every tuple in it (named tuples equal plain ones)."""
    if isinstance(value, tuple):
        return (type(value).__name__, *map(_typed, value))
    return value


def _fields_of(model: object) -> tuple:
    """A model's fields, as they are."""
    return tuple(getattr(model, f.name) for f in dataclasses.fields(model))


def _one_tree(text: str) -> object:
    """What building the whole file's parse tree at once gives: the model, or the diagnostics."""
    try:
        builder = Builder("plan.ami", _source(text).sha256)
        model = builder.build(parse(text, "plan.ami"))
    except InputError as err:
        return [str(d) for d in err.diagnostics]
    return _typed(_fields_of(model)), [str(p) for p in builder.problems]


def _in_runs(text: str) -> object:
    try:
        model, problems = pieces.build_model(_source(text), 1)
    except InputError as err:
        return [str(d) for d in err.diagnostics]
    return _typed(_fields_of(model)), [str(p) for p in problems]


@pytest.mark.parametrize("run_chars", [1, 200, 5_000])
@pytest.mark.parametrize("name", ["riverside", "generated"])
def test_runs_of_statements_build_what_one_tree_builds(monkeypatch: pytest.MonkeyPatch, run_chars: int, name: str) -> None:
    monkeypatch.setattr(pieces, "RUN_CHARS", run_chars)
    assert _in_runs(TEXTS[name]) == _one_tree(TEXTS[name])


def test_every_statement_is_a_run_of_its_own_when_runs_are_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pieces, "RUN_CHARS", 1)
    parsed = []
    real = pieces.parse_part
    monkeypatch.setattr(pieces, "parse_part", lambda *args: parsed.append(args[1:3]) or real(*args))
    text = TEXTS["generated"]
    pieces.build_model(_source(text), 1)
    after_the_first = [m for m in pieces._STATEMENT_START.finditer(text) if m.start() > 0]
    assert len(parsed) == len(after_the_first) + 1
    assert [begin for begin, _ in parsed[1:]] == [stop for _, stop in parsed[:-1]]


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_syntax_error_in_a_later_run_reads_as_in_one_tree(monkeypatch: pytest.MonkeyPatch, where: float) -> None:
    monkeypatch.setattr(pieces, "RUN_CHARS", 500)
    lines = TEXTS["generated"].splitlines(keepends=True)
    index = int(len(lines) * where)
    lines[index] = lines[index].rstrip("\n") + " }}\n"
    broken = "".join(lines)
    whole = _one_tree(broken)
    assert isinstance(whole, list) and len(whole) == 1
    assert _in_runs(broken) == whole


def test_a_run_cut_inside_a_block_builds_what_one_tree_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pieces, "RUN_CHARS", 100)
    body = "".join(f"  redundancy {i % 3}\n" for i in range(50))
    text = TEXTS["riverside"] + "device late : meter in field {\n" + body + "device x : meter in field\n  owner metro\n}\n"
    assert _in_runs(text) == _one_tree(text)
