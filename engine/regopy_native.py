"""Set an input on a rego-cpp interpreter without the copies `regoSetInput` makes.

rego-cpp's C API builds the input on a stack of nodes and copies it on the way in, three times
over: each object item copies its value (at the top level, every collection whole), `regoSetInput`
copies the finished tree, and the interpreter copies it once more to wrap it as a term. At 100k
elements that was over 30 of the hand-over's seconds and two thirds of its memory, as rego-cpp
holds every copy until the last one is made. This module builds the top of the tree itself from
the nodes the C API built for each top-level value (`Input << Term << Object << ObjectItem <<
(Term << key) (Term << value)`, the shape the copies arrive at) and sets it with the interpreter's
own C++ entry point, which takes an `Input` node as it is.

It calls C++ functions libregopy exports (`trieste::NodeDef::create`, `NodeDef::push_back`,
`intrusive_dec_ref`, `rego::Interpreter::set_input`) by their mangled names, with the x86-64
System V calling convention for their hidden result slots; `available()` is true only where that
holds and every name resolves, on the regopy versions this was read against. Elsewhere the input
goes through `regoSetInput`, the same tree more slowly.
"""
from __future__ import annotations

import ctypes
import platform
import sys
from typing import Sequence

import regopy
from regopy import RegoError
from regopy import rego_shared as rs

# The regopy releases whose library was read for these entry points, their arguments and the
# input tree's shape; another release goes through regoSetInput until it has been read too.
VERIFIED = frozenset({"1.5.2"})

_FUNCTIONS = {
    "create": "_ZN7trieste7NodeDef6createERKNS_5TokenE",
    "create_at": "_ZN7trieste7NodeDef6createERKNS_5TokenENS_8LocationE",
    "location": "_ZN7trieste8LocationC1ERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
    "release_source": "_ZN7trieste20intrusive_refcountedINS_9SourceDefEE17intrusive_dec_refEv",
    "push_back": "_ZN7trieste7NodeDef9push_backESt4spanINS_13intrusive_ptrIS0_EELm18446744073709551615EE",
    "release": "_ZN7trieste20intrusive_refcountedINS_7NodeDefEE17intrusive_dec_refEv",
    "set_input": "_ZN4rego11Interpreter9set_inputERKN7trieste13intrusive_ptrINS1_7NodeDefEEE",
}
_TOKENS = {"Input": "_ZN4rego5InputE", "Term": "_ZN4rego4TermE", "Object": "_ZN4rego6ObjectE",
           "ObjectItem": "_ZN4rego10ObjectItemE", "Scalar": "_ZN4rego6ScalarE", "JSONString": "_ZN4rego10JSONStringE",
           "Int": "_ZN4rego3IntE", "Float": "_ZN4rego5FloatE", "True": "_ZN4rego4TrueE", "False": "_ZN4rego5FalseE",
           "Null": "_ZN4rego4NullE", "Array": "_ZN4rego5ArrayE"}
# The order `_handover.Tape` takes them in.
_BUILT_FROM = ("create", "create_at", "push_back", "release", "release_source", "location")
_BUILT_OF = ("Term", "Scalar", "JSONString", "Int", "Float", "True", "False", "Null", "ObjectItem", "Object", "Array")
_P = ctypes.c_void_p


class _Library:
    """The entry points, resolved once."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        # create(Node* result, const Token* type): a Node (one pointer) returned through a slot
        self.create = _function(lib, "create", _P, _P)
        # push_back(NodeDef* this, std::span<Node>{Node* data, size_t size}): each child +1 reference
        self.push_back = _function(lib, "push_back", _P, _P, ctypes.c_size_t)
        self.release = _function(lib, "release", _P)  # (NodeDef* this): the last reference frees it
        # read from C only (`_handover.Tape`): their addresses
        self.addresses = {name: ctypes.cast(getattr(lib, _FUNCTIONS[name]), _P).value for name in _BUILT_FROM}
        # set_input(Node* result, Interpreter* this, const Node* input): a null result is success
        self.set_input = _function(lib, "set_input", _P, _P, _P)
        self.node = lib.regoInputNode
        self.node.restype, self.node.argtypes = _P, [_P]
        # a Token is the address of its TokenDef, which the library exports
        self.tokens = {name: _P(ctypes.addressof(ctypes.c_char.in_dll(lib, symbol))) for name, symbol in _TOKENS.items()}

    def new(self, kind: str, children: Sequence[int]) -> int:
        """A new node of `kind` holding `children` (each given a reference of its own); the caller
        holds the one reference to it."""
        slot = _P(0)
        self.create(ctypes.addressof(slot), ctypes.addressof(self.tokens[kind]))
        if children:
            self.push_back(slot, (_P * len(children))(*children), len(children))
        return slot.value

    def adopted(self, kind: str, children: Sequence[int]) -> int:
        """`new`, the caller's references to `children` passed on to it."""
        node = self.new(kind, children)
        for child in children:
            self.release(child)
        return node


