"""Run by tests/wheel/test_wheel.py in the fresh venv, inside the namespace where the
system's libsleef is hidden: prints, as JSON, what the test asserts (where nnk and
libsleef were loaded from, and a sheet exercise and GEMMs on every ISA)."""
import ctypes
import json
import sys

import numpy as np

import nnk

try:
    ctypes.CDLL("libsleef.so.3")  # the system's SONAME: the wheel's copy has another
    system_sleef_error = None
except OSError as e:
    system_sleef_error = str(e)

with open("/proc/self/maps") as f:
    sleef_mapped = sorted({line.split()[-1] for line in f if "libsleef" in line})

rng = np.random.default_rng(0)
results = {}
for isa in nnk.cpu_info()["available"]:
    with nnk.use_isa(isa):
        W, b, x = np.array([[1., -2.], [3., 1.]]), np.array([0., -2.]), np.array([2., -1.])
        z = nnk.linear(x, W, b)
        res = {"z": z.tolist(), "relu": nnk.relu(z).tolist(), "tanh": nnk.tanh(z).tolist(),
               "exp1": float(nnk.exp(1.0)), "log2": float(nnk.log(2.0)), "gemm_rel_err": {}}
        for dt in (np.float32, np.float64):
            A = rng.standard_normal((67, 45)).astype(dt)
            B = rng.standard_normal((45, 33)).astype(dt)
            ref = A.astype(np.float64) @ B.astype(np.float64)
            got = nnk.matmul(A, B)
            res["gemm_rel_err"][np.dtype(dt).name] = float(np.abs(got - ref).max() / np.abs(ref).max())
        results[isa] = res

print(json.dumps({
    "prefix": sys.prefix, "nnk_file": nnk.__file__, "version": nnk.__version__,
    "system_sleef_error": system_sleef_error, "sleef_mapped": sleef_mapped,
    "isas": nnk.cpu_info()["available"], "results": results,
}))
