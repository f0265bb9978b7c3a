"""On-demand fuzzing of the compiler and formatter: random bytes and mutated example deployments.

Invariant: every input either compiles or raises `InputError` (exit 2 in the CLI) — never any other
exception — and takes less than a bound. Run: `python -m tools.fuzz --cases 100000 [--seed N]`.
Prints the number of cases, the slowest case and every crash (with the input saved under
fuzz-crashes/)."""
from __future__ import annotations

import argparse
import os
import random
import time
import traceback
from importlib import resources

from amisec.compiler import InputError, compile_source, from_bytes
from amisec.compiler.fmt import format_text

TIME_BOUND_S = 5.0
CONFUSABLES = ["\u0430", "\u200b", "\u202e", "\ufeff", "\u00a0", "\u2212", "\x0b", "\x0c", "\r", "\t", "\x1b", "é", "😀"]


def seeds() -> list[bytes]:
    root = resources.files("amisec.deployments")
    return [p.read_bytes() for p in root.iterdir() if p.name.endswith(".ami")]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One random edit of a valid deployment: token/line deletion, duplication, swap, noise."""
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    op = rng.randrange(10)
    if op == 0 and lines:
        del lines[rng.randrange(len(lines))]
    elif op == 1 and lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif op == 2 and len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:
        words = text.split(" ")
        if len(words) > 1:
            i = rng.randrange(len(words))
            words[i] = rng.choice(words)
        text = " ".join(words)
        return text.encode()
    elif op == 4:
        pos = rng.randrange(len(text) + 1)
        return (text[:pos] + rng.choice(CONFUSABLES) * rng.randint(1, 3) + text[pos:]).encode()
    elif op == 5:
        pos = rng.randrange(len(text) + 1)
        return (text[:pos] + "{" * rng.randint(1, 500) + text[pos:]).encode()
    elif op == 6:
        return text.replace("\n", "\r\n").encode("utf-8-sig")
    elif op == 7:
        pos = rng.randrange(len(text) + 1)
        return (text[:pos] + rng.choice(["9" * rng.randint(10, 400), "a" * rng.randint(100, 5000), '"' + "x" * 10000 + '"']) + text[pos:]).encode()
    elif op == 8:
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    else:
        pos = rng.randrange(len(text) + 1)
        return (text[:pos] + text[pos: pos + rng.randint(0, 40)][::-1] + text[pos:]).encode()
    return "\n".join(lines).encode()


def run_one(data: bytes) -> None:
    """Compile and format one input; InputError is the only acceptable failure."""
    try:
        source = from_bytes(data, "fuzz.ami")
        compile_source(source)
        format_text(source.text, "fuzz.ami")
    except InputError as err:
        str(err)  # rendering must not crash either


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    corpus = seeds()
    crashes, slowest = 0, (0.0, b"")
    start = time.perf_counter()
    for n in range(args.cases):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))) if n % 10 == 0 else mutate(rng, rng.choice(corpus))
        t = time.perf_counter()
        try:
            run_one(data)
        except Exception:  # noqa: BLE001 — a crash is what we are looking for
            crashes += 1
            os.makedirs("fuzz-crashes", exist_ok=True)
            with open(f"fuzz-crashes/case-{args.seed}-{n}.ami", "wb") as fh:
                fh.write(data)
            print(f"CRASH case {n}:\n{traceback.format_exc()}")
        elapsed = time.perf_counter() - t
        if elapsed > slowest[0]:
            slowest = (elapsed, data)
        if elapsed > TIME_BOUND_S:
            print(f"SLOW case {n}: {elapsed:.1f}s")
    total = time.perf_counter() - start
    print(f"{args.cases} cases in {total:.0f}s, {crashes} crashes, slowest {slowest[0] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
