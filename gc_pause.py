"""Pausing Python's cyclic garbage collector around bulk work.

Parsing, compiling and handing a large deployment to the engine allocate millions of acyclic
objects; the cyclic collector only rescans them (measured: a 100k-line file parses in 14 s
instead of 21 s with it paused). Nothing these stages build holds reference cycles that must be
collected before they end.

What a block built in bulk lives on (the model, the input document), and the collector would
rescan all of it in its next collections, in this process and in every forked one (at 10k
elements 0.28 s per process, and each scan writes to pages a forked process then copies). A
process that ends after one run, the `amisec` program, therefore freezes what such a block leaves
behind (`gc.freeze`): the collector never scans it again, and reference counting still frees
each object dropped. Freezing also keeps any garbage cycle that is waiting for a collection at
that moment, forever; so a library caller, which may run for days, never freezes."""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator

# Objects left behind by a block from which freezing pays (riverside leaves under 10k, a
# generated 10k-element plan 84k after parsing).
FREEZE_FROM = 20_000

_freezing = False


def freeze_after_bulk_work() -> None:
    """From now on, freeze what a large block leaves behind: for a process that ends after its run."""
    global _freezing
    _freezing = True


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, restoring its previous state after; in a
    process that freezes (`freeze_after_bulk_work`), freeze what it left behind when that is
    much and it ended normally (an exception's frames, which can hold cycles, are left to the
    collector)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if _freezing and enabled and gc.get_count()[0] >= FREEZE_FROM:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()
