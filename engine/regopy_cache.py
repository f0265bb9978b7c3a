"""A disk cache of compiled regopy bundles, so a pre-commit run does not recompile the policies.

Adding the modules and building the query costs ~0.3 s; loading the saved binary bundle ~10 ms.
The key covers the regopy version, the query and every module's name and text, so any change
compiles afresh. The cache directory and its rules are those of `amisec.cache`.
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Sequence

import regopy
from regopy import BundleFormat, Interpreter, RegoError

from ..cache import cache_dir, store_atomically
from . import PolicyModule

_MAGIC = b"REGOBUND"
_KEEP = 8


def bundle_key(query: str, modules: Sequence[PolicyModule]) -> str:
    """sha256 over the regopy version, the query and each module's name and text."""
    digest = hashlib.sha256(f"regopy {regopy.__version__}\0{query}\0".encode("utf-8"))
    for module in modules:
        name, source = module.path.encode("utf-8"), module.source.encode("utf-8")
        digest.update(b"%d\0%s%d\0%s" % (len(name), name, len(source), source))
    return digest.hexdigest()


def load(interpreter: Interpreter, key: str) -> regopy.Bundle | None:
    """The cached bundle for `key`, or None when there is none or it is damaged."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.rbb"
    try:
        # rego-cpp prints to stdout when the header is wrong: check it before handing the file over
        with open(path, "rb") as fh:
            if fh.read(len(_MAGIC)) != _MAGIC:
                return None
        bundle = interpreter.load_bundle(str(path), BundleFormat.Binary)
        os.utime(path)  # recently used bundles survive pruning
    except (RegoError, OSError):
        return None
    return bundle if bundle.ok() else None


def _prune(folder: Path) -> None:
    """Keep only the most recently used bundles (every policy edit leaves one behind), and drop
    temporary files a killed process left."""
    bundles = sorted(folder.glob("*.rbb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in bundles[_KEEP:]:
        old.unlink(missing_ok=True)
    stale = time.time() - 3600
    for tmp in folder.glob(".*.tmp"):
        if tmp.stat().st_mtime < stale:
            tmp.unlink(missing_ok=True)


def store(interpreter: Interpreter, bundle: regopy.Bundle, key: str) -> None:
    """Save the bundle under `key`; written to a temporary name and renamed, so readers never
    see half a file."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        store_atomically(folder / f"{key}.rbb", lambda tmp: interpreter.save_bundle(tmp, bundle, BundleFormat.Binary))
        _prune(folder)
    except (RegoError, OSError):
        pass  # a read-only home or a full disk: compile next time as well
