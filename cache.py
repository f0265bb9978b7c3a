"""The on-disk cache of derived artefacts (the compiled grammar, compiled policy bundles), so a
pre-commit run does not rebuild them on every commit.

It lives in $AMISEC_CACHE_DIR, else $XDG_CACHE_HOME/amisec, else ~/.cache/amisec;
AMISEC_NO_CACHE=1 turns it off. Entries are keyed by a digest of everything they derive from and
written under a temporary name then renamed, so concurrent processes never read half a file. A
cache that cannot be read or written only costs time."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def cache_dir() -> Path | None:
    """Where cached artefacts are kept, or None when caching is off."""
    if os.environ.get("AMISEC_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("AMISEC_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "amisec"


def store_atomically(path: Path, write: Callable[[str], None]) -> None:
    """Have `write(tmp_path)` produce the file, then move it into place in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
