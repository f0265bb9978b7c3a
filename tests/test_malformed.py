"""The malformed corpus (tests/data/malformed/*.ami): every file fails `amisec compile` with exit
code 2 and its exact first message at its exact position; the table below is the expectation of
every file in the folder. The corpus also seeds the fuzzer (tools/fuzz.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main

CORPUS = Path(__file__).resolve().parent / "data" / "malformed"
STATEMENTS = "'agreement', 'delegation', 'deployment', 'device', 'domain', 'flow', 'link', 'party', 'waiver', " \
             "the end of the file"
VALUES = "'*', ',', ';', '}', a name, a number, a quoted string, the end of the line"
IN_BLOCK = "expected '}' or a name"

# file: (line, column, message[, extra command-line flags])
EXPECTED: dict[str, tuple] = {
    # layout: unclosed, nested and stray braces, missing words, truncation
    "unclosed_block.ami": (9, 1, f"unexpected end of file; {IN_BLOCK}"),
    "nested_block.ami": (7, 14, f"unexpected '{{'; expected one of {VALUES}"),
    "deep_nesting.ami": (6, 33, "unexpected '{'; expected ';', '}', a name or the end of the line"),
    "stray_brace.ami": (7, 1, f"unexpected '}}'; expected one of {STATEMENTS}"),
    "keyword_in_block.ami": (8, 1, f"unexpected 'device'; {IN_BLOCK}"),
    "missing_colon.ami": (6, 15, "unexpected 'meter'; expected ':'"),
    "missing_arrow_end.ami": (8, 12, "unexpected character '-'"),
    "truncated_header.ami": (6, 5, "unexpected end of file; expected a name"),
    "unterminated_string.ami": (6, 13, "unterminated string"),
    "bom_only.ami": (1, 1, "no deployment block"),
    # meaning
    "property_typo.ami": (6, 29, "unknown property 'firmwre' for a device"),
    "duplicate_id.ami": (6, 1, "duplicate id 'field': already used by the domain on line 5"),
    # unicode confusables, invisible and control characters
    "cyrillic_e.ami": (6, 1, f"unexpected 'd'; expected one of {STATEMENTS}"),
    "fullwidth_colon.ami": (6, 15, "unexpected character '：'"),
    "zero_width_space.ami": (6, 10, "unexpected character '\\u200b'"),
    "rtl_override.ami": (6, 40, "unexpected character '\\u202e'"),
    "line_separator.ami": (6, 31, "unexpected character '\\u2028'"),
    "escape_char.ami": (6, 31, "unexpected character '\\x1b'"),
    # encodings and line ends
    "nul_byte.ami": (6, 22, "this is a binary file, not a deployment description"),
    "latin1.ami": (6, 17, "the file is not valid UTF-8 (byte 0xe9)"),
    "overlong_utf8.ami": (6, 3, "the file is not valid UTF-8 (byte 0xc0)"),
    "surrogate_utf8.ami": (6, 10, "the file is not valid UTF-8 (byte 0xed)"),
    "crlf_error.ami": (6, 17, "unknown device kind 'metre'"),
    "bom_error.ami": (6, 17, "unknown domain kind 'utility_egde'"),
    "tabs_error.ami": (6, 26, "unknown domain 'feld' (the domain of device meters)"),
    # huge numbers, long lines, strings and identifiers, too many elements
    "huge_number.ami": (6, 45, "9999999999999999…9999999999999999 (5,000 characters) is too large"),
    "huge_duration.ami": (8, 27, "1111111111111111…11111111111111ms (4,402 characters) is too long"),
    "huge_fleet.ami": (6, 25, "99_999_999_999_999_999 is too large"),
    "long_line.ami": (6, 10_001, "line 6 is 10,002 characters long; the limit is 10,000"),
    "long_string.ami": (6, 13, "this string is 4,097 characters long; the limit is 4,096"),
    "long_identifier.ami": (6, 9_020, f"unknown domain 'fieldd' (the domain of device {'m' * 9_000})"),
    "many_elements.ami": (6, 28, "the file has more than 4 elements (statements); this is number 5", "--max-elements", "4"),
}


def test_every_file_of_the_corpus_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.ami")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_exits_2_at_its_position(name: str) -> None:
    line, column, message, *flags = EXPECTED[name]
    path = CORPUS / name
    result = CliRunner().invoke(main, ["compile", str(path), *flags])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.stdout) == (2, "")
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == f"{path}:{line}:{column}: error: {message}"
