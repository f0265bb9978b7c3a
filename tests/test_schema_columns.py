"""Column-wise validation must give cerberus's verdict on every document, valid or not."""
from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
from cerberus import Validator

from amisec.compiler import compile_file
from amisec.compiler import schema_columns
from amisec.compiler.schema import SCHEMA, SchemaError, validate_input

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS = sorted((ROOT / "deployments").glob("*.ami"))
REPLACEMENTS: list[Any] = [None, True, False, 0, 1, -1, 1.0, 2.5, "", "x", "Bad Id", "meter", "1.0",
                           [], ["meter_reads"], ["nope"], [0], [-1], [True], {}, {"file": "f"}]


def _cerberus(doc: Any) -> bool:
    return Validator(SCHEMA, allow_unknown=False).validate(doc, normalize=False)


def _paths(value: Any, at: tuple = ()) -> list[tuple]:
    """Every place in a document where a value sits."""
    out = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            out += _paths(inner, at + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            out += _paths(inner, at + (index,))
    return out


def _mutated(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    path = rng.choice(_paths(doc)[1:])
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = rng.randrange(4)
    if action == 0 and isinstance(parent, dict):
        del parent[last]
    elif action == 1 and isinstance(parent, dict):
        parent["unexpected_field"] = parent[last]
    elif action == 2 and isinstance(parent, list):
        parent.append(copy.deepcopy(rng.choice(REPLACEMENTS)))
    else:
        parent[last] = copy.deepcopy(rng.choice(REPLACEMENTS))
    return doc


def test_the_schema_uses_only_rules_column_validation_handles() -> None:
    assert schema_columns.supported(SCHEMA)


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.stem)
def test_same_verdict_as_cerberus_on_valid_and_broken_documents(path: Path) -> None:
    doc = compile_file(str(path))
    assert schema_columns.valid(SCHEMA, doc) and _cerberus(doc)
    rng = random.Random(path.stem)
    verdicts = []
    for _ in range(60):
        broken = _mutated(doc, rng)
        verdict = _cerberus(broken)
        assert schema_columns.valid(SCHEMA, broken) == verdict, broken
        verdicts.append(verdict)
    assert not all(verdicts)


def test_changes_the_contract_allows_stay_valid() -> None:
    doc = compile_file(str(DEPLOYMENTS[0]))
    doc["devices"][0]["role"] = None
    doc["links"][0]["carries"] = []
    doc["flows"][0]["latency_s"] = 2.5
    assert schema_columns.valid(SCHEMA, doc) and _cerberus(doc)


@pytest.mark.parametrize("value, other", [(1, True), (0, False), (1, 1.0)])
def test_equal_values_of_different_types_are_each_checked(value: Any, other: Any) -> None:
    doc = compile_file(str(DEPLOYMENTS[0]))
    doc["devices"][0]["redundancy"] = value
    doc["devices"][1]["redundancy"] = other
    assert schema_columns.valid(SCHEMA, doc) == _cerberus(doc)
    doc["devices"][0]["logging"], doc["devices"][1]["logging"] = other, value
    assert schema_columns.valid(SCHEMA, doc) == _cerberus(doc) is False


def test_an_invalid_document_still_gets_cerberus_account_of_the_error() -> None:
    doc = compile_file(str(DEPLOYMENTS[0]))
    doc["links"][0]["encryption"] = "rot13"
    with pytest.raises(SchemaError, match="encryption"):
        validate_input(doc)


def test_optional_fields_may_be_missing() -> None:
    schema = {"a": {"type": "integer", "required": True}, "b": {"type": "string"}}
    for doc in ({"a": 1}, {"a": 1, "b": "x"}, {"b": "x"}, {"a": 1, "c": 2}):
        assert schema_columns.valid(schema, doc) == Validator(schema, allow_unknown=False).validate(doc)


def test_other_rules_are_left_to_cerberus() -> None:
    assert not schema_columns.supported({"a": {"type": "string", "maxlength": 3}})
    assert not schema_columns.supported({"a": {"type": "list", "schema": {"type": "dict", "schema": {
        "b": {"type": "integer", "dependencies": "c"}}}}})


@pytest.fixture(scope="module")
def generated() -> dict:
    from benchmarks.generate import generate

    from amisec.compiler import compile_text

    return compile_text(generate(1_000), "synthetic.ami")


@pytest.mark.parametrize("bad", [0, -3, 0.5, float("nan"), float("-inf"), True, "1", None])
def test_one_number_below_its_minimum_among_many_is_found(bad: Any, generated: dict) -> None:
    # positions and counts are checked by the smallest number of each type: the one bad value
    # sits among thousands of good ones, in the middle, and must still decide the verdict
    doc = copy.deepcopy(generated)
    devices = doc["devices"]
    devices[len(devices) // 2]["count"] = bad
    assert schema_columns.valid(SCHEMA, doc) == _cerberus(doc)
    assert schema_columns.valid(SCHEMA, doc) is (bad is True and _cerberus(doc))


@pytest.mark.parametrize("bad", ["Meter_7", "7meter", "meter-7", "", 7, None, ["meter_7"]])
def test_one_id_the_pattern_refuses_among_many_is_found(bad: Any, generated: dict) -> None:
    # ids are checked by one string the pattern matches standing for all: the one bad id sits
    # among thousands of good ones and must still decide the verdict, as cerberus decides it
    doc = copy.deepcopy(generated)
    links = doc["links"]
    links[len(links) // 2]["id"] = bad
    assert schema_columns.valid(SCHEMA, doc) is False
    assert _cerberus(doc) is False


def test_a_pattern_matches_as_cerberus_matches_it(generated: dict) -> None:
    # cerberus anchors the pattern with `$`, which also matches before a final newline
    doc = copy.deepcopy(generated)
    doc["links"][3]["id"] = "meter_7\n"
    assert schema_columns.valid(SCHEMA, doc) is _cerberus(doc) is True


def test_ids_the_pattern_accepts_all_stay_valid(generated: dict) -> None:
    doc = copy.deepcopy(generated)
    doc["devices"][0]["id"] = "a"
    doc["devices"][-1]["id"] = "z_9_long_name_0"
    assert schema_columns.valid(SCHEMA, doc) is True


@pytest.mark.parametrize("field, bad", [("encryption", "rot13"), ("encryption", None), ("latency_s", float("nan")),
                                        ("latency_s", -1.0), ("latency_s", "2s"), ("bidirectional", 1),
                                        ("carries", ["meter_reads", "nope"])])
def test_one_bad_value_among_many_alike_is_found(field: str, bad: Any, generated: dict) -> None:
    # a column of one type is checked by its distinct values: the one bad value among a thousand
    # good ones (every link with the same keys, the common case) must still decide the verdict
    doc = copy.deepcopy(generated)
    links = doc["links"]
    links[len(links) // 2][field] = bad
    assert schema_columns.valid(SCHEMA, doc) == _cerberus(doc)
    doc = copy.deepcopy(generated)
    assert schema_columns.valid(SCHEMA, doc) is _cerberus(doc) is True


@pytest.mark.parametrize("row", [0, 6, 7, -1])
@pytest.mark.parametrize("change", ["bad value", "missing key", "extra key", "bad nested"])
def test_rows_taken_a_few_at_a_time_give_the_same_verdict(monkeypatch: pytest.MonkeyPatch, generated: dict,
                                                          row: int, change: str) -> None:
    # a collection is taken apart into columns a few rows at a time: a bad row in the first, a
    # middle or the last of them decides the verdict as in one pass
    monkeypatch.setattr(schema_columns, "ROWS_AT_ONCE", 7)
    doc = copy.deepcopy(generated)
    assert schema_columns.valid(SCHEMA, doc) is True
    device = doc["devices"][row]
    if change == "bad value":
        device["count"] = -2
    elif change == "missing key":
        del device["kind"]
    elif change == "extra key":
        device["unexpected_field"] = 1
    else:
        device["span"]["line"] = "one"
    assert schema_columns.valid(SCHEMA, doc) is False
    assert _cerberus(doc) is False
