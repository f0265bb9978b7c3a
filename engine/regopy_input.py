"""Hand a Python document to rego-cpp as its input, many times faster than regopy's converter.

regopy builds the input by walking the document and calling rego-cpp's input stack machine once
per value (`regoInputString`, `regoInputObjectItem`, …). Its walker pays for a fresh C buffer per
string, ABC `isinstance` checks per value and a Python wrapper per call; at 10k elements that was
over half of the hand-over. This walker calls the same C functions directly: strings go as their
UTF-8 bytes (ctypes passes a bytes object's NUL-terminated buffer), the encoding of repeated
strings (keys, vocabulary words) is remembered, dispatch is on the exact type, and return codes
are OR-ed and checked once. The result is the same input node regopy would build.

Where the optional C extension `_handover` was built (it is, wherever a C compiler was at install
time), the same walk runs in C, about three times faster again: the calls themselves are then most
of the cost (10k elements, 340k values: 1.7 s from Python, 0.7 s from C). The C walk also slims the
document as it goes (`slim.Slimmer`), reading it without making the slimmed copy the Python walk
is given.

Each top-level value is built on an input of its own and the top of the tree is put together by
`regopy_native`, which sets it without the copies `regoSetInput` makes (at 100k elements, every
field the policies name: 31.6 → 3.6 s, 7.6 → 4.0 GB); where that is not available the values go
onto one input and through `regoSetInput`, as regopy does.

Where both are there (`builds()`), the C extension skips the input stack machine and makes the
nodes itself (`_handover.Tape`): every value's text in one shared source and each distinct scalar,
keys among them, one node wherever it occurs. The engine reads the same values; at 100k elements,
every field the policies name, 2,852 → 371 MB and 7.3 → 1.4 s. A process that hands over several
rule packages one after another (`Handover`) walks the document once, for the fields any of them
names, and builds each package's input from that walk.
"""
from __future__ import annotations

import ctypes
import sys
from typing import Any, Callable, Mapping, Sequence

from regopy import RegoError
from regopy import rego_shared as rs

from . import regopy_native
from .regopy_strings import needs_protection, protect
from .slim import Slimmer

try:
    from . import _handover
except ImportError:  # built without a C compiler: the Python walk below
    _handover = None

_lib = rs.rego
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_PUSHES = ("regoInputString", "regoInputInt", "regoInputFloat", "regoInputBoolean", "regoInputNull",
           "regoInputObjectItem", "regoInputObject", "regoInputArray")

# Pushes one value onto an input: given the input's handle and the push functions' addresses,
# the OR of rego-cpp's return codes (0: all pushed) and whether a string was seen that regopy's
# output would not escape (see regopy_strings).
Push = Callable[[int, tuple[int, ...]], tuple[int, bool]]


def set_value(interpreter: int, value: Any) -> None:
    """Set `value` (JSON-like Python values, strings already safe: `handed_document`) as the
    input of `interpreter` (its address)."""
    if type(value) is dict and builds():
        functions, tokens = regopy_native.building_blocks()
        tape = _handover.Tape(functions, tokens, [(key, item, -1) for key, item in value.items()], [], (), 0)
        regopy_native.set_term(interpreter, tape.build([]))
    elif type(value) is dict:
        _set_object(interpreter, {key: _as_it_is(item) for key, item in value.items()}, stop_if_unsafe=False)
    else:
        _set_top(interpreter, _as_it_is(value))


def set_document(interpreter: int, doc: Mapping[str, Any], slimmer: Slimmer) -> bool:
    """Set `doc` as `slimmer` slims it, its strings made safe for regopy's output
    (`regopy_strings`), as the input of `interpreter`; whether a protected copy was set (then the
    output's strings must be restored; `handed_document` is what was set). The C walk notices an
    unsafe string as it goes, so a document without one (the common case) is walked once and
    never dumped to find out."""
    return Handover(doc, (slimmer,)).set(interpreter, slimmer)


