"""`amisec fmt`: the canonical layout of deployment text.

Canonical means single spaces, two-space indents, one property per line in a block that spans
lines, a one-line block kept on one line, list line breaks kept after their commas, comments kept
where they were, at most one blank line in a row, one final newline. Formatting is idempotent and
never changes what the text compiles to (tests/test_roundtrip.py checks that on random input).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.compiler import InputError, compile_text

fmt = pytest.importorskip("amisec.compiler.fmt", reason="amisec.compiler.fmt is not there yet")

ROOT = Path(__file__).resolve().parent.parent
HEADER = 'deployment "T" { utility u }\nparty u : utility\n'


def canonical(text: str) -> str:
    out = fmt.format_text(text, "t.ami")
    assert fmt.format_text(out, "t.ami") == out, "not idempotent"
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            'deployment   "T"{utility u}\nparty  u   "U"  :   utility\n',
            'deployment "T" { utility u }\nparty u "U" : utility\n',
            id="spaces",
        ),
        pytest.param(
            HEADER + "domain a : utility_edge; domain b : communication\n",
            HEADER + "domain a : utility_edge\ndomain b : communication\n",
            id="top-level-semicolons",
        ),
        pytest.param(
            HEADER + "domain a : premise_edge {customer u;}\n",
            HEADER + "domain a : premise_edge { customer u }\n",
            id="one-line-block",
        ),
        pytest.param(
            HEADER + "domain a : utility_edge {   }\ndomain b : communication {}\n",
            HEADER + "domain a : utility_edge { }\ndomain b : communication { }\n",
            id="empty-blocks",
        ),
        pytest.param(
            HEADER + "domain f : utility_edge\ndevice m : meter in f {\n    owner u; control u\n\tfirmware signed\n}\n",
            HEADER + "domain f : utility_edge\ndevice m : meter in f {\n  owner u\n  control u\n  firmware signed\n}\n",
            id="one-property-per-line",
        ),
        pytest.param(
            HEADER + "domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m { carries meter_reads,\n   usage_data; latency 5s }\n",
            HEADER + "domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m {\n  carries meter_reads,\n          usage_data\n  latency 5s\n}\n",
            id="list-broken-after-comma",
        ),
        pytest.param(
            'deployment "T" {\n  utility u\n  use_cases billing.remote_read, billing.remote_disconnect,\n  system.recovery\n}\nparty u : utility\n',
            'deployment "T" {\n  utility u\n  use_cases billing.remote_read, billing.remote_disconnect,\n            system.recovery\n}\nparty u : utility\n',
            id="continuation-aligned",
        ),
        pytest.param(
            "# head\n\n\n\n" + HEADER + "\n\n\n# lone\n\n\ndomain f : utility_edge\n\n\n",
            "# head\n\n" + HEADER + "\n# lone\n\ndomain f : utility_edge\n",
            id="blank-lines",
        ),
        pytest.param(
            HEADER + "domain f : premise_edge {   # opens\n  # inside\n  customer u    # trailing\n\n  # last\n}   # closes\n",
            HEADER + "domain f : premise_edge {  # opens\n  # inside\n  customer u  # trailing\n\n  # last\n}  # closes\n",
            id="comments-in-blocks",
        ),
        pytest.param(
            HEADER + "domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m {\n  carries meter_reads,  # first\n  # between items\n     usage_data\n}\n",
            HEADER + "domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m {\n  carries meter_reads,  # first\n          # between items\n          usage_data\n}\n",
            id="comment-inside-a-list",
        ),
        pytest.param(
            'deployment "a \\"quoted\\" # not a comment" { utility u }\nparty u "back\\\\slash" : utility\n',
            'deployment "a \\"quoted\\" # not a comment" { utility u }\nparty u "back\\\\slash" : utility\n',
            id="strings-untouched",
        ),
        pytest.param(
            'deployment "T" { utility u }\r\nparty u : utility  # crlf\r\n\r\ndomain f : utility_edge',
            'deployment "T" { utility u }\nparty u : utility  # crlf\n\ndomain f : utility_edge\n',
            id="crlf-and-no-final-newline",
        ),
        pytest.param(
            'deployment "form\x0cfeed\u2028sep" { utility u }  # one\nparty u : utility  # two\n# three\n',
            'deployment "form\x0cfeed\u2028sep" { utility u }  # one\nparty u : utility  # two\n# three\n',
            id="line-separators-inside-strings",
        ),
        pytest.param("", "", id="empty"),
        pytest.param("# only a comment\n\n", "# only a comment\n", id="only-a-comment"),
    ],
)
def test_canonical_layout(text: str, expected: str) -> None:
    assert canonical(text) == expected


def test_formatting_keeps_the_compiled_input() -> None:
    text = HEADER + "domain f : utility_edge\ndevice m : meter x 1_000 in f {owner u;control u proxy_for u}\nlink l : m <-> m { carries *; latency 500ms; bandwidth 9600bps }\n"
    before, after = compile_text(text, "t.ami"), compile_text(canonical(text), "t.ami")
    for collection in ("parties", "domains", "devices", "links"):
        strip = [{k: v for k, v in e.items() if k != "span"} for e in before[collection]]
        assert strip == [{k: v for k, v in e.items() if k != "span"} for e in after[collection]]


@pytest.mark.parametrize("path", sorted((ROOT / "deployments").glob("*.ami")), ids=lambda p: p.stem)
def test_example_deployments_format_idempotently_and_keep_their_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    out = canonical(text)
    comments = [line[line.index("#"):].rstrip() for line in text.split("\n") if "#" in line and '"' not in line]
    for comment in comments:
        assert comment in out


def test_syntax_errors_are_reported_with_their_position() -> None:
    with pytest.raises(InputError) as info:
        fmt.format_text(HEADER + "domain f utility_edge\n", "t.ami")
    (d,) = info.value.diagnostics
    assert (d.span.line, d.span.column, d.message) == (3, 10, "unexpected 'utility_edge'; expected ':'")


# --- the command -------------------------------------------------------------------------------
def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_cli_prints_checks_and_writes(tmp_path: Path) -> None:
    messy = write(tmp_path, "messy.ami", "deployment  \"T\" {utility u}\nparty u : utility\n")
    tidy = write(tmp_path, "tidy.ami", 'deployment "T" { utility u }\nparty u : utility\n')
    runner = CliRunner()

    printed = runner.invoke(main, ["fmt", str(messy)])
    assert (printed.exit_code, printed.stdout) == (0, 'deployment "T" { utility u }\nparty u : utility\n')

    checked = runner.invoke(main, ["fmt", "--check", str(messy), str(tidy)])
    assert checked.exit_code == 1
    assert checked.stdout == ""
    assert str(messy) in checked.stderr and str(tidy) not in checked.stderr

    assert runner.invoke(main, ["fmt", "--check", str(tidy)]).exit_code == 0

    written = runner.invoke(main, ["fmt", "-w", str(messy)])
    assert written.exit_code == 0
    assert messy.read_text(encoding="utf-8") == tidy.read_text(encoding="utf-8")
    assert runner.invoke(main, ["fmt", "--check", str(messy)]).exit_code == 0


def test_cli_diff(tmp_path: Path) -> None:
    messy = write(tmp_path, "d.ami", "deployment \"T\" {utility u}\nparty u : utility\n")
    result = CliRunner().invoke(main, ["fmt", "--diff", str(messy)])
    assert result.exit_code == 0
    assert '-deployment "T" {utility u}\n+deployment "T" { utility u }\n' in result.stdout
    assert messy.read_text(encoding="utf-8") == "deployment \"T\" {utility u}\nparty u : utility\n"


def test_cli_syntax_error_exits_2_and_leaves_the_file(tmp_path: Path) -> None:
    text = HEADER + "domain f utility_edge\n"
    bad = write(tmp_path, "bad.ami", text)
    result = CliRunner().invoke(main, ["fmt", "-w", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:3:10: error: unexpected 'utility_edge'")
    assert "Traceback" not in result.stderr
    assert bad.read_text(encoding="utf-8") == text
