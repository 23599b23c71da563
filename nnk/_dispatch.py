"""The ISA in use, the threads, and what the CPU is.

The kernel table is chosen at import: the best ISA the CPU runs, or ``NNK_ISA`` from the
environment (``scalar``, ``avx2``, ``avx512``, ``neon`` or ``auto``).  Switching is process-wide.
"""
import contextlib
import operator
import os
import platform

from . import _C

ISAS = ("scalar", "avx2", "avx512", "neon")


def set_isa(name):
    """Use the kernels of ISA ``name`` from now on, process-wide.

    Raises ValueError for a name nnk does not know and RuntimeError for an ISA this CPU
    (or this build) cannot run.
    """
    if not isinstance(name, str):
        raise TypeError(f"ISA name must be a str, got {type(name).__name__}")
    name = name.strip().lower()
    if name == "auto":
        name = _C.BEST_ISA
    _C.set_isa(name)


def get_isa():
    """The ISA whose kernels run now."""
    return _C.get_isa()


@contextlib.contextmanager
def use_isa(name):
    """``with nnk.use_isa("scalar"): ...`` runs the block on one ISA, then restores."""
    previous = get_isa()
    set_isa(name)
    try:
        yield name
    finally:
        _C.set_isa(previous)


def set_num_threads(n):
    """Threads for kernels that parallelise (GEMM). Default: the number of cores."""
    _C.set_num_threads(operator.index(n))


def get_num_threads():
    return _C.get_num_threads()


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_info():
    """What nnk knows of this machine and which kernels run."""
    m = _C.machine()
    return {
        "arch": m["arch"],
        "cpu": _cpu_model(),
        "isa": get_isa(),
        "best": _C.BEST_ISA,
        "available": _C.available_isas(),
        "features": tuple(m["features"].split()),
        "sleef": m["sleef"],
        "threads": get_num_threads(),
    }


def _apply_environment():
    requested = os.environ.get("NNK_ISA", "").strip()
    if requested:
        set_isa(requested)


_apply_environment()
