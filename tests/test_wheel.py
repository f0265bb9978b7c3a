"""The built wheel works on its own: it installs only the `amisec` package, carries its package data
(grammar, example deployments), and its `amisec` command compiles a packaged example from outside
any checkout.

The source tree is copied first so the build leaves no `build/` or `*.egg-info` in the checkout.
The fresh venv borrows the runtime dependencies from the environment running the tests (a `.pth`
naming its site-packages: `--system-site-packages` would miss them when the tests themselves run
in a venv, as in CI); the wheel is installed with --no-deps, and the test checks that the venv's
own copy of `amisec` is the one imported, not the checkout's.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = ("tests", "build", "dist", "*.egg-info", "__pycache__", ".*", "benchmarks")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], check=False, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*SKIP))
    built = run(sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", src)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (found,) = (work / "dist").glob("amisec-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path) -> Path:
    env = wheel.parent.parent / "venv"
    made = run(sys.executable, "-m", "venv", env)
    assert made.returncode == 0, made.stderr
    # Plain directory entries: the .pth files inside them (the checkout's editable install) are
    # not processed, and the venv's own site-packages comes first on sys.path.
    here = [sysconfig.get_paths()[k] for k in ("purelib", "platlib")]
    here += [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    paths = dict.fromkeys(here)
    (site_packages(env) / "runtime_deps.pth").write_text("\n".join(paths) + "\n", encoding="utf-8")
    return env


def _dist_info(wheel: Path) -> str:
    """`amisec-0.1.0.dist-info` from `amisec-0.1.0-<python>-<abi>-<platform>.whl`."""
    return "-".join(wheel.name.split("-")[:2]) + ".dist-info"


def site_packages(env: Path) -> Path:
    (found,) = env.glob("lib/python*/site-packages")
    return found


def test_wheel_holds_only_the_amisec_package_and_its_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top_level = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        if top_level:
            assert zf.read(top_level[0]).decode().split() == ["amisec"]
    assert {n.split("/")[0] for n in names} == {"amisec", _dist_info(wheel)}
    for needed in ("amisec/cli.py", "amisec/compiler/grammar.lark", "amisec/deployments/riverside.ami",
                   "amisec/review/templates/starter.ami"):
        assert needed in names
    shipped = {Path(n).name for n in names if n.startswith("amisec/deployments/") and n.endswith(".ami")}
    assert shipped == {p.name for p in (ROOT / "deployments").glob("*.ami")}
    assert not [n for n in names if n.startswith("amisec/tests/")]
    if shutil.which("cc") or shutil.which("gcc"):  # the optional hand-over extension was built
        assert [n for n in names if n.startswith("amisec/engine/_handover.") and n.endswith((".so", ".pyd"))]


def test_installed_wheel_compiles_a_packaged_example(wheel: Path, venv: Path, tmp_path: Path) -> None:
    before = {p.name for p in site_packages(venv).iterdir()}
    installed = run(venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel)
    assert installed.returncode == 0, installed.stderr
    added = {p.name for p in site_packages(venv).iterdir()} - before
    assert added == {"amisec", _dist_info(wheel)}

    # Run from an unrelated directory so nothing can come from the checkout.
    locate = run(
        venv / "bin" / "python",
        "-c",
        "import amisec, importlib.resources as r; print(amisec.__file__); print(r.files('amisec.deployments') / 'riverside.ami')",
        cwd=tmp_path,
    )
    assert locate.returncode == 0, locate.stderr
    module_file, example = locate.stdout.split()
    assert Path(module_file).is_relative_to(site_packages(venv))
    assert Path(example).is_relative_to(site_packages(venv))

    compiled = run(venv / "bin" / "amisec", "compile", example, cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    doc = json.loads(compiled.stdout)
    assert doc["schema_version"] == "1.0"
    assert doc["deployment"]["utility"] == "riverside"
    assert [d["id"] for d in doc["devices"]][:2] == ["meters", "gas_modules"]

    broken = tmp_path / "broken.ami"
    broken.write_text('deployment "X" { utility nobody }\n', encoding="utf-8")
    failed = run(venv / "bin" / "amisec", "compile", broken, cwd=tmp_path)
    assert failed.returncode == 2
    assert f"{broken}:1:26: error: unknown party 'nobody'" in failed.stderr
    assert "Traceback" not in failed.stderr

    started = run(venv / "bin" / "amisec", "init", "north_valley", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    checked = run(venv / "bin" / "amisec", "check", "north_valley.ami", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
