"""The collector is paused around bulk work, and what that work leaves behind is not rescanned."""
from __future__ import annotations

import gc

import pytest

from amisec.gc_pause import FREEZE_FROM, gc_paused


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_a_bulk_block_leaves_behind_is_frozen() -> None:
    gc.collect()
    frozen = gc.get_freeze_count()
    with gc_paused():
        kept = [[i] for i in range(FREEZE_FROM * 2)]
    assert gc.get_freeze_count() >= frozen + len(kept)


def test_a_small_block_or_a_failing_one_freezes_nothing() -> None:
    gc.collect()
    frozen = gc.get_freeze_count()
    with gc_paused():
        small = [[i] for i in range(100)]
    with pytest.raises(ValueError), gc_paused():
        large = [[i] for i in range(FREEZE_FROM * 2)]
        raise ValueError(len(large))
    assert gc.get_freeze_count() == frozen and small


def test_a_frozen_object_dropped_is_still_freed() -> None:
    import weakref

    class Held:
        pass

    with gc_paused():
        kept = [[i] for i in range(FREEZE_FROM * 2)]
        one = Held()
    gone = weakref.ref(one)
    del one, kept
    assert gone() is None