class Handover:
    """`doc` handed to an interpreter as each of `slimmers` slims it, one after another (`set`).

    Where the C extension makes the engine's nodes itself (`builds()`), the document is walked
    once, for every field any of the slimmers keeps (`_Walk`), and each input is built from that
    walk alone: each element's keys are scanned and each value looked up once, not once per rule
    package. Else each `set` walks the document as `set_document` always did."""

    def __init__(self, doc: Mapping[str, Any], slimmers: Sequence[Slimmer]) -> None:
        self.doc = doc
        self.slimmers = tuple(slimmers)
        self._walk: _Walk | None = None
        self._walk_each = False  # the walk for every slimmer met a value the engine refuses

    def set(self, interpreter: int, slimmer: Slimmer) -> bool:
        """Set the document as `slimmer` (one of the slimmers) slims it; whether a protected copy
        was set (see `set_document`)."""
        if not any(slimmer is s for s in self.slimmers):
            raise ValueError("a slimmer the document was not walked for")
        if _handover is None:
            slim = slimmer.document(self.doc)
            protected = needs_protection(slim)
            set_value(interpreter, protect(slim) if protected else slim)
            return protected
        if not builds():
            return self._pushed(interpreter, slimmer)
        walk = self._walk_for(slimmer)
        if walk.tape.unsafe:
            set_value(interpreter, handed_document(self.doc, slimmer, True))
            return True
        regopy_native.set_term(interpreter, walk.tape.build(walk.ranks(slimmer)))
        return False

    def _walk_for(self, slimmer: Slimmer) -> _Walk:
        """The walk for every slimmer's fields; where it meets a value the engine refuses (kept by
        some slimmer, perhaps by none of them alone), a walk for this slimmer's fields only, so
        that only a slimmer whose own document holds such a value fails."""
        if self._walk is None and not self._walk_each:
            try:
                self._walk = _Walk(self.doc, self.slimmers)
            except (ValueError, OverflowError, RecursionError):
                if len(self.slimmers) == 1:
                    raise
                self._walk_each = True
        return self._walk or _Walk(self.doc, (slimmer,))

    def _pushed(self, interpreter: int, slimmer: Slimmer) -> bool:
        """Set through rego-cpp's input functions (no native build here)."""
        top = slimmer.top_level(self.doc)
        rankings = slimmer.rankings(top)
        pushes = {key: _as_it_is(value) if key == slimmer.WHOLE else _slimmed(value, rankings[key])
                  for key, value in top.items()}
        if _set_object(interpreter, pushes, stop_if_unsafe=True):
            return False
        set_value(interpreter, handed_document(self.doc, slimmer, True))
        return True


class _Walk:
    """A document walked once (`_handover.Tape`) for the fields any of `slimmers` keeps: a context
    per top-level key, keeping the fields any slimmer keeps under it (under `WHOLE`, the maps any
    slimmer names, each whole)."""

    def __init__(self, doc: Mapping[str, Any], slimmers: Sequence[Slimmer]) -> None:
        kept: list[set[str]] = []
        contexts: list[tuple[str, bool]] = []  # per context: its top-level key, whether deep
        items = []
        for key, value in slimmers[0].top_level(doc).items():
            whole = key == Slimmer.WHOLE
            names = (s.ranking if whole else s.ranking_of(key) for s in slimmers)
            # interned: the document's keys are, so a field is found by identity
            kept.append({sys.intern(name) for name in set().union(*names)})
            contexts.append((key, not whole))
            items.append((key, doc[key] if whole else value, len(items)))
        fields = sorted(set().union(*kept))
        number = {name: n for n, name in enumerate(fields)}
        functions, tokens = regopy_native.building_blocks()
        self.tape = _handover.Tape(functions, tokens, items, [{name: number[name] for name in names} for names in kept],
                                   tuple(deep for _, deep in contexts), len(fields))
        self.contexts, self.fields = contexts, fields

    def ranks(self, slimmer: Slimmer) -> list[list[int]]:
        """Per context, the rank `slimmer` gives each field (-1: left out); the maps under `WHOLE`
        keep their order."""
        ranks = []
        for key, deep in self.contexts:
            ranking = slimmer.ranking_of(key) if deep else dict.fromkeys(slimmer.ranking, 0)
            ranks.append([ranking.get(name, -1) for name in self.fields])
        return ranks


def handed_document(doc: Mapping[str, Any], slimmer: Slimmer, protected: bool) -> dict[str, Any]:
    """The document `set_document` set, as Python values."""
    slim = slimmer.document(doc)
    return protect(slim) if protected else slim


def builds() -> bool:
    """Whether the C extension can make the engine's nodes itself (`_handover.Tape`)."""
    return _handover is not None and hasattr(_handover, "Tape") and regopy_native.available()


def _as_it_is(value: Any) -> Push:
    if _handover is not None:
        return lambda handle, at: _handover.push_value(handle, at, value)
    return lambda handle, at: (_push_in_python(handle, value), False)


