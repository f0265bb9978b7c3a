"""The collector is paused around bulk work, and in the `amisec` program what that work leaves
behind is not rescanned."""
from __future__ import annotations

import gc
import weakref

import pytest

from amisec import gc_pause
from amisec.gc_pause import FREEZE_FROM, gc_paused


@pytest.fixture()
def freezing(monkeypatch: pytest.MonkeyPatch):
    was = gc.isenabled()
    gc.enable()
    monkeypatch.setattr(gc_pause, "_freezing", True)
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    was = gc.isenabled()
    gc.enable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()


def test_what_a_bulk_block_leaves_behind_is_frozen(freezing: None) -> None:
    gc.collect()
    frozen = gc.get_freeze_count()
    with gc_paused():
        kept = [[i] for i in range(FREEZE_FROM * 2)]
    assert gc.get_freeze_count() >= frozen + len(kept)


def test_a_small_block_or_a_failing_one_freezes_nothing(freezing: None) -> None:
    gc.collect()
    frozen = gc.get_freeze_count()
    with gc_paused():
        small = [[i] for i in range(100)]
    with pytest.raises(ValueError), gc_paused():
        large = [[i] for i in range(FREEZE_FROM * 2)]
        raise ValueError(len(large))
    assert gc.get_freeze_count() == frozen and small


def test_a_library_caller_never_freezes() -> None:
    # it may run for days: garbage cycles waiting for a collection must not be kept forever
    assert gc_pause._freezing is False
    frozen = gc.get_freeze_count()
    with gc_paused():
        kept = [[i] for i in range(FREEZE_FROM * 2)]
    assert gc.get_freeze_count() == frozen and kept


def test_a_frozen_object_dropped_is_still_freed(freezing: None) -> None:
    class Held:
        pass

    with gc_paused():
        kept = [[i] for i in range(FREEZE_FROM * 2)]
        one = Held()
    gone = weakref.ref(one)
    del one, kept
    assert gone() is None


def test_the_program_freezes() -> None:
    import subprocess
    import sys

    probe = "import amisec.cli as c, amisec.gc_pause as g\nc.main = lambda: print(g._freezing)\nc.run()\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "True")


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="forking needs a POSIX system")
def test_a_forked_processs_value_is_unpickled_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    # a compiled input or a parsed piece is millions of objects: a collection in the middle of
    # unpickling them only rescans them (100k elements: four full collections, 0.3 s)
    from amisec import forked

    enabled_while_loading = []
    real = forked.pickle.loads

    def loads(data: bytes):
        enabled_while_loading.append(gc.isenabled())
        return real(data)

    monkeypatch.setattr(forked.pickle, "loads", loads)
    was = gc.isenabled()
    gc.enable()
    try:
        assert forked.Forked(lambda: [[i] for i in range(1000)], "making lists").result()[-1] == [999]
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()
    assert enabled_while_loading == [False]


def test_the_embedded_engine_evaluates_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    # hand-overs and rule results, in this process and in the forked ones, are millions of
    # acyclic objects at utility scale: collections among them cost the hand-over a tenth
    from amisec.engine import embedded
    from amisec.policies.catalog import load_catalog

    enabled_while_running = []
    monkeypatch.setattr(embedded._Session, "_run", lambda self, *args: enabled_while_running.append(gc.isenabled()) or {})
    was = gc.isenabled()
    gc.enable()
    try:
        assert embedded.EmbeddedEngine(load_catalog().files).evaluate({"devices": []}) == {}
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()
    assert enabled_while_running == [False]
