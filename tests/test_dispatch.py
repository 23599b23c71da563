"""Runtime dispatch: detection, NNK_ISA, set_isa / use_isa, cpu_info, threads."""
import os
import subprocess
import sys

import numpy as np
import pytest

import nnk


def run_python(code, **env):
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full,
                          timeout=60)


def test_cpu_info_contract():
    info = nnk.cpu_info()
    for key in ("arch", "isa", "available", "features", "sleef", "threads"):
        assert key in info
    assert info["isa"] in info["available"]
    assert "scalar" in info["available"]
    assert isinstance(info["available"], tuple) and isinstance(info["features"], tuple)
    assert info["sleef"].count(".") == 2
    assert info["threads"] == nnk.get_num_threads() >= 1


def test_best_isa_matches_cpu_features():
    info = nnk.cpu_info()
    if info["arch"] == "x86_64":
        has = set(info["features"]) >= {"avx2", "fma", "ymm_os"}
        has512 = has and set(info["features"]) >= {"avx512f", "zmm_os"}
        assert ("avx2" in info["available"]) == has
        assert ("avx512" in info["available"]) == has512
        assert info["best"] == ("avx512" if has512 else "avx2" if has else "scalar")
    elif info["arch"] == "aarch64":
        assert info["best"] == "neon"


def test_env_selects_scalar():
    r = run_python("import nnk; print(nnk.get_isa())", NNK_ISA="scalar")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "scalar"


def test_env_auto_picks_best():
    r = run_python("import nnk; print(nnk.get_isa(), nnk.cpu_info()['best'])", NNK_ISA="auto")
    assert r.returncode == 0, r.stderr
    got, best = r.stdout.split()
    assert got == best


def test_env_unknown_isa_fails_clearly():
    r = run_python("import nnk", NNK_ISA="sse9")
    assert r.returncode != 0
    assert "ValueError" in r.stderr and "sse9" in r.stderr


def test_set_isa_unknown_name():
    with pytest.raises(ValueError, match="unknown ISA"):
        nnk.set_isa("avx9000")
    with pytest.raises(TypeError):
        nnk.set_isa(3)


def test_set_isa_unavailable_raises_runtime_error():
    missing = [isa for isa in ("avx2", "neon") if isa not in nnk.cpu_info()["available"]]
    assert missing, "a machine runs at most one of avx2 and neon"
    before = nnk.get_isa()
    with pytest.raises(RuntimeError, match=missing[0]):
        nnk.set_isa(missing[0])
    assert nnk.get_isa() == before


def test_use_isa_switches_and_restores():
    before = nnk.get_isa()
    with nnk.use_isa("scalar"):
        assert nnk.get_isa() == "scalar"
    assert nnk.get_isa() == before
    with pytest.raises(KeyError):
        with nnk.use_isa("scalar"):
            raise KeyError("inside")
    assert nnk.get_isa() == before


@pytest.mark.parametrize("isa", nnk.cpu_info()["available"])
def test_every_available_isa_computes(isa):
    x = np.array([-2.3, 5.7, -5.0])
    with nnk.use_isa(isa):
        assert nnk.get_isa() == isa
        np.testing.assert_array_equal(nnk.relu(x), [0.0, 5.7, 0.0])


def test_threads_setting(set_threads):
    set_threads(1)
    assert nnk.get_num_threads() == 1
    with pytest.raises(ValueError):
        set_threads(0)
    with pytest.raises(TypeError):
        set_threads(1.5)


