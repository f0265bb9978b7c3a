"""Input limits: file size, element count, line length and string length. Each has a documented
default, fails with a positioned message and exit code 2, and is raised by its flag on every
command that reads plans. A 50 MB single-line file fails fast, before the parser sees it."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from amisec import limits
from amisec.cli import main
from amisec.compiler import InputError, compile_text

ROOT = Path(__file__).resolve().parent.parent
PLAN = 'deployment "Limits" { utility city }\nparty city "City Power" : utility\ndomain field : utility_edge\n'


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "plan.ami") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def first_error(tmp_path: Path, text: str, *flags: str) -> str:
    """The first line of `amisec compile`'s message (which must exit 2), the path made relative."""
    path = write(tmp_path, text)
    code, out, err = run("compile", path, *flags)
    assert (code, out) == (2, ""), err
    return err.splitlines()[0].replace(path, "plan.ami")


def test_documented_defaults() -> None:
    assert limits.DEFAULT == limits.Limits(max_bytes=64 * 1024 * 1024, max_elements=1_000_000,
                                           max_line_length=10_000, max_string_length=4_096)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for flag, default in (("--max-bytes", "67,108,864"), ("--max-elements", "1,000,000"),
                          ("--max-line-length", "10,000"), ("--max-string-length", "4,096")):
        assert re.search(rf"`{flag} N`.*{default}", readme), f"README does not document {flag} (default {default})"


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10"])
def test_a_limit_is_a_positive_whole_number(value: object) -> None:
    with pytest.raises(ValueError, match="max_line_length must be a positive whole number"):
        limits.Limits(max_line_length=value)  # type: ignore[arg-type]


def test_file_size(tmp_path: Path) -> None:
    size = len(PLAN.encode())
    assert first_error(tmp_path, PLAN, "--max-bytes", str(size - 1)) == (
        f"plan.ami:1:1: error: the file is {size} bytes; the limit is {size - 1} bytes")
    assert run("compile", write(tmp_path, PLAN), "--max-bytes", str(size))[0] == 0


def test_file_size_counts_bytes_not_characters(tmp_path: Path) -> None:
    text = PLAN + 'party other "Énergie Électrique" : peer_utility\n'
    size = len(text.encode())
    assert size > len(text)
    assert first_error(tmp_path, text, "--max-bytes", str(len(text))) == (
        f"plan.ami:1:1: error: the file is {size} bytes; the limit is {len(text)} bytes")


def test_line_length_default_and_flag(tmp_path: Path) -> None:
    text = PLAN + "# " + "x" * 9_999 + "\n"  # line 4: 10,001 characters
    message = first_error(tmp_path, text)
    assert message == "plan.ami:4:10001: error: line 4 is 10,001 characters long; the limit is 10,000"
    _, _, err = run("compile", write(tmp_path, text))
    assert "hint: raise the limit with --max-line-length N if this is intended" in err
    assert len(err) < 400  # the megabyte line is never echoed
    assert run("compile", write(tmp_path, text), "--max-line-length", "10001")[0] == 0


@given(st.lists(st.integers(0, 12), max_size=30), st.booleans(), st.integers(0, 14))
def test_a_line_over_the_limit_is_found_wherever_it_is(lengths: list[int], trailing: bool, limit: int) -> None:
    from amisec.compiler.source import _has_line_over

    text = "\n".join("x" * n for n in lengths) + ("\n" if trailing else "")
    assert _has_line_over(text, limit) == (max(map(len, text.split("\n"))) > limit)


def test_string_length_default_and_flag(tmp_path: Path) -> None:
    text = PLAN + 'party other "' + "O" * 4_097 + '" : peer_utility\n'
    assert first_error(tmp_path, text, "--max-line-length", "9000") == (
        "plan.ami:4:13: error: this string is 4,097 characters long; the limit is 4,096")
    assert run("compile", write(tmp_path, text), "--max-string-length", "4097")[0] == 0


