"""The wheel that `make wheel` repairs, as a student's laptop meets it: installed with pip
into a fresh venv that holds no build tools, run where the system's libsleef cannot be
loaded (bind-mounted over inside a mount namespace of its own), so that only the copy in
the wheel can serve.  And the sdist, built where SLEEF is missing, stops with nnk's
message.  `make test-wheel` runs this with NNK_WHEEL and NNK_SDIST set; `make test`
leaves it out (tests/conftest.py)."""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

WHEEL = Path(os.environ["NNK_WHEEL"]).resolve()
SDIST = Path(os.environ["NNK_SDIST"]).resolve()
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# The tools of a build; none may be in the fresh venv.
BUILD_TOOLS = ("mesonpy", "meson", "ninja", "setuptools", "Cython", "pip", "wheel", "build")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def sleef_files():
    """Every file through which a loader or a build could reach the system's SLEEF: the
    libraries (by the loader's cache and in pkg-config's libdir), the header, the .pc."""
    libs = set()
    for line in run(["/sbin/ldconfig", "-p"]).stdout.splitlines():
        m = re.search(r"^\s*libsleef\.so\S*\s.*=>\s*(\S+)", line)
        if m:
            libs.add(os.path.realpath(m.group(1)))
    pc = run(["pkg-config", "--path", "sleef"]).stdout.strip()
    libdir = run(["pkg-config", "--variable=libdir", "sleef"]).stdout.strip()
    incdir = run(["pkg-config", "--variable=includedir", "sleef"]).stdout.strip()
    if libdir:
        libs |= {os.path.realpath(p) for p in Path(libdir).glob("libsleef.so*")}
    headers = {str(p) for d in {incdir, "/usr/include", "/usr/local/include"} if d
               for p in Path(d).glob("**/sleef.h")}
    return sorted(libs), sorted(headers), [pc] if pc else []


def hidden(cmd, cwd, stub):
    """Runs cmd in a mount namespace where the system's SLEEF files are bind-mounted over:
    each library and the .pc with an empty file (the loader says "file too short"), each
    header with `stub` (an #error)."""
    libs, headers, pcs = sleef_files()
    assert libs, "the system's libsleef was not found: nothing to hide"
    mounts = [f"mount --bind /dev/null '{f}'" for f in libs + pcs]
    mounts += [f"mount --bind '{stub}' '{h}'" for h in headers]
    script = " && ".join(mounts + ['exec "$@"'])
    userns = [] if os.geteuid() == 0 else ["--map-root-user"]
    return run(["unshare", "--mount", *userns, "sh", "-c", script, "sh", *cmd], cwd=cwd)


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    f = tmp_path_factory.mktemp("stub") / "sleef.h"
    f.write_text("#error SLEEF hidden by tests/wheel\n")
    return f


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A venv with nothing but the wheel and NumPy, both installed as binaries."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    r = run([base, "-m", "venv", "--without-pip", str(venv)])
    assert r.returncode == 0, r.stderr
    py = venv / "bin" / "python"
    r = run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
             "--only-binary=:all:", str(WHEEL), "numpy"])
    assert r.returncode == 0, r.stdout + r.stderr
    return py


def test_the_wheel_carries_libsleef_and_needs_nothing_outside_the_manylinux_policy():
    names = zipfile.ZipFile(WHEEL).namelist()
    bundled = [n for n in names if n.startswith("nnk.libs/libsleef")]
    assert bundled, names
    r = run([sys.executable, "-m", "auditwheel", "show", str(WHEEL)],
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    tag = re.search(r'consistent with the following platform tag: "(manylinux_\d+_\d+_\w+)"', text)
    assert tag, text
    assert tag.group(1) in WHEEL.name  # the wheel is tagged with the glibc it needs
    assert "libsleef" not in text      # nothing of SLEEF's left to the system


def test_the_fresh_venv_has_no_build_tools(fresh_venv):
    probe = ("import importlib.util, json; print(json.dumps("
             f"[m for m in {BUILD_TOOLS!r} if importlib.util.find_spec(m)]))")
    r = run([str(fresh_venv), "-I", "-c", probe])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_installed_wheel_runs_with_the_system_libsleef_hidden(fresh_venv, stub, tmp_path):
    # -I: the venv's nnk, never the source tree's; run from an empty directory
    r = hidden([str(fresh_venv), "-I", str(HERE / "check_installed.py")], tmp_path, stub)
    assert r.returncode == 0, r.stdout + r.stderr
    facts = json.loads(r.stdout)
    site = Path(facts["prefix"])
    # the system's copy really is out of reach, and the one mapped is the wheel's
    assert facts["system_sleef_error"] is not None
    assert facts["sleef_mapped"], "no libsleef in the process"
    for path in facts["sleef_mapped"]:
        assert Path(path).parent.name == "nnk.libs" and site in Path(path).parents, path
    assert site in Path(facts["nnk_file"]).parents
    assert facts["version"] in WHEEL.name
    assert set(facts["isas"]) >= {"scalar"} and len(facts["isas"]) >= 2  # scalar + SIMD
    for isa, res in facts["results"].items():
        # week 4 sheet, exercise 1: z = W x + b = (1*2 - 2*-1 + 0, 3*2 + 1*-1 - 2) = (4, 3)
        assert res["z"] == [4.0, 3.0], isa
        assert res["relu"] == [4.0, 3.0], isa
        assert res["tanh"] == pytest.approx([math.tanh(4.0), math.tanh(3.0)], rel=1e-15), isa
        assert res["exp1"] == pytest.approx(math.e, rel=1e-15), isa          # nnk's own exp
        assert res["log2"] == pytest.approx(math.log(2.0), rel=1e-15), isa  # SLEEF's log
        for dt, err in res["gemm_rel_err"].items():
            assert err < (1e-5 if dt == "float32" else 1e-13), (isa, dt, err)


def test_the_sdist_without_sleef_stops_with_the_message(stub, tmp_path):
    build = tmp_path / "build"
    r = hidden([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "-w", str(build), str(SDIST)], tmp_path, stub)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "nnk needs SLEEF" in out and "apt-get install libsleef-dev" in out, out[-3000:]
    assert not list(build.glob("*.whl"))


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_one_version_in_one_place():
    text = (ROOT / "meson.build").read_text()
    version = re.search(r"project\('nnk',.*?version: '([^']+)'", text, re.S).group(1)
    assert f"nnk-{version}-" in WHEEL.name and SDIST.name == f"nnk-{version}.tar.gz"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject
    tracked = run(["git", "ls-files", "*.py", "*.toml", "*.c", "*.h"], cwd=ROOT).stdout.split()
    repeats = [f for f in tracked if version in (ROOT / f).read_text(errors="replace")
               and "tests/wheel" not in f]
    assert repeats == [], repeats
