"""The OPA command-line engine: `opa eval` on the bundle `amisec bundle` writes.

Needs an `opa` binary on PATH (or given). The bundle is written once per engine into a private
temporary directory; each evaluation writes its input beside it and runs

    opa eval --bundle amisec-bundle.tar.gz --input input-N.json --format json data.amisec.rules

A non-zero exit, an `errors` document, an undefined value or a timeout is an EngineError.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import weakref
from typing import Any, Mapping, Sequence

from amisec.gc_pause import gc_paused

from . import PolicyModule
from .bundle import module_entry, standards_data, write_bundle
from .errors import EngineError

DEFAULT_TIMEOUT = 30.0
QUERY = "data.amisec.rules"
BUNDLE_NAME = "amisec-bundle.tar.gz"
_VERSION_TIMEOUT = 10.0


def eval_command(binary: str, bundle: str, input_file: str, metrics: bool = False) -> list[str]:
    """The argv of one evaluation; with `metrics`, OPA also reports its timers (`metrics`)."""
    return [binary, "eval", "--bundle", bundle, "--input", input_file, "--format", "json",
            *(["--metrics"] if metrics else []), QUERY]


def _problems(errors: list[Any], paths: Mapping[str, str]) -> tuple[str, ...]:
    """`file:line:col: message` per OPA error; bundle entry names mapped back to module paths."""
    problems = []
    for error in errors:
        if not isinstance(error, dict):
            problems.append(str(error))
            continue
        location = error.get("location") if isinstance(error.get("location"), dict) else {}
        file_name = str(location.get("file", ""))
        shown = next((path for entry, path in paths.items() if file_name.endswith(entry)), file_name)
        where = f"{shown}:{location.get('row', 0)}:{location.get('col', 0)}: " if shown else ""
        problems.append(f"{where}{error.get('message', 'error')}")
    return tuple(problems)


def read_eval_output(stdout: str, stderr: str, returncode: int, paths: Mapping[str, str]) -> dict:
    """The value of `data.amisec.rules` from `opa eval --format json`; EngineError otherwise.

    `paths` maps bundle entry names to the modules' own paths, for error positions.
    """
    try:
        doc = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("errors"), list) and doc["errors"]:
        raise EngineError("opa eval failed", _problems(doc["errors"], paths))
    if returncode != 0 or not isinstance(doc, dict):
        detail = (stderr.strip() or stdout.strip() or f"exit status {returncode}").splitlines()
        raise EngineError(f"opa eval failed (exit status {returncode})", tuple(detail[:20]))
    rows = doc.get("result")
    if not rows:
        raise EngineError("opa eval found no amisec policies: data.amisec.rules is undefined")
    try:
        value = rows[0]["expressions"][0]["value"]
    except (KeyError, IndexError, TypeError):
        raise EngineError("opa eval printed a document that is not a query result") from None
    if not isinstance(value, dict):
        raise EngineError(f"data.amisec.rules is a {type(value).__name__}, not an object of rule families")
    return value


def opa_version(binary: str) -> str:
    """`OPA 1.7.1` from `opa version`, or `OPA (unknown version)`."""
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=_VERSION_TIMEOUT, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "OPA (unknown version)"
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "version" and value.strip():
            return f"OPA {value.strip()}"
    return "OPA (unknown version)"


class OpaCliEngine:
    """Evaluates the policies with the `opa` binary, one process per evaluation."""

    name = "opa-cli"

    def __init__(self, modules: Sequence[PolicyModule], timeout: float = DEFAULT_TIMEOUT, binary: str | None = None) -> None:
        if not modules:
            raise EngineError("no policy modules to evaluate")
        if timeout <= 0:
            raise ValueError("--timeout must be a positive number of seconds")
        found = binary or shutil.which("opa")
        if not found:
            raise EngineError("no opa binary on PATH: install Open Policy Agent, or use --engine embedded")
        self._binary = found
        self._timeout = float(timeout)
        self._paths = {module_entry(m): m.path for m in modules}
        self._dir = tempfile.mkdtemp(prefix="amisec-opa-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)
        self._bundle = os.path.join(self._dir, BUNDLE_NAME)
        write_bundle(self._bundle, modules, standards_data())
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self.version = opa_version(found)

    def _input_file(self, input_doc: Mapping[str, Any]) -> str:
        with self._lock:
            number = next(self._counter)
        path = os.path.join(self._dir, f"input-{number}.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(input_doc, fh, ensure_ascii=False)
        return path

    def evaluate(self, input_doc: Mapping[str, Any]) -> dict:
        """The value of `data.amisec.rules` for this input, as `opa eval` computes it."""
        input_file = self._input_file(input_doc)
        try:
            done = subprocess.run(
                eval_command(self._binary, self._bundle, input_file),
                capture_output=True, text=True, timeout=self._timeout, check=False,
            )
        except subprocess.TimeoutExpired:
            raise EngineError(f"opa eval did not finish within {self._timeout:g} s: raise --timeout") from None
        except OSError as err:
            raise EngineError(f"cannot run {self._binary}: {err.strerror or err}") from None
        finally:
            os.unlink(input_file)
        with gc_paused():  # a large answer is millions of acyclic objects: a collection only rescans them
            return read_eval_output(done.stdout, done.stderr, done.returncode, self._paths)

    def close(self) -> None:
        """Remove the temporary bundle now rather than at exit."""
        self._cleanup()
