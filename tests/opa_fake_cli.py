"""A stand-in for the `opa` binary: `opa version` and `opa eval --bundle B --input I --format json
[--metrics] Q`.

It reads the bundle tarball, evaluates with the embedded engine and prints what `opa eval`
prints, so the OPA CLI engine's subprocess path runs for real. FAKE_OPA_MODE makes it
misbehave: `sleep`, `errors`, `crash`, `undefined`. A wiring check, not parity with OPA.
"""
from __future__ import annotations

import json
import os
import sys
import tarfile
import time


class _Module:
    def __init__(self, path: str, source: str) -> None:
        self.path, self.source = path, source


def _arg(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def _eval(args: list[str]) -> int:
    mode = os.environ.get("FAKE_OPA_MODE", "")
    bundle, input_file, query = _arg(args, "--bundle"), _arg(args, "--input"), args[-1]
    if mode == "sleep":
        time.sleep(10)
    if mode == "crash":
        print("panic: runtime error: invalid memory address", file=sys.stderr)
        return 2
    if mode == "errors":
        location = {"file": f"{bundle}/amisec/rules/ownership/ownership.rego", "row": 3, "col": 4}
        print(json.dumps({"errors": [{"message": "var x is unsafe", "code": "rego_unsafe_var_error", "location": location}]}))
        return 1
    if mode == "undefined":
        print("{}")
        return 0
    from amisec.engine.embedded import EmbeddedEngine

    with tarfile.open(bundle, "r:gz") as tar:
        modules = [_Module(m.name, tar.extractfile(m).read().decode()) for m in tar.getmembers() if m.name.endswith(".rego")]
    with open(input_file, encoding="utf-8") as fh:
        doc = json.load(fh)
    started = time.perf_counter_ns()
    value = EmbeddedEngine(modules).evaluate(doc)
    out = {"result": [{"expressions": [{"value": value, "text": query, "location": {"row": 1, "col": 1}}]}]}
    if "--metrics" in args:  # the timer OPA names so, measured here around the evaluation
        out["metrics"] = {"timer_rego_query_eval_ns": time.perf_counter_ns() - started}
    print(json.dumps(out))
    return 0


def main(args: list[str]) -> int:
    if args[:1] == ["version"]:
        print("Version: 1.99.0-fake\nBuild Commit: none\nGo Version: none")
        return 0
    if args[:1] == ["eval"]:
        return _eval(args[1:])
    print(f"unknown command {args!r}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