def _function(lib: ctypes.CDLL, name: str, *argtypes: type) -> ctypes._CFuncPtr:
    function = getattr(lib, _FUNCTIONS[name])
    function.restype, function.argtypes = None, list(argtypes)
    return function


def _verified() -> bool:
    """Whether this regopy release and platform are those its library was read on."""
    return regopy.__version__ in VERIFIED and sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")


def _load() -> _Library | None:
    if not _verified():
        return None
    try:
        return _Library(rs.rego)
    except (AttributeError, ValueError):  # a name the library does not export
        return None


_LIBRARY = _load()


def available() -> bool:
    """Whether inputs can be set this way here."""
    return _LIBRARY is not None


# `rego::Interpreter::stmt_limit`, read and set: the statements a query may run before rego-cpp
# stops it (10 million by default), which the C API does not expose. Resolved apart from the
# input's entry points, so that either works without the other.
_STATEMENT_LIMIT = ("_ZNK4rego11Interpreter10stmt_limitEv", "_ZN4rego11Interpreter10stmt_limitEm")


def _load_statement_limit() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr] | None:
    if not _verified():
        return None
    try:
        read, write = (getattr(rs.rego, name) for name in _STATEMENT_LIMIT)
    except AttributeError:
        return None
    read.restype, read.argtypes = ctypes.c_size_t, [_P]
    write.restype, write.argtypes = _P, [_P, ctypes.c_size_t]
    return read, write


_LIMIT = _load_statement_limit()


def can_limit_statements() -> bool:
    """Whether a query's statement limit can be read and set here."""
    return _LIMIT is not None


def statement_limit(interpreter: int) -> int | None:
    """The statements a query on `interpreter` (its address) may run (None: not known here)."""
    return _LIMIT[0](interpreter) if _LIMIT else None


def set_statement_limit(interpreter: int, limit: int) -> bool:
    """Let a query on `interpreter` run `limit` statements; False where that cannot be set here."""
    if _LIMIT is None:
        return False
    _LIMIT[1](interpreter, limit)
    return True


def set_object(interpreter: int, items: Sequence[tuple[int, int]]) -> None:
    """Set as the input of `interpreter` (its address) the object whose items are the top nodes of
    `items`' input handles, each a (key handle, value handle) pair. The handles keep their nodes
    until freed; the input holds references of its own."""
    lib = _require()
    pairs = [lib.adopted("ObjectItem", [lib.new("Term", [_top(lib, key)]), lib.new("Term", [_top(lib, value)])])
             for key, value in items]
    _set(lib, interpreter, lib.adopted("Term", [lib.adopted("Object", pairs)]))


def building_blocks() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The addresses `_handover.Tape` makes nodes with: its functions, and the TokenDef
    of each kind of node it makes."""
    lib = _require()
    return (tuple(lib.addresses[name] for name in _BUILT_FROM),
            tuple(lib.tokens[name].value for name in _BUILT_OF))


def set_term(interpreter: int, term: int) -> None:
    """Set `Input << term` as the input of `interpreter`; the caller's one reference to `term`
    (a `Term` node's address) is passed on."""
    _set(_require(), interpreter, term)


def set_value(interpreter: int, handle: int) -> None:
    """Set the top node of the input handle `handle` as the input of `interpreter`."""
    lib = _require()
    _set(lib, interpreter, lib.new("Term", [_top(lib, handle)]))


def _set(lib: _Library, interpreter: int, term: int) -> None:
    """Set `Input << term` (the caller's reference to `term` passed on) as the input."""
    root = lib.adopted("Input", [term])
    result, holder = _P(0), _P(root)
    try:
        lib.set_input(ctypes.addressof(result), interpreter, ctypes.addressof(holder))
    finally:
        lib.release(root)
    if result.value:
        lib.release(result.value)
        raise RegoError("the engine refused the input")


def _top(lib: _Library, handle: int) -> int:
    node = lib.node(handle)
    if not node:
        raise RegoError("Empty input")
    return node


def _require() -> _Library:
    if _LIBRARY is None:
        raise RuntimeError("rego-cpp's entry points are not available here: use regoSetInput")
    return _LIBRARY
