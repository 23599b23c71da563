"""The build itself: a compile error must fail make, whatever module an earlier build
left behind (otherwise `make test` would test stale code)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import nnk

ROOT = Path(__file__).resolve().parents[1]

# One ISA's run of the suite is enough for a test of the build (make test runs it per ISA).
once = pytest.mark.skipif(nnk.get_isa() != nnk.cpu_info()["best"] or "NNK_SANITIZED" in os.environ,
                          reason="build tests run once, in the best ISA's pass")


@once
@pytest.mark.skipif(shutil.which("make") is None or not (ROOT / ".git").exists(),
                    reason="needs make and a git checkout")
def test_a_compile_error_fails_make_despite_a_stale_module(tmp_path):
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for f in files:
        dest = tmp_path / f
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest)  # mtimes kept: make sees set-up as done
    for so in (ROOT / "nnk").glob("_C*.so"):  # the module of an earlier, good build
        shutil.copy2(so, tmp_path / "nnk" / so.name)
    gemm = tmp_path / "csrc" / "gemm" / "gemm.c"
    gemm.write_text(gemm.read_text() + "\nthis is not C;\n")
    venv = ROOT / ".venv"
    r = subprocess.run(["make", "all", f"VENV={venv}"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode != 0, r.stdout[-2000:]
    assert "gemm.c" in r.stdout + r.stderr and "error" in (r.stdout + r.stderr).lower()
    assert not (tmp_path / "build" / ".ext-built").exists()


def test_every_python_source_of_the_package_is_installed():
    """meson.build lists the package's files one by one: a module missing there works from
    the source tree and is absent from the wheel."""
    root = Path(__file__).resolve().parents[1]
    listed = set(re.findall(r"'(nnk/[^']+)'", (root / "meson.build").read_text()))
    sources = {str(p.relative_to(root)) for p in (root / "nnk").rglob("*.py")}
    assert sources - listed == set()
