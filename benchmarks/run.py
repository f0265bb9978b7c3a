"""Benchmark runner: per-stage times and peak memory of `amisec check` on generated deployments.

    python -m benchmarks.run                      # sizes 1000 10000, 5 runs each
    python -m benchmarks.run --sizes 1000 10000 100000 --runs 5
    python -m benchmarks.run --jobs 1             # parse and evaluate in one process
    python -m benchmarks.run --memory 2000        # run as in a machine or container of 2000 MB
    python -m benchmarks.run --startup            # cold `amisec check deployments/riverside.ami`
    python -m benchmarks.run --opa [BINARY]       # also OPA's evaluation of the same input (`opa eval`)
    python -m benchmarks.run --sizes 10000 --save-costs   # refresh the shipped cost profile

Stages: read the file; parse it into the model (in pieces, on `--jobs` processes); compile it
(resolve references, emit the input document); validate the input against the schema; hand it over
to the embedded engine; evaluate (on `--jobs` processes, fewer, or in groups of packages handed
over one after another when the memory available would not hold the inputs: the `plan` column says
processes × most groups in one); render (join the engine's results into the report, write it as
table and JSON); a second table holds the parts of compile and render. Each run is a fresh process
with the garbage collector as the `amisec` program has it, so memory and caches are per run, and
the sizes take turns (a run of each, then the next run of each), so a machine slower for a while
slows every size alike. `peak MB` is the most anonymous
memory the machine had in use during the run beyond what it had before (sampled: a page a forked
child shares with its parent counts once; run the benchmark on an otherwise idle machine); `RSS sum
MB`, the parent's and its largest child's maximum resident sizes added, counts shared pages twice.
The table shows the median of the runs per stage, their sum (`stages s`), the run's whole wall time
with start-up, imports and loading the policies (`wall s`, what `amisec check` costs end to end)
and the stages amisec does when OPA evaluates (`amisec side s`: all but the hand-over and
evaluation). With `--opa`, the same compiled input and policies are also evaluated by `opa eval
--metrics` (an `opa` binary on PATH, or the one named): OPA's own query evaluation time, the whole
command's wall time, the embedded engine's evaluation as a multiple of OPA's, and whether both
engines gave the same rule results. With `--save-costs`, the median of what each run of the largest
size recorded (each package's seconds, the hand-over's seconds per value) becomes the profile that
balances a first run on a machine with no costs of its own (`engine/measured_costs.json`). Last,
a reading of the machine's speed before and after the runs (`sum(range(10**8))`), so that figures
taken on different days can be told apart. Figures come from runs, never from assertions in the
test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .machine import PeakMemory, machine_reading, reading_line
from .stages import SPLIT_PARTS, STAGES, measure
from .verdicts import STARTUP_S, parts_table, ratios, table, targets

if TYPE_CHECKING:  # imported where used: the runner starts before amisec is loaded
    from amisec.engine.shares import Costs

ROOT = Path(__file__).resolve().parent.parent


def _one_run(path: str, jobs: int | None, memory_mb: int | None, opa: str | None = None) -> dict[str, float]:
    extra = (["--jobs", str(jobs)] if jobs else []) + (["--memory", str(memory_mb)] if memory_mb else [])
    extra += ["--opa", opa] if opa else []
    started = time.perf_counter()
    sampler = PeakMemory()
    with subprocess.Popen([sys.executable, "-m", "benchmarks.run", "--measure", path, *extra], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        out, err = run.communicate()
        wall = time.perf_counter() - started
        peak = sampler.stop()
    if run.returncode:
        sys.exit(f"the run on {path} failed (exit code {run.returncode}):\n{err.rstrip()}")
    row = json.loads(out.strip().splitlines()[-1])
    row["peak_mb"] = peak / 2**20
    # the whole process, as a user's `amisec check` would take it: start-up, imports, loading the
    # policies and every stage; OPA's evaluation, when asked for, is not amisec's time
    row["wall"] = wall - row.get("opa_wall", 0.0)
    return row


def _recorded_costs() -> Costs | None:
    """The costs the last run recorded for the built-in policies (None if it recorded none)."""
    from amisec.engine import shares
    from amisec.engine.embedded import policies_key
    from amisec.policies.catalog import load_catalog

    return shares.saved(policies_key(load_catalog().files))


def median_costs(recorded: list[Costs]) -> Costs:
    """Per package and for the hand-over, the median of several runs' costs."""
    from amisec.engine.shares import Costs

    packages = recorded[0].seconds
    return Costs({p: statistics.median(c.seconds[p] for c in recorded) for p in packages},
                 statistics.median(c.per_value for c in recorded))


