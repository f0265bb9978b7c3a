"""The on-disk cache of derived artefacts (the compiled grammar, compiled policy bundles, the
validated rule catalog and standards), so a pre-commit run does not rebuild them on every commit.

It lives in $AMISEC_CACHE_DIR, else $XDG_CACHE_HOME/amisec, else ~/.cache/amisec;
AMISEC_NO_CACHE=1 turns it off. Entries are keyed by a digest of everything they derive from and
written under a temporary name then renamed, so concurrent processes never read half a file. A
cache that cannot be read or written only costs time."""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, TypeVar

T = TypeVar("T")


def _pickle_dump(value: object, fh: BinaryIO) -> None:
    pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)


def cache_dir() -> Path | None:
    """Where cached artefacts are kept, or None when caching is off or the folder is not safe."""
    if os.environ.get("AMISEC_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("AMISEC_CACHE_DIR", "").strip()
    if explicit:
        folder = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
        folder = Path(base) / "amisec"
    return folder if _trusted(folder) else None


def _trusted(folder: Path) -> bool:
    """Cached entries decide results (and the grammar is unpickled), so the folder must be the
    user's own and writable by nobody else; a missing folder is created that way."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return False
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and not info.st_mode & 0o022


def store_atomically(path: Path, write: Callable[[str], None]) -> None:
    """Have `write(tmp_path)` produce the file, then move it into place in one step."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def memo(kind: str, inputs: Iterable[str | bytes], build: Callable[[], T],
         dump: Callable[[T, BinaryIO], None] = _pickle_dump, load: Callable[[BinaryIO], T] = pickle.load) -> T:
    """`build()`, kept on disk under a digest of everything it derives from (`inputs`: the texts
    it reads and the code that reads them), so a later process loads it instead (`dump` and
    `load` write and read it; pickle by default). Only a value is kept: a `build` that raises
    raises again next time."""
    digest = hashlib.sha256(kind.encode("utf-8") + b"\0")
    for item in inputs:
        data = item.encode("utf-8") if isinstance(item, str) else item
        digest.update(b"%d\0%s" % (len(data), data))
    folder = cache_dir()
    path = folder / f"{kind}-{digest.hexdigest()[:40]}.bin" if folder else None
    if path is not None:
        try:
            with open(path, "rb") as fh:
                return load(fh)
        except Exception:  # noqa: BLE001 — missing or damaged: build it afresh
            pass
    value = build()
    if path is not None:
        try:
            store_atomically(path, lambda tmp: _write(tmp, value, dump))
        except (OSError, pickle.PicklingError):
            pass  # a read-only home: build again next time
    return value


def _write(path: str, value: T, dump: Callable[[T, BinaryIO], None]) -> None:
    with open(path, "wb") as fh:
        dump(value, fh)