def test_cli_info():
    r = subprocess.run([sys.executable, "-m", "nnk", "info"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert nnk.get_isa() in r.stdout and "SLEEF" in r.stdout and "threads" in r.stdout


def test_baseline_objects_have_no_avx_instructions():
    """Code that runs before detection is compiled without ISA flags: no YMM anywhere in it."""
    import glob
    import shutil
    from pathlib import Path

    if nnk.cpu_info()["arch"] != "x86_64" or not shutil.which("objdump"):
        pytest.skip("x86-64 with objdump only")
    # meson.build: libnnk's own objects and the binding's; the ISA libraries are apart
    root = Path(__file__).resolve().parent.parent / "build" / "meson"
    objs = sorted(glob.glob(str(root / "libnnk.a.p" / "*.o")) + glob.glob(str(root / "_C*.so.p" / "*.o")))
    if not objs:
        pytest.skip("no object files of an in-place build here")
    assert any("dispatch" in o for o in objs) and any("module" in o for o in objs)
    for obj in objs:
        asm = subprocess.run(["objdump", "-d", obj], capture_output=True, text=True).stdout
        assert "%ymm" not in asm, f"{obj} uses YMM registers but runs before dispatch"


@pytest.mark.parametrize("model, best, refused", [("Nehalem", "scalar", "avx2"),
                                                  ("Haswell", "avx2", "avx512")])
def test_older_cpu_imports_and_picks_what_it_runs(model, best, refused):
    """Under qemu's Nehalem (SSE4.2, no AVX) nnk imports, picks scalar and computes right;
    under its Haswell (AVX2 + FMA, no AVX-512) it picks avx2."""
    import shutil

    qemu = shutil.which("qemu-x86_64")
    if os.environ.get("NNK_SANITIZED"):
        pytest.skip("sanitizer runtimes preloaded into qemu itself would not be testing nnk")
    if nnk.cpu_info()["arch"] != "x86_64" or qemu is None:
        pytest.skip("needs x86-64 and qemu-x86_64 (Debian qemu-user)")
    code = (
        "import nnk, numpy as np\n"
        "a = np.arange(12.).reshape(3, 4); b = np.arange(8.).reshape(4, 2)\n"
        "assert np.array_equal(nnk.matmul(a, b), a @ b)\n"
        "a = np.arange(70 * 50.).reshape(70, 50) % 7; b = np.arange(50 * 40.).reshape(50, 40) % 5\n"
        "assert np.array_equal(nnk.matmul(a, b), a @ b)  # small integers: exact on any path\n"
        "assert np.array_equal(nnk.relu([-1., 2.]), [0., 2.])\n"
        f"try:\n    nnk.set_isa('{refused}')\nexcept RuntimeError as e:\n    print('refused', e)\n"
        "print(nnk.get_isa(), *nnk.cpu_info()['available'])\n"
    )
    r = subprocess.run([qemu, "-cpu", model, sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, NNK_ISA="auto"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    available = ["scalar", "avx2"][: ["scalar", "avx2"].index(best) + 1]
    assert lines[-1].split() == [best, *available]
    assert lines[0].startswith("refused") and refused in lines[0]


def test_no_unsafe_or_machine_specific_flags():
    """No fast-math (results), no -march=native (portability) anywhere in the build."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = [root / "meson.build", root / "Makefile", root / "pyproject.toml"]
    for f in files:
        text = f.read_text()
        for flag in ("-ffast-math", "-Ofast", "-march=native", "-funsafe-math"):
            assert flag not in text, f"{f.name} uses {flag}"


# ---- one ISA per thread ------------------------------------------------------------

def _isa_fingerprint():
    """A sum whose last bits depend on the ISA's accumulation order (lanes vs one chain)."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(10_001).astype(np.float32), rng.standard_normal(10_001).astype(np.float32)
    return lambda: nnk.mse_loss(a, b, reduction="sum")


@pytest.mark.skipif(len(nnk.cpu_info()["available"]) < 2, reason="needs a SIMD ISA beside scalar")
def test_use_isa_blocks_in_two_threads_do_not_see_each_other():
    import threading

    best, default = nnk.cpu_info()["best"], nnk.get_isa()
    fingerprint = _isa_fingerprint()
    with nnk.use_isa("scalar"):
        on_scalar = fingerprint()
    with nnk.use_isa(best):
        on_best = fingerprint()
    assert on_scalar != on_best, "the fingerprint cannot tell the ISAs apart"
    both_inside, scalar_left = threading.Barrier(2), threading.Event()
    seen = {}

    def scalar_block():
        with nnk.use_isa("scalar"):
            both_inside.wait(timeout=30)
            seen["scalar"] = [(nnk.get_isa(), fingerprint()) for _ in range(50)]
        scalar_left.set()

    def best_block():
        with nnk.use_isa(best):
            both_inside.wait(timeout=30)
            scalar_left.wait(timeout=30)  # the scalar block ends first
            seen["best"] = [(nnk.get_isa(), fingerprint()) for _ in range(50)]
        seen["best_after"] = nnk.get_isa()

    threads = [threading.Thread(target=scalar_block), threading.Thread(target=best_block)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(seen["scalar"]) == {("scalar", on_scalar)}
    assert set(seen["best"]) == {(best, on_best)}
    assert seen["best_after"] == default and nnk.get_isa() == default


def test_use_isa_auto_yields_the_isa_it_picked():
    with nnk.use_isa("auto") as isa:
        assert isa == nnk.cpu_info()["best"] == nnk.get_isa()
    with nnk.use_isa(" Scalar ") as isa:
        assert isa == "scalar"


def test_set_isa_is_the_default_of_threads_without_a_block():
    import threading

    before = nnk.get_isa()
    try:
        nnk.set_isa("scalar")
        seen = []
        t = threading.Thread(target=lambda: seen.append(nnk.get_isa()))
        t.start()
        t.join()
        assert seen == ["scalar"]
        with nnk.use_isa("auto"):  # a block overrides the default in its thread only
            assert nnk.get_isa() == nnk.cpu_info()["best"]
        assert nnk.get_isa() == "scalar"
    finally:
        nnk.set_isa(before)


# ---- names and messages from one list ----------------------------------------------

def test_unknown_isa_message_lists_every_name():
    with pytest.raises(ValueError) as e:
        nnk.set_isa("bogus")
    for name in nnk._dispatch.ISA_NAMES + ("auto",):
        assert repr(name) in str(e.value)
    assert set(nnk._dispatch.ISA_NAMES) >= {"scalar", "avx2", "avx512", "neon"}


def test_env_unknown_isa_names_the_variable():
    r = run_python("import nnk", NNK_ISA="bogus")
    assert r.returncode != 0
    assert "NNK_ISA" in r.stderr and "'avx512'" in r.stderr and "'auto'" in r.stderr


# ---- the command line and the threads setting --------------------------------------

def test_cli_sheets_into_a_closed_pipe_prints_no_traceback():
    r_end, w_end = os.pipe()
    os.close(r_end)  # the reader is gone before anything is written, as after `| head`
    try:
        p = subprocess.run([sys.executable, "-m", "nnk", "sheets"], stdout=w_end,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w_end)
    assert "Traceback" not in p.stderr and "BrokenPipeError" not in p.stderr, p.stderr


@pytest.mark.parametrize("isa", ["bogus", "avx512", "neon", "avx2"])
def test_cli_sheets_bad_isa_is_a_usage_error(isa):
    if isa in nnk.cpu_info()["available"]:
        pytest.skip(f"{isa} runs here")
    r = subprocess.run([sys.executable, "-m", "nnk", "sheets", "--isa", isa],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert isa in r.stderr and "usage" in r.stderr


def test_set_num_threads_refuses_huge_and_bool():
    before = nnk.get_num_threads()
    with pytest.raises(ValueError, match="between 1 and"):
        nnk.set_num_threads(10**30)
    with pytest.raises(ValueError, match="between 1 and"):
        nnk.set_num_threads(-10**30)
    with pytest.raises(TypeError, match="bool"):
        nnk.set_num_threads(True)
    with pytest.raises(TypeError):
        nnk._C.set_num_threads(False)
    assert nnk.get_num_threads() == before


# ---- how many threads, and from where ------------------------------------------------

THREADS = "import nnk, json; i = nnk.cpu_info(); print(json.dumps([i['threads'], i['threads_from']]))"


def threads_in_child(preexec=None, **env):
    import json

    full = {k: v for k, v in os.environ.items() if k not in ("NNK_NUM_THREADS", "OMP_NUM_THREADS")}
    full.update(env)
    r = subprocess.run([sys.executable, "-W", "always", "-c", THREADS], capture_output=True,
                       text=True, env=full, timeout=60, preexec_fn=preexec)
    assert r.returncode == 0, r.stderr
    n, source = json.loads(r.stdout)
    return n, source, r.stderr


def test_threads_from_each_variable_and_their_precedence():
    assert threads_in_child(NNK_NUM_THREADS="3")[:2] == (3, "NNK_NUM_THREADS")
    assert threads_in_child(OMP_NUM_THREADS="5")[:2] == (5, "OMP_NUM_THREADS")
    assert threads_in_child(OMP_NUM_THREADS=" 6,2 ")[:2] == (6, "OMP_NUM_THREADS")  # outer level
    assert threads_in_child(NNK_NUM_THREADS="2", OMP_NUM_THREADS="7")[:2] == (2, "NNK_NUM_THREADS")


@pytest.mark.parametrize("bad", ["abc", "0", "-2", "2.5", "99999999999999999999", "4097"])
def test_a_bad_thread_variable_warns_and_falls_back(bad):
    n, source, err = threads_in_child(NNK_NUM_THREADS=bad, OMP_NUM_THREADS="3")
    assert (n, source) == (3, "OMP_NUM_THREADS")
    assert "RuntimeWarning" in err and "NNK_NUM_THREADS" in err and repr(bad)[1:-1] in err
    assert "uses 3 threads" in err
    n, source, err = threads_in_child(OMP_NUM_THREADS=bad)
    assert n == len(os.sched_getaffinity(0)) and "affinity" in source
    assert "OMP_NUM_THREADS" in err and f"uses {n} threads" in err


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_threads_follow_the_affinity_mask():
    one = min(os.sched_getaffinity(0))
    n, source, _ = threads_in_child(preexec=lambda: os.sched_setaffinity(0, {one}))
    assert n == 1 and "affinity" in source
    n, _, _ = threads_in_child()
    assert n == len(os.sched_getaffinity(0))


def test_cgroup_cpu_quota_is_read_up_the_hierarchy(tmp_path):
    limit = nnk._C.cgroup_cpu_limit
    root, self_file = tmp_path / "cg", tmp_path / "self"
    (root / "a" / "b").mkdir(parents=True)
    self_file.write_text("12:cpu:/ignored-v1\n0::/a/b\n")
    assert limit(str(root), str(self_file)) == 0  # no cpu.max anywhere: no limit
    (root / "a" / "b" / "cpu.max").write_text("150000 100000\n")
    assert limit(str(root), str(self_file)) == 2  # 1.5 CPUs, rounded up
    (root / "a" / "cpu.max").write_text("max 100000\n")
    assert limit(str(root), str(self_file)) == 2
    (root / "a" / "cpu.max").write_text("50000 100000\n")
    assert limit(str(root), str(self_file)) == 1  # an ancestor's tighter quota holds
    self_file.write_text("0::/\n")
    (root / "cpu.max").write_text("300000 100000\n")
    assert limit(str(root), str(self_file)) == 3  # a container's own root
    self_file.write_text("4:memory:/only-v1\n")
    assert limit(str(root), str(self_file)) == 0
    assert limit(str(root), str(tmp_path / "missing")) == 0


def test_set_num_threads_is_named_as_the_source(set_threads):
    set_threads(1)
    assert nnk.cpu_info()["threads_from"] == "set_num_threads"


# ---- caches and GEMM blocking ---------------------------------------------------------

def test_caches_agree_with_the_kernels_view_in_sysfs():
    """The caches nnk reads (CPUID on x86) are the ones Linux reports for cpu0."""
    from pathlib import Path

    caches = nnk.cpu_info()["caches"]
    root = Path("/sys/devices/system/cpu/cpu0/cache")
    if not root.is_dir():
        pytest.skip("no sysfs cache information here")
    seen = {}
    for index in sorted(root.glob("index*")):
        kind, level = (index / "type").read_text().strip(), int((index / "level").read_text())
        if kind == "Instruction" or level > 3:
            continue
        size = (index / "size").read_text().strip()
        seen["L1d" if level == 1 else f"L{level}"] = int(size[:-1]) * 1024 if size.endswith("K") else int(size)
    assert seen, "sysfs lists no data cache"
    for name, size in seen.items():
        assert caches[name][0] == size, (name, caches[name], size)


def test_gemm_blocks_fit_the_caches_they_come_from():
    """Every ISA's blocks come from this CPU's caches by its rule (csrc/gemm/blocking.c):
    "l1", BLIS's analytical model (a B micro-panel in L1, leaving a way; the A block in
    L2), or "l2" (the A block in L2 but two ways, KC = sqrt(2 X) against MC = X / KC);
    multiples of the tile, and not wastefully small."""
    caches = nnk.cpu_info()["caches"]
    l1, l2 = caches["L1d"], caches["L2"]
    for isa in nnk.cpu_info()["available"]:
        with nnk.use_isa(isa):
            info = nnk.cpu_info()
        gemm, rule = info["gemm"], info["gemm_blocks"]
        assert (rule is None) == (isa == "scalar"), (isa, rule)
        for dtype, esz in (("f32", 4), ("f64", 8)):
            if gemm[dtype] is None:
                assert isa == "scalar"
                continue
            mr, nr, mc, kc, nc = gemm[dtype]
            assert mc % mr == 0 and nc % nr == 0 and kc % 8 == 0 and min(mc, kc, nc) > 0
            # products whose C stays in a quarter of L2: KC from the L1 model, a B
            # micro-panel in L1 (the "l1" rule's own KC), never more than the rule's
            kc_small, c_bytes, k_least = info["gemm_small_c"][dtype]
            assert c_bytes == l2[0] // 4 and 8 <= kc_small <= kc and kc_small % 8 == 0
            assert k_least == 4 * kc_small  # k spans four of its blocks or more
            assert kc_small * nr * esz <= l1[0] * (l1[2] - 1) / l1[2], (isa, dtype, kc_small)
            if rule == "l1":
                assert kc_small == kc
            assert mc * kc * esz <= l2[0], (isa, dtype, gemm[dtype])
            if rule == "l1":
                assert kc * nr * esz <= l1[0] * (l1[2] - 1) / l1[2], (isa, dtype, gemm[dtype])
                # at least half of what the ways allow
                assert kc * nr * esz * 2 >= l1[0] * (l1[2] - 1) / l1[2] / (1 + mr / nr), gemm[dtype]
            else:
                assert rule == "l2", rule
                x = l2[0] * (l2[2] - 2) / l2[2] / esz  # the A block's share of L2, elements
                assert mc * kc <= x and mc * kc + mr * kc + 8 * mc >= x, (isa, dtype, gemm[dtype])
                assert abs(kc - (2 * x) ** 0.5) <= 8, (isa, dtype, gemm[dtype], x)


def test_info_prints_caches_and_gemm_blocks():
    r = subprocess.run([sys.executable, "-m", "nnk", "info"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "caches:" in r.stdout and "L1d" in r.stdout
    if nnk.get_isa() != "scalar":
        info = nnk.cpu_info()
        (mr, nr, mc, kc, nc), rule = info["gemm"]["f32"], info["gemm_blocks"]
        kc_small, c_bytes, k_least = info["gemm_small_c"]["f32"]
        assert (f"tile {mr}x{nr}, blocks MC {mc} KC {kc} NC {nc} (from the caches, rule {rule}); "
                f"KC {kc_small} where C takes {c_bytes // 1024} KiB or less and k >= {k_least}"
                in r.stdout)
