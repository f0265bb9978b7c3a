"""Hostile and broken input, as property tests (bounded: a few hundred cases each, well under a
minute in all). `python -m tools.fuzz --cases 100000` runs the same invariants at scale.

Invariants: any bytes either compile or raise `InputError`, whose rendering works too; a text that
compiles formats to a text that compiles and formats to itself; the command line answers with
exit code 0, 1 or 2 and a positioned message, never a traceback.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amisec.cli import main
from amisec.compiler import InputError, compile_source, from_bytes
from amisec.compiler.fmt import format_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(ROOT.glob("deployments/*.ami"))]
SEEDS += [p.read_text(encoding="utf-8", errors="replace") for p in sorted(ROOT.glob("tests/data/malformed/*.ami"))
          if p.stat().st_size < 20_000]
ODD = ["\u0430", "\u200b", "\u202e", "\ufeff", "\u00a0", "\u2028", "\uff1a", "\x00", "\x1b", "\x0b", "\x0c", "\r",
       "\t", "\r\n", "{", "}", '"', "\\", "#", ";", ",", "->", "é", "😀"]
TOKEN = re.compile(r'\s+|"[^"\n]*"|[A-Za-z0-9_.\-]+|.', re.S)
MESSAGE = re.compile(r"^(.+:\d+:\d+: error: |error: )")
LIBRARY = settings(max_examples=200, deadline=timedelta(seconds=3), suppress_health_check=[HealthCheck.too_slow])
CLI = settings(max_examples=30, deadline=timedelta(seconds=15), suppress_health_check=[HealthCheck.too_slow])


def check_library(data: bytes) -> None:
    """Compile and format; InputError is the only acceptable failure."""
    try:
        source = from_bytes(data, "fuzz.ami")
        compile_source(source)
    except InputError as err:
        assert str(err).endswith("error") or str(err).endswith("errors")
        return
    once = format_text(source.text, "fuzz.ami")
    assert format_text(once, "fuzz.ami") == once
    compile_source(from_bytes(once.encode("utf-8"), "fuzz.ami"))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """An example or malformed deployment with one to four edits of its lines and tokens."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["del_line", "dup_line", "swap_lines", "del_token", "dup_token", "swap_tokens",
                                     "insert", "crlf", "bom", "tabs", "truncate"]))
        if edit.endswith("line") or edit == "swap_lines":
            parts, sep = text.split("\n"), "\n"
        elif edit.endswith("token") or edit == "swap_tokens":
            parts, sep = TOKEN.findall(text) or [""], ""
        else:
            parts, sep = [], ""
        if parts:
            i = draw(st.integers(0, len(parts) - 1))
            j = draw(st.integers(0, len(parts) - 1))
            if edit.startswith("del"):
                del parts[i]
            elif edit.startswith("dup"):
                parts.insert(i, parts[j])
            else:
                parts[i], parts[j] = parts[j], parts[i]
            text = sep.join(parts)
        elif edit == "insert":
            at = draw(st.integers(0, len(text)))
            piece = draw(st.one_of(st.sampled_from(ODD), st.characters(codec="utf-8"), st.text(max_size=5)))
            text = text[:at] + piece * draw(st.integers(1, 3)) + text[at:]
        elif edit == "crlf":
            text = text.replace("\n", "\r\n")
        elif edit == "bom":
            text = "\ufeff" + text
        elif edit == "tabs":
            text = text.replace("  ", "\t")
        else:
            text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


@LIBRARY
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check_library(data)


@LIBRARY
@given(mutated())
def test_mutated_deployments(data: bytes) -> None:
    check_library(data)


SMALL = """deployment "Small" { utility city }
party city "City Power" : utility
domain field : utility_edge
device a : meter x 10 in field { redundancy 1 }
device b : aggregator in field
link l : a -> b { latency 30s; bandwidth 9600bps }
agreement g : confidentiality { between city; expires 2030-01-01 }
"""


def test_the_small_plan_compiles() -> None:
    check_library(SMALL.encode())


@LIBRARY
@given(st.sampled_from(["{", "{\n", "}", "{ a {", "\u202e{", "{}"]), st.integers(1, 5_000),
       st.sampled_from(["device m : meter in field ", "deployment \"x\" ", "", "party p : utility\n"]))
def test_deep_nesting(piece: str, depth: int, before: str) -> None:
    check_library((SMALL + before + piece * depth).encode())


@LIBRARY
@given(st.sampled_from(["x 10", "redundancy 1", "latency 30s", "bandwidth 9600bps", "expires 2030-01-01"]),
       st.integers(1, 9_000), st.text("0123456789_", max_size=20))
def test_huge_numbers(slot: str, length: int, tail: str) -> None:
    word, value = slot.split(" ")
    unit = value.lstrip("0123456789")
    digits = "9" * length + tail
    number = digits + unit if unit != "-01-01" else digits
    assert slot in SMALL
    check_library(SMALL.replace(slot, f"{word} {number}").encode())


@LIBRARY
@given(st.sampled_from(["device {} : meter in field\n", 'party p "{}" : peer_utility\n', "# {}\n",
                        'waiver AMI-OWN-001 on a {{ reason "{}" }}\n']),
       st.text(st.characters(codec="utf-8", exclude_characters='"\n\\'), min_size=1, max_size=30),
       st.integers(1, 12_000))
def test_long_identifiers_and_strings(template: str, unit: str, repeat: int) -> None:
    check_library((SMALL + template.format((unit * repeat)[:12_000])).encode("utf-8", "surrogatepass"))


@CLI
@given(mutated(), st.sampled_from([[], ["--max-line-length", "60"], ["--max-elements", "5"], ["--max-string-length", "8"]]),
       st.sampled_from(["table", "json", "sarif", "html", "lines"]))
def test_the_command_line_answers_with_0_1_or_2(tmp_path_factory, data: bytes, limits: list[str], fmt: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("fuzz") / "plan.ami"
    path.write_bytes(data)
    for args in (["check", str(path), "-f", fmt, *limits], ["fmt", "--check", str(path), *limits]):
        result = CliRunner().invoke(main, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code in (0, 1, 2), result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        if result.exit_code == 2:
            assert MESSAGE.match(result.stderr), result.stderr


def test_the_on_demand_fuzzer_runs_and_replays_a_case(tmp_path: Path) -> None:
    """`python -m tools.fuzz` itself (a few cases): its summary, and `--case` replaying one."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "tools.fuzz", "--cases", "120", "--seed", "3", "--workers", "2",
                          "--cli-every", "10"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.fullmatch(r"120 cases \(12 also through the CLI\) in \d+ s on 2 worker\(s\), seed 3: 0 crashes, 0 hangs; "
                        r"slowest case \d+ \([a-z+]+(, CLI)?\) \d+ ms\n", run.stdout), run.stdout
    one = subprocess.run([sys.executable, "-m", "tools.fuzz", "--seed", "3", "--case", "50"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert one.returncode == 0 and one.stdout.startswith("1 case (1 also through the CLI)"), one.stdout + one.stderr
    assert not (tmp_path / "fuzz-crashes").exists()
