"""Pausing Python's cyclic garbage collector around bulk work.

Parsing, compiling and handing a large deployment to the engine allocate millions of acyclic
objects; the cyclic collector only rescans them (measured: a 100k-line file parses in 14 s
instead of 21 s with it paused). Nothing these stages build holds reference cycles that must be
collected before they end."""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, restoring its previous state after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
