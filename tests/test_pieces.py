"""A large file parsed in pieces on several processes compiles exactly as in one piece: the same
input document, the same problems in the same order, the same syntax error."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from amisec.compiler import InputError, Source, compile_source, pieces
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

    def typed(value: object) -> object:
        """The value with the type of every tuple in it (named tuples equal plain ones)."""
        if isinstance(value, tuple):
            return (type(value).__name__, *map(typed, value))
        return value

    for collection in ("parties", "domains", "devices", "links", "flows", "delegations"):
        assert [typed(e) for e in getattr(split, collection)] == [typed(e) for e in getattr(whole, collection)]


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