def _slimmed(value: Any, ranking: dict[str, int]) -> Push:
    return lambda handle, at: _handover.push_slim_value(handle, at, value, ranking)


def _key(key: Any) -> Push:
    if type(key) is not str:
        raise ValueError(f"cannot hand a {type(key).__name__} key to the engine")
    return lambda handle, at: (_lib.regoInputString(handle, key.encode("utf-8")), needs_protection(key))


def _set_object(interpreter: int, pushes: Mapping[str, Push], stop_if_unsafe: bool) -> bool:
    """Set the object of these keys and values (each as its push builds it); False, setting
    nothing, when `stop_if_unsafe` and a string regopy would not escape was seen."""
    if not regopy_native.available():
        def push_all(handle: int, at: tuple[int, ...]) -> tuple[int, bool]:
            bad, unsafe = 0, False
            for key, push in pushes.items():
                for part in (_key(key), push):
                    code, seen = part(handle, at)
                    bad, unsafe = bad | code, unsafe or seen
                bad |= _lib.regoInputObjectItem(handle)
            return bad | _lib.regoInputObject(handle, len(pushes)), unsafe

        return _set_top(interpreter, push_all, stop_if_unsafe)
    handles: list[int] = []
    try:
        unsafe = False
        for key, push in pushes.items():
            for part in (_key(key), push):
                handle, seen = _filled(part)
                handles.append(handle)
                unsafe = unsafe or seen
        if unsafe and stop_if_unsafe:
            return False
        regopy_native.set_object(interpreter, list(zip(handles[::2], handles[1::2])))
        return True
    finally:
        for handle in handles:
            rs.rego_free_input(handle)


def _set_top(interpreter: int, push: Push, stop_if_unsafe: bool = False) -> bool:
    """Set the one value `push` builds (see `_set_object`)."""
    handle, unsafe = _filled(push)
    try:
        if unsafe and stop_if_unsafe:
            return False
        if regopy_native.available():
            regopy_native.set_value(interpreter, handle)
        else:
            rs.rego_set_input(interpreter, handle)
        return True
    finally:
        rs.rego_free_input(handle)


def _filled(push: Push) -> tuple[int, bool]:
    """A new input filled by `push`, and whether an unsafe string was seen; free it with
    `rs.rego_free_input`."""
    handle = rs.rego_new_input()
    try:
        bad, unsafe = push(handle, _addresses())
        if bad:
            raise RegoError("Unable to create input")
    except BaseException:
        rs.rego_free_input(handle)
        raise
    return handle, unsafe


def _addresses() -> tuple[int, ...]:
    return tuple(ctypes.cast(getattr(_lib, name), ctypes.c_void_p).value for name in _PUSHES)


def _push_in_python(handle: int, value: Any) -> int:
    """Push `value` onto the input `handle`; the OR of rego-cpp's return codes (0: all pushed)."""
    string, integer, floating, boolean, null = (
        _lib.regoInputString, _lib.regoInputInt, _lib.regoInputFloat, _lib.regoInputBoolean, _lib.regoInputNull)
    item, obj, arr = _lib.regoInputObjectItem, _lib.regoInputObject, _lib.regoInputArray
    encoded: dict[str, bytes] = {}

    def text(s: str) -> int:
        raw = encoded.get(s)
        if raw is None:
            if type(s) is not str:  # only a key can get here as anything else
                raise ValueError(f"cannot hand a {type(s).__name__} key to the engine")
            raw = encoded[s] = s.encode("utf-8")
        return string(handle, raw)

    def add(v: Any) -> int:
        kind = type(v)
        if kind is str:
            return text(v)
        if kind is dict:
            bad = 0
            for k, x in v.items():
                bad |= text(k) | add(x) | item(handle)
            return bad | obj(handle, len(v))
        if kind is list or kind is tuple:
            bad = 0
            for x in v:
                bad |= add(x)
            return bad | arr(handle, len(v))
        if kind is bool:
            return boolean(handle, v)
        if kind is int:
            if not _INT64_MIN <= v <= _INT64_MAX:  # ctypes would wrap it around silently
                raise OverflowError("an integer too large for the engine (64 bits)")
            return integer(handle, v)
        if kind is float:
            return floating(handle, v)
        if v is None:
            return null(handle)
        raise ValueError(f"cannot hand a {kind.__name__} to the engine")

    return add(value)
