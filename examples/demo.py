"""A short tour of nnk: the machine, a sheet exercise, and scalar vs SIMD side by side."""
import time

import numpy as np

import nnk

info = nnk.cpu_info()
print(f"nnk on {info['cpu']} ({info['arch']}): ISA {info['isa']}, available {info['available']}")

# Week 4 sheet, one layer then ReLU: ReLU(W x + b)
W = np.array([[1.0, -1.0], [2.0, 0.5]])
b = np.array([0.0, -3.0])
x = np.array([1.0, 2.0])
z = nnk.linear(x, W, b)
print("W x + b       =", z)
print("ReLU(W x + b) =", nnk.relu(z))
print("ReLU(<-2.3, 5.7, -5.0>) =", nnk.relu([-2.3, 5.7, -5.0]))
print("softmax([1000, 0]) =", nnk.softmax([1000.0, 0.0]), "(no overflow)")

# The same GEMM on every ISA this CPU runs, timed side by side
a = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
for isa in info["available"]:
    with nnk.use_isa(isa):
        nnk.matmul(a, a)
        t = time.perf_counter()
        nnk.matmul(a, a)
        dt = time.perf_counter() - t
    print(f"  sgemm 512^3 on {isa:6s}: {2 * 512**3 / dt / 1e9:7.1f} GFLOP/s")