def test_string_length_ignores_quotes_in_comments(tmp_path: Path) -> None:
    text = PLAN + '# "' + "O" * 100 + '"\nparty other "' + "O" * 50 + '" : peer_utility # "' + "O" * 100 + '"\n'
    assert run("compile", write(tmp_path, text), "--max-string-length", "50")[0] == 0
    assert first_error(tmp_path, text, "--max-string-length", "49") == (
        "plan.ami:5:13: error: this string is 50 characters long; the limit is 49")


def test_element_count_default_flag_and_position(tmp_path: Path) -> None:
    text = PLAN + "device a : meter in field; device b : meter in field\n"  # 5 statements
    assert first_error(tmp_path, text, "--max-elements", "4") == (
        "plan.ami:4:28: error: the file has more than 4 elements (statements); this is number 5")
    assert run("compile", write(tmp_path, text), "--max-elements", "5")[0] == 0


def test_element_count_ignores_keywords_in_strings_and_comments(tmp_path: Path) -> None:
    text = PLAN + 'party other "x; device y" : peer_utility # ; link z\n# device c : meter in field\n'
    assert run("compile", write(tmp_path, text), "--max-elements", "4")[0] == 0


def test_a_50_megabyte_single_line_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "huge.ami"
    path.write_bytes(b"a" * 50_000_000)
    start = time.perf_counter()
    code, out, err = run("check", str(path))
    elapsed = time.perf_counter() - start
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == f"{path}:1:10001: error: line 1 is 50,000,000 characters long; the limit is 10,000"
    assert elapsed < 5, f"took {elapsed:.1f} s"


def test_file_over_the_size_limit_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, PLAN * 10)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr("builtins.open", no_open)
    with limits.applied(limits.Limits(max_bytes=100)), pytest.raises(InputError, match="the limit is 100 bytes"):
        from amisec.compiler import compile_file

        compile_file(path)


@pytest.mark.parametrize("command", ["compile", "check", "fmt", "trace", "diff"])
def test_every_command_that_reads_plans_takes_the_flags(tmp_path: Path, command: str) -> None:
    path = write(tmp_path, PLAN)
    files = [path, path] if command == "diff" else [path]
    code, out, err = run(command, *files, "--max-line-length", "30")
    assert (code, out) == (2, ""), err
    assert err.splitlines()[0] == f"{path}:1:31: error: line 1 is 36 characters long; the limit is 30"
    code, _, err = run(command, *files, "--max-bytes", "0")
    assert code == 2 and "Invalid value for '--max-bytes': 0 is not in the range x>=1" in err


def test_git_revision_text_is_held_to_the_limits(tmp_path: Path) -> None:
    """Texts that never touch the disk (a git revision, a test case) pass through the same checks."""
    with limits.applied(limits.Limits(max_elements=2)), pytest.raises(InputError) as info:
        compile_text(PLAN, "HEAD:plan.ami")
    assert str(info.value).splitlines()[0] == (
        "HEAD:plan.ami:3:1: error: the file has more than 2 elements (statements); this is number 3")


def test_limits_apply_only_inside_the_block() -> None:
    text = PLAN + "# " + "x" * 200 + "\n"
    with limits.applied(limits.Limits(max_line_length=100)):
        assert limits.current().max_line_length == 100
        with pytest.raises(InputError):
            compile_text(text)
    assert limits.current() == limits.DEFAULT
    compile_text(text)


def test_deep_nesting_is_a_syntax_error_at_the_first_inner_brace(tmp_path: Path) -> None:
    """The language has one level of blocks; no input drives the parser into recursion."""
    text = PLAN + "device m : meter in field {\n" + "{\n" * 100_000
    start = time.perf_counter()
    message = first_error(tmp_path, text)
    assert message == "plan.ami:5:1: error: unexpected '{'; expected '}' or a name"
    assert time.perf_counter() - start < 10


def test_scanning_for_long_strings_is_linear(tmp_path: Path) -> None:
    """Lines of escaped quotes in unterminated strings (each once cost O(n²) to scan) fail fast."""
    text = PLAN + ('party p "' + '\\"' * 4_990 + "\n") * 300
    start = time.perf_counter()
    message = first_error(tmp_path, text, "--max-string-length", "20000")
    assert message == "plan.ami:4:9: error: unterminated string"
    assert time.perf_counter() - start < 5
