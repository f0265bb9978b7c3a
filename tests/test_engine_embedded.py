"""The embedded engine wrapper: results, positioned errors, strings regopy mangles, threads."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pytest

from amisec.engine import EngineError, engine_names, get_engine, regopy_native
from amisec.policies.catalog import builtin_files


@dataclass(frozen=True)
class Module:
    path: str
    source: str


LIB = builtin_files()[0][0]
RULE = Module("custom/fam.rego", """package amisec.rules.fam

import rego.v1

import data.amisec.lib

unsigned := {
	"subjects": [i | some i; input.devices[i]],
	"violations": [lib.violation("devices", i, sprintf("%s runs %s firmware", [d.id, d.firmware]), "signed", d.firmware) |
		some i
		d := input.devices[i]
		d.firmware != "signed"
	],
}

joined := {"subjects": [], "violations": [sprintf("(%s)", [concat(", ", [d.id | some d in input.devices])])]}
""")


def engine(*modules: Module):
    return get_engine("embedded", modules=[LIB, *modules])


def devices(*pairs: tuple[str, str]) -> dict:
    return {"devices": [{"id": i, "firmware": f} for i, f in pairs]}


def test_returns_every_rule_of_every_family_with_both_arrays() -> None:
    raw = engine(RULE).evaluate(devices(("a", "signed"), ("b", "unsigned")))
    assert raw["fam"]["unsigned"] == {
        "subjects": [0, 1],
        "violations": [{"collection": "devices", "index": 1, "message": "b runs unsigned firmware",
                        "expected": "signed", "actual": "unsigned"}],
    }


def test_evaluates_many_inputs_on_one_engine() -> None:
    e = engine(RULE)
    assert e.evaluate(devices(("a", "unsigned")))["fam"]["unsigned"]["violations"][0]["index"] == 0
    assert e.evaluate(devices(("a", "signed")))["fam"]["unsigned"]["violations"] == []


@pytest.mark.parametrize("text", ['Gas "G" & Water', "back\\slash", "two\nlines", "tab\there", "é ✓"])
def test_strings_with_characters_regopy_does_not_escape_survive(text: str) -> None:
    raw = engine(RULE).evaluate(devices((text, "unsigned")))
    assert raw["fam"]["unsigned"]["violations"][0]["message"] == f"{text} runs unsigned firmware"


def test_input_is_not_changed_by_protection() -> None:
    doc = devices(('a"b', "unsigned"))
    engine(RULE).evaluate(doc)
    assert doc["devices"][0]["id"] == 'a"b'


def test_output_with_unescaped_quotes_is_still_read() -> None:
    # rego-cpp keeps the JSON quotes of a builtin's string inside sprintf: the text is not JSON
    raw = engine(RULE).evaluate(devices(("a", "signed"), ("b", "signed")))
    assert raw["fam"]["joined"]["violations"] == ['("a, b")']


def test_syntax_error_is_reported_at_file_line_column() -> None:
    broken = Module("custom/broken.rego", "package amisec.rules.broken\n\nimport rego.v1\n\nx := {\n  y := \n}\n")
    with pytest.raises(EngineError) as err:
        engine(broken).evaluate({})
    assert err.value.message == "the policies do not compile"
    assert any(p.startswith("custom/broken.rego:6:3: ") for p in err.value.problems), err.value.problems


def test_runtime_error_is_an_engine_error() -> None:
    conflict = Module("custom/conflict.rego", "package amisec.rules.c\n\nimport rego.v1\n\nx := 1\n\nx := 2\n")
    with pytest.raises(EngineError, match="multiple outputs"):
        engine(conflict).evaluate({})


def test_unknown_function_is_an_engine_error() -> None:
    typo = Module("custom/typo.rego", "package amisec.rules.t\n\nimport rego.v1\n\nx := sprintff(\"%s\", [1])\n")
    with pytest.raises(EngineError, match="sprintff"):
        engine(typo).evaluate({})


def test_each_thread_gets_its_own_interpreter() -> None:
    e = engine(RULE)
    results: list[int] = []

    def work(n: int) -> None:
        doc = devices(*[(f"d{i}", "unsigned") for i in range(n)])
        results.append(len(e.evaluate(doc)["fam"]["unsigned"]["violations"]))

    threads = [threading.Thread(target=work, args=(n,)) for n in (3, 5, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [3, 5, 7]


def test_engine_registry() -> None:
    assert engine_names()[0] == "embedded"
    assert get_engine("embedded", modules=[LIB]).version.startswith("regopy ")
    with pytest.raises(ValueError, match="unknown engine 'nope'"):
        get_engine("nope", modules=[LIB])


def test_compiled_policies_are_cached_and_reused(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMISEC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("AMISEC_NO_CACHE", raising=False)
    doc = devices(("a", "unsigned"))
    first = engine(RULE).evaluate(doc)
    (cached,) = tmp_path.glob("*.rbb")
    assert engine(RULE).evaluate(doc) == first  # a new engine, loaded from the cache
    changed = Module(RULE.path, RULE.source.replace("runs", "has"))
    assert engine(changed).evaluate(doc)["fam"]["unsigned"]["violations"][0]["message"] == "a has unsigned firmware"
    assert len(list(tmp_path.glob("*.rbb"))) == 2 and cached.exists()


def test_a_damaged_cache_entry_is_ignored(tmp_path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("AMISEC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("AMISEC_NO_CACHE", raising=False)
    doc = devices(("a", "unsigned"))
    expected = engine(RULE).evaluate(doc)
    (cached,) = tmp_path.glob("*.rbb")
    for damage in (b"garbage", cached.read_bytes()[:-10]):
        cached.write_bytes(damage)
        assert engine(RULE).evaluate(doc) == expected
    assert capfd.readouterr().out == ""


SHAPES = Module("custom/shapes.rego", """package amisec.rules.shapes

