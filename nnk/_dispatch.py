"""The ISA in use, the threads, and what the CPU is.

The kernel table is chosen at import: the best ISA the CPU runs, or ``NNK_ISA`` from the
environment (one of ``ISA_NAMES`` or ``auto``).  ``set_isa`` changes the process default;
``use_isa`` overrides it for the calling thread only.
"""
import contextlib
import operator
import os
import platform
import warnings

from . import _C

ISA_NAMES = _C.ISA_NAMES  # the C library's one list; messages and the CLI read it too


def kernel_ops(family):
    """{name: op index} of one of the C library's kernel lists (``_C.KERNELS[family]``,
    whose first column is the name): what the binding's entry points take as ``op``."""
    return {line[0]: op for op, line in enumerate(_C.KERNELS[family])}


def _name(name):
    if not isinstance(name, str):
        raise TypeError(f"ISA name must be a str, got {type(name).__name__}")
    return name.strip().lower()


def set_isa(name):
    """Use the kernels of ISA ``name`` (or ``"auto"``: the best) from now on, in every
    thread that has no ``use_isa`` block of its own.

    Raises ValueError for a name nnk does not know and RuntimeError for an ISA this CPU
    (or this build) cannot run.
    """
    _C.set_isa(_name(name))


def get_isa():
    """The ISA whose kernels the calling thread runs."""
    return _C.get_isa()


@contextlib.contextmanager
def use_isa(name):
    """``with nnk.use_isa("scalar") as isa: ...`` runs the block's kernels on one ISA in
    the calling thread only (other threads keep theirs), then restores the thread's
    previous choice.  ``isa`` is the ISA picked (the best one for ``"auto"``)."""
    previous = _C.thread_isa()
    chosen = _C.set_thread_isa(_name(name))
    try:
        yield chosen
    finally:
        _C.set_thread_isa(previous)


def set_num_threads(n):
    """Threads for kernels that parallelise (GEMM).  Default, the first that is set:
    ``NNK_NUM_THREADS``, ``OMP_NUM_THREADS``, else the CPUs this process may run on (its
    affinity mask and cgroup CPU quota).  ``cpu_info()["threads_from"]`` says which."""
    if isinstance(n, bool):
        raise TypeError("number of threads must be an int, got bool")
    _C.set_num_threads(operator.index(n))


def get_num_threads():
    """The number of threads nnk's kernels use (see set_num_threads)."""
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
        "threads_from": _C.threads_info()["source"],
        # (size, line, ways, source) of the data caches one core sees; GEMM's tile and
        # block sizes (mr, nr, mc, kc, nc) derived from them for the ISA in use, and the
        # rule that derived them ("l1": a B micro-panel kept in L1; "l2": both
        # micro-panels streamed from L2, KC and MC balanced there); (KC, bytes, k): the KC of
        # products whose C takes at most those bytes and whose k is that k (4 KC) or more
        # (the L1 model's: a B micro-panel kept in L1)
        "caches": m["caches"],
        "gemm": m["gemm"],
        "gemm_blocks": m["gemm_blocks"],
        "gemm_small_c": m["gemm_small_c"],
    }


def _apply_environment():
    ignored = _C.threads_info()["warning"]
    if ignored:
        warnings.warn(ignored, RuntimeWarning, stacklevel=3)
    requested = os.environ.get("NNK_ISA", "").strip()
    if requested:
        try:
            set_isa(requested)
        except (ValueError, RuntimeError) as e:
            raise type(e)(f"environment variable NNK_ISA={requested!r}: {e}") from None


_apply_environment()
