"""On-demand fuzzing of the compiler, the formatter and the command line.

Inputs: random bytes; the example deployments and the malformed corpus (tests/data) with one to
three random edits each (lines and tokens deleted, duplicated, swapped or replaced; unicode
confusables and control characters; deep `{` nesting; huge numbers; long names and strings;
CRLF, BOM and tabs; truncation; flipped bytes); and random sequences of the language's words.

Invariants. In process, every input compiles or raises `InputError` (whose rendering must not
fail either); a text that compiles formats to a text that compiles and formats to itself. One case
in `--cli-every` also runs `amisec check` (in a rotating format, sometimes with low limits) and
`amisec fmt --check` through click's CliRunner: exit code 0, 1 or 2, never an exception or a
traceback, and on exit 2 a message that starts `file:line:col: error:` or `error:`. Every case
must end within `--time-bound` seconds (else it is stopped and counted as a hang).

    python -m tools.fuzz --cases 100000 --seed 1 --workers 2

Case n of seed s is always the same input: `--case n` reruns one case alone. Crashing inputs are
saved under fuzz-crashes/ with their traceback. Exit status 1 when a case crashed or hung.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from amisec.compiler import InputError, compile_source, from_bytes
from amisec.compiler.fmt import format_text

CONFUSABLES = ["\u0430", "\u0435", "\u03bf", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u00a0", "\u2028",
               "\u2212", "\uff1a", "\uff5b", "\u037e", "é", "😀", "\u0301"]
CONTROLS = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\r", "\t", "\r\r\n"]
WORDS = ["deployment", "party", "agreement", "domain", "device", "link", "flow", "delegation", "waiver", "in", "x",
         "from", "to", "on", "by", "utility", "meter", "aggregator", "rf_mesh", "carries", "covers", "control",
         "owner", "signed", "expires", "2027-01-01", "48_000", "30s", "9600bps", "AMI-OWN-001", '"Name"', "*",
         "{", "}", ":", ";", ",", "->", "<->", "\n", "\n", " ", "#c\n", "a", "b", "c"]
_TOKEN = re.compile(r'\s+|"[^"\n]*"|[A-Za-z0-9_.\-]+|.', re.S)
ROOT = Path(__file__).resolve().parents[1]
CLI_FORMATS = ["table", "json", "sarif", "junit", "markdown", "html", "oscal", "lines"]
_MESSAGE = re.compile(r"^(.+:\d+:\d+: error: |error: )")


# --- the corpus and its mutations --------------------------------------------------------------
def seeds() -> list[str]:
    """The example deployments and every .ami file under tests/data (malformed corpus included)."""
    texts = [p.read_bytes() for p in resources.files("amisec.deployments").iterdir() if p.name.endswith(".ami")]
    texts += [p.read_bytes() for p in sorted((ROOT / "tests" / "data").rglob("*.ami"))]
    return [t.decode("utf-8", "replace") for t in texts]


def _lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.randrange(3)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[j])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def _tokens(rng: random.Random, text: str) -> str:
    tokens = _TOKEN.findall(text) or [""]
    i, j = rng.randrange(len(tokens)), rng.randrange(len(tokens))
    op = rng.randrange(4)
    if op == 0:
        del tokens[i]
    elif op == 1:
        tokens.insert(i, tokens[j])
    elif op == 2:
        tokens[i], tokens[j] = tokens[j], tokens[i]
    else:
        tokens[i] = rng.choice(WORDS)
    return "".join(tokens)


def _insert(rng: random.Random, text: str, piece: str) -> str:
    pos = rng.randrange(len(text) + 1)
    return text[:pos] + piece + text[pos:]


def _oddity(rng: random.Random, text: str) -> str:
    """A confusable, control or random character, a deep nesting, a huge number or a long word."""
    op = rng.randrange(7)
    if op == 0:
        return _insert(rng, text, rng.choice(CONFUSABLES) * rng.randint(1, 3))
    if op == 1:
        return _insert(rng, text, rng.choice(CONTROLS))
    if op == 2:
        return _insert(rng, text, chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0x80, 0x30000)])))
    if op == 3:
        return _insert(rng, text, rng.choice(["{", "{\n", "}", "{ a b {"]) * rng.choice([2, 50, 1000, 20000]))
    if op == 4:
        return _insert(rng, text, rng.choice(["9", "1_0", "0"]) * rng.choice([20, 400, 4400, 9000]) + rng.choice(["", "s", "ms", "gbps", "-01-01"]))
    if op == 5:
        return _insert(rng, text, rng.choice(["a", "A-", "a."]) * rng.choice([100, 5000, 12000]))
    return _insert(rng, text, '"' + rng.choice(["x", "\\\"", "é"]) * rng.choice([100, 4097, 12000]) + rng.choice(['"', ""]))


def _layout(rng: random.Random, text: str) -> str:
    op = rng.randrange(5)
    if op == 0:
        return text.replace("\n", "\r\n")
    if op == 1:
        return "\ufeff" + text
    if op == 2:
        return text.replace("  ", "\t")
    if op == 3:
        return text[: rng.randrange(len(text) + 1)]
    start = rng.randrange(len(text) + 1)
    return text[:start] + text[start : start + rng.randint(0, 40)][::-1] + text[start:]


TEXT_EDITS: list[Callable[[random.Random, str], str]] = [_lines, _lines, _tokens, _tokens, _tokens, _oddity, _layout]


def _flip(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def make_case(seed: int, n: int, corpus: list[str]) -> tuple[str, bytes]:
    """(kind, input) of case n: the same for the same seed and corpus."""
    rng = random.Random(f"{seed}:{n}")
    roll = rng.random()
    if roll < 0.08:
        return "bytes", bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if roll < 0.16:
        return "soup", "".join(rng.choice(WORDS) + rng.choice([" ", "", "\n"]) for _ in range(rng.randint(1, 60))).encode()
    text = rng.choice(corpus)
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(TEXT_EDITS)(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    return ("mutate+flip", _flip(rng, data)) if rng.random() < 0.1 else ("mutate", data)


# --- the invariants -----------------------------------------------------------------------------
def run_library(data: bytes) -> bool:
    """Compile and format one input; InputError is the only acceptable failure. True if it compiled."""
    try:
        source = from_bytes(data, "fuzz.ami")
        compile_source(source)
    except InputError as err:
        str(err)  # rendering must not crash either
        return False
    once = format_text(source.text, "fuzz.ami")
    twice = format_text(once, "fuzz.ami")
    if twice != once:
        raise AssertionError("fmt is not idempotent on this input")
    compile_source(from_bytes(once.encode("utf-8"), "fuzz.ami"))
    return True


def _cli(args: list[str]) -> None:
    from click.testing import CliRunner

    from amisec.cli import main

    result = CliRunner().invoke(main, args)
    shown = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"amisec {' '.join(args)} raised:\n"
                             + "".join(traceback.format_exception(result.exception)))
    if "Traceback" in shown or result.exit_code not in (0, 1, 2):
        raise AssertionError(f"amisec {' '.join(args)} exited {result.exit_code}:\n{shown[-3000:]}")
    if result.exit_code == 2 and not _MESSAGE.match(result.stderr):
        raise AssertionError(f"amisec {' '.join(args)} exited 2 without a positioned message:\n{shown[-3000:]}")


def run_cli(data: bytes, rng: random.Random, folder: str) -> None:
    """`amisec check` and `amisec fmt --check` on the input written to a file."""
    path = os.path.join(folder, "fuzz.ami")
    with open(path, "wb") as fh:
        fh.write(data)
    limits = rng.choice([[], [], [], ["--max-line-length", "60"], ["--max-string-length", "8"],
                         ["--max-elements", "5"], ["--max-bytes", "500"]])
    _cli(["check", path, "-f", rng.choice(CLI_FORMATS), *limits])
    _cli(["fmt", "--check", path, *limits])


# --- running ------------------------------------------------------------------------------------
class Hang(Exception):
    """A case ran past the time bound."""


@dataclass
class Outcome:
    n: int
    kind: str
    seconds: float
    cli: bool
    failure: str | None = None
    data: bytes | None = None


_STATE: dict = {}


def _init(seed: int, cli_every: int, bound: float) -> None:
    _STATE.update(seed=seed, cli_every=cli_every, bound=bound, corpus=seeds(), folder=tempfile.mkdtemp(prefix="amisec-fuzz-"))
    signal.signal(signal.SIGALRM, _alarm)


def _alarm(signum: int, frame: object) -> None:
    raise Hang(f"ran longer than {_STATE['bound']} s")


def run_case(n: int) -> Outcome:
    """Generate and check case n; a failure carries its traceback and input."""
    kind, data = make_case(_STATE["seed"], n, _STATE["corpus"])
    cli = _STATE["cli_every"] > 0 and n % _STATE["cli_every"] == 0
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, _STATE["bound"])
    try:
        run_library(data)
        if cli:
            run_cli(data, random.Random(f"cli:{_STATE['seed']}:{n}"), _STATE["folder"])
        failure = None
    except Exception:  # noqa: BLE001 — a crash is what we are looking for
        failure = traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return Outcome(n, kind, time.perf_counter() - start, cli, failure, data if failure else None)


def _save(seed: int, outcome: Outcome) -> str:
    os.makedirs("fuzz-crashes", exist_ok=True)
    stem = f"fuzz-crashes/case-{seed}-{outcome.n}"
    with open(f"{stem}.ami", "wb") as fh:
        fh.write(outcome.data or b"")
    with open(f"{stem}.txt", "w", encoding="utf-8") as fh:
        fh.write(outcome.failure or "")
    return f"{stem}.ami"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000, help="number of cases (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes (default 2)")
    ap.add_argument("--cli-every", type=int, default=25, help="run the CLI on one case in N (0: never; default 25)")
    ap.add_argument("--time-bound", type=float, default=20.0, help="seconds a case may take (default 20)")
    ap.add_argument("--case", type=int, help="run only this case number, in this process")
    args = ap.parse_args(argv)
    cases = [args.case] if args.case is not None else range(args.cases)
    init = (args.seed, args.cli_every, args.time_bound)
    start = time.perf_counter()
    if args.workers > 1 and args.case is None:
        with multiprocessing.get_context("fork").Pool(args.workers, _init, init) as pool:
            summary = _collect(pool.imap_unordered(run_case, cases, chunksize=50), args.seed, len(cases))
    else:
        _init(*init)
        summary = _collect(map(run_case, cases), args.seed, len(cases))
    crashes, hangs, cli, slowest = summary
    print(f"{len(cases)} case{'' if len(cases) == 1 else 's'} ({cli} also through the CLI) in {time.perf_counter() - start:.0f} s on "
          f"{1 if args.case is not None else args.workers} worker(s), seed {args.seed}: {crashes} crashes, {hangs} hangs; "
          f"slowest case {slowest.n} ({slowest.kind}{', CLI' if slowest.cli else ''}) {slowest.seconds * 1000:.0f} ms",
          flush=True)
    return 1 if crashes or hangs else 0


def _collect(outcomes, seed: int, total: int) -> tuple[int, int, int, Outcome]:
    crashes = hangs = cli = done = 0
    slowest = Outcome(-1, "", 0.0, False)
    for outcome in outcomes:
        done += 1
        cli += outcome.cli
        if outcome.seconds > slowest.seconds:
            slowest = outcome
        if outcome.failure:
            hung = "Hang:" in outcome.failure.splitlines()[-1]
            hangs += hung
            crashes += not hung
            saved = _save(seed, outcome)
            print(f"{'HANG' if hung else 'CRASH'} case {outcome.n} ({outcome.kind}), input in {saved}:\n{outcome.failure}", flush=True)
        if done % 10_000 == 0:
            print(f"... {done}/{total} cases, {crashes} crashes, {hangs} hangs", flush=True)
    return crashes, hangs, cli, slowest


if __name__ == "__main__":
    sys.exit(main())