import rego.v1

_ids := [d.id | some d in input.devices]

twice(x) := x * 2

default flagged := false

flagged if count(_ids) > twice(1)

names contains id if some id in _ids

missing := 1 if count(_ids) > 100
""")


def test_a_package_gives_its_rules_not_its_helpers_functions_or_undefined_rules() -> None:
    raw = engine(SHAPES).evaluate(devices(("a", "signed"), ("b", "signed"), ("c", "signed")))
    assert raw["shapes"] == {"flagged": True, "names": ["a", "b", "c"]}


def test_the_rules_are_the_whole_packages_without_their_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    from amisec.compiler import compile_file
    from amisec.engine import embedded
    from amisec.engine.rule_values import GeneratedModule
    from amisec.policies.catalog import load_catalog

    modules = load_catalog().files
    doc = compile_file("deployments/riverside.ami")
    named = get_engine("embedded", modules=modules).evaluate(doc)
    # rule heads that do not compile: the engine falls back to querying whole packages
    monkeypatch.setattr(embedded, "_kept_results_modules", lambda packages, *_: {
        p: GeneratedModule("<bad>", f"package {p}\n\n__results[\n") for p in packages})
    whole = get_engine("embedded", modules=modules).evaluate(doc)
    helpers = {(family, name) for family, rules in whole.items() for name in rules if name.startswith("_")}
    assert helpers  # the whole packages do carry helpers
    assert named == {family: {n: v for n, v in rules.items() if not n.startswith("_")} for family, rules in whole.items()}


def test_a_package_of_helpers_only_gives_no_rules_and_leaves_the_others_alone() -> None:
    helpers = Module("custom/helpers.rego", "package amisec.rules.helpers\n\nimport rego.v1\n\n_n := count(input.devices)\n")
    e = engine(RULE, helpers)
    raw = e.evaluate(devices(("a", "unsigned")))
    assert raw["helpers"] == {"_n": 1} and len(raw["fam"]["unsigned"]["violations"]) == 1
    assert e._session().entrypoints == {"amisec.rules.fam": "amisec/rules/fam/__results", "amisec.rules.helpers": "amisec/rules/helpers"}


def test_rules_are_found_however_indented_and_brackets_in_strings_and_comments_do_not_mislead() -> None:
    from amisec.engine.rule_values import public_rules

    source = ('package amisec.rules.x\n\nimport rego.v1\nimport data.amisec.lib\nimport data.other as o\n\n'
              '# a comment { that opens\n  indented := {"a": "}\\"{", "b": `raw }\n{`}\n_helper := [1]\n'
              'twice(x) := x * 2\ndefault flagged := false\nflagged if {\n\tinner := 1\n\tinner > 0\n}\n')
    assert public_rules(source) == ["indented", "flagged"]
    stray = Module("custom/stray.rego", "package amisec.rules.fam\n\nimport rego.v1\n\n    stray := {\"a\": 1}\n")
    assert engine(RULE, stray).evaluate(devices(("a", "signed")))["fam"]["stray"] == {"a": 1}


def test_the_statement_limit_grows_with_the_input() -> None:
    from amisec.engine.embedded import STATEMENTS_AT_LEAST, STATEMENTS_PER_ELEMENT, statement_limit

    assert statement_limit(0) == statement_limit(1_000) == STATEMENTS_AT_LEAST == 10_000_000
    assert statement_limit(900_000) == 900_000 * STATEMENTS_PER_ELEMENT > STATEMENTS_AT_LEAST


needs_limit = pytest.mark.skipif(not regopy_native.can_limit_statements(),
                                 reason="rego-cpp's statement limit cannot be set with this regopy")


@needs_limit
def test_the_statement_limit_of_an_interpreter_is_read_and_set() -> None:
    from regopy import Interpreter

    interpreter = Interpreter()
    assert regopy_native.statement_limit(interpreter._impl) == 10_000_000  # rego-cpp's own
    assert regopy_native.set_statement_limit(interpreter._impl, 123_456_789)
    assert regopy_native.statement_limit(interpreter._impl) == 123_456_789


@needs_limit
def test_a_query_runs_under_the_limit_its_input_size_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    # A limit far under what the policies need stops the run and names the rule; the same small
    # floor with room per element evaluates, with the results of rego-cpp's own limit.
    from amisec.compiler import compile_file
    from amisec.engine import embedded
    from amisec.policies.catalog import load_catalog

    doc = compile_file("deployments/riverside.ami")
    catalog = load_catalog()
    expected = get_engine("embedded", modules=catalog.files).evaluate(doc)
    monkeypatch.setattr(embedded, "STATEMENTS_AT_LEAST", 50)
    monkeypatch.setattr(embedded, "STATEMENTS_PER_ELEMENT", 0)
    with pytest.raises(EngineError) as err:
        get_engine("embedded", modules=catalog.files).evaluate(doc)
    assert re.fullmatch(r"rule AMI-[A-Z]+-\d{3} \(amisec\.rules\.\w+\.\w+, policies/rules/\w+\.rego:\d+\) "
                        r"reached the embedded engine's limit of statements per query", err.value.message)
    assert err.value.problems == ("the deployment is too large for the embedded engine: evaluate it with --engine opa",)
    monkeypatch.setattr(embedded, "STATEMENTS_PER_ELEMENT", 100_000)
    assert get_engine("embedded", modules=catalog.files).evaluate(doc) == expected