def startup(runs: int) -> None:
    """Median wall time of a cold `amisec check` on riverside, the price of a pre-commit hook."""
    cmd = [sys.executable, "-m", "amisec.cli", "check", "deployments/riverside.ami", "-f", "lines"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True)  # the first run fills the cache
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True)
        walls.append(time.perf_counter() - started)
    median = statistics.median(walls)
    print(f"cold `amisec check deployments/riverside.ami`: median {median:.3f} s over {runs} runs "
          f"(min {min(walls):.3f}, max {max(walls):.3f}); target ≤ {STARTUP_S} s: {'met' if median <= STARTUP_S else 'MISSED'}")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("(PYTHONDONTWRITEBYTECODE is set: Python compiles every module it imports on each start)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, help="processes to parse and evaluate in (default: the CPUs available, at most 4)")
    ap.add_argument("--memory", type=int, metavar="MB",
                    help="plan evaluation as in a machine or container of this many MB (default: what the machine has left)")
    ap.add_argument("--startup", action="store_true")
    ap.add_argument("--opa", nargs="?", const="opa", metavar="BINARY",
                    help="also time `opa eval` of the same input and policies (default binary: opa on PATH)")
    ap.add_argument("--save-costs", action="store_true",
                    help="write the median costs the runs of the largest size recorded as the profile "
                         "that balances a first run (engine/measured_costs.json)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.save_costs and os.environ.get("AMISEC_NO_CACHE", "").strip() not in ("", "0"):
        ap.error("--save-costs reads the costs each run records in the cache: unset AMISEC_NO_CACHE")
    if args.opa and shutil.which(args.opa) is None:
        ap.error(f"--opa: no binary {args.opa!r} (install Open Policy Agent, or name its path)")
    if args.measure:
        from amisec.gc_pause import freeze_after_bulk_work

        # the collector as the `amisec` program has it (`cli.run`): paused in bulk work (parse,
        # emit, hand-over, joining results, a forked process's value), what that leaves frozen
        freeze_after_bulk_work()
        print(json.dumps(measure(args.measure, args.jobs, args.memory, args.opa)), flush=True)
        os._exit(0)  # as `amisec` ends: without tearing down the engine's input (`cli.run`)
    if args.startup:
        startup(args.runs)
        return
    from benchmarks.generate import generate

    recorded = []
    before = machine_reading()
    runs: dict[int, list[dict[str, float]]] = {size: [] for size in args.sizes}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {size: os.path.join(tmp, f"synthetic-{size}.ami") for size in args.sizes}
        for size, path in paths.items():
            Path(path).write_text(generate(size), encoding="utf-8")
        # the sizes take turns, so that a machine slower for a while slows each of them alike
        # and the ratios between sizes stay what the code makes them
        for turn in range(args.runs):
            for size, path in paths.items():
                runs[size].append(_one_run(path, args.jobs, args.memory, args.opa))
                if args.save_costs and size == max(args.sizes):
                    recorded.append(_recorded_costs())
            print(f"run {turn + 1} of {args.runs} done for every size", file=sys.stderr)
    after = machine_reading()
    by_size = {size: {k: statistics.median(r[k] for r in of_size) for k in of_size[0]} for size, of_size in runs.items()}
    rows = list(by_size.values())
    print(table(rows))
    print(f"\nparts of compile and render:\n{parts_table(rows)}")
    if args.save_costs:
        _save_costs(recorded)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"\nt({int(last['elements'])}) / t({int(first['elements'])}), size ratio "
              f"{last['elements'] / first['elements']:.0f}: per stage {ratios(first, last, STAGES)}; "
              f"parts {ratios(first, last, SPLIT_PARTS)}")
    verdicts = targets(by_size)
    if verdicts:
        print("\ntargets (on a 2-core machine):\n" + "\n".join(f"- {line}" for line in verdicts))
    print(f"\n{reading_line(before, after)}")


def _save_costs(recorded: list[Costs | None]) -> None:
    from amisec.engine import shares

    if not recorded or None in recorded:
        sys.exit("--save-costs: a run recorded no costs (a plan under the size that is shared out, "
                 "or a cache folder amisec does not trust)")
    shares.write_profile(shares.SHIPPED, median_costs(recorded))
    print(f"\ncosts of {len(recorded)} runs (medians) written to {shares.SHIPPED}")


if __name__ == "__main__":
    main()
