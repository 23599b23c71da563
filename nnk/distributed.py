"""Data-parallel training over MPI: torch.distributed's names and meanings on mpi4py.

The same script runs as one process (``python train.py``: a world of one), on one
machine (``mpiexec -n 2 python train.py``), across machines (``mpiexec -f hosts ...``)
and under Slurm (``srun``)::

    import nnk.distributed as dist
    dist.init_process_group()
    ddp = dist.DistributedDataParallel(net)     # rank 0's parameters everywhere
    nnk.train(ddp, loss_fn, opt, X, Y, epochs, batch_size=256)   # the global batch

MPI is the engine HPC clusters (and llm.c) use; mpi4py reaches it, through the MPICH
wheels of ``pip install 'nnk[mpi]'`` or the system's own MPI.  nnk's collectives run on
a duplicate of COMM_WORLD, so a script's own mpi4py calls never meet them.
"""
import contextlib
import os
import sys
import time
import traceback

import numpy as np

try:
    from mpi4py import MPI
except ImportError as e:  # the extra is optional: plain `import nnk` never needs it
    raise ImportError(
        "nnk.distributed needs MPI through mpi4py: pip install 'nnk[mpi]' (mpi4py and the "
        "MPICH wheels), or mpi4py built over the system's MPI") from e

from . import _C
from .nn.module import Module, Parameter, backward_of

__all__ = ["init_process_group", "is_initialized", "get_rank", "get_world_size", "barrier",
           "all_reduce", "broadcast", "destroy_process_group", "DistributedDataParallel",
           "DistributedSampler"]

_world = None   # nnk's communicator (a duplicate of COMM_WORLD) once initialised
_OPS = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
_REDUCED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))


# ---- the process group -------------------------------------------------------------

def init_process_group(backend="mpi"):
    """Join the job's processes (idempotent).  Run without ``mpiexec`` this is a world of
    one.  With more than one rank, an uncaught exception on any rank ends the whole job
    (MPI_Abort) after printing that rank's traceback, and the kernels' threads default
    to this node's CPUs divided by the ranks on the node (unless NNK_NUM_THREADS or
    OMP_NUM_THREADS say otherwise)."""
    global _world
    if backend != "mpi":
        raise ValueError(f"nnk.distributed has one backend, 'mpi', got {backend!r}")
    if _world is not None:
        return
    _world = MPI.COMM_WORLD.Dup()
    if _world.Get_size() > 1:
        _abort_on_uncaught_exception()
        _share_node_cpus()


def is_initialized():
    """Whether init_process_group has run (and destroy_process_group has not)."""
    return _world is not None


def destroy_process_group():
    """Leave the group (init_process_group may be called again)."""
    global _world
    if _world is not None:
        _world.Free()
        _world = None


def _comm():
    if _world is None:
        raise RuntimeError("nnk.distributed: call nnk.distributed.init_process_group() first")
    return _world


def get_rank():
    """This process's rank, 0 .. world size - 1."""
    return _comm().Get_rank()


def get_world_size():
    """How many processes the job has."""
    return _comm().Get_size()


def barrier():
    """Wait until every rank has reached this call."""
    _comm().Barrier()


def _buffer(a, what):
    """``a`` as an MPI buffer: a writeable, C-contiguous NumPy array (in place, as torch)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{what} works in place on a NumPy array, got {type(a).__name__}")
    if not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{what} works in place: the array must be C-contiguous and writeable")
    return a


def all_reduce(a, op="sum"):
    """Combine ``a`` across ranks in place: "sum", "mean", "max" or "min" of the ranks'
    arrays, element by element (float32, float64 or int64; every rank the same shape).
    Returns ``a``."""
    _buffer(a, "all_reduce")
    if a.dtype not in _REDUCED_DTYPES:
        raise TypeError(f"all_reduce takes float32, float64 or int64 arrays, got {a.dtype}")
    if op not in ("sum", "mean", "max", "min"):
        raise ValueError(f"op must be 'sum', 'mean', 'max' or 'min', got {op!r}")
    if op == "mean" and a.dtype.kind != "f":
        raise TypeError(f"op='mean' needs a floating-point array (a mean of {a.dtype} would "
                        f"be rounded); got {a.dtype}")
    comm = _comm()
    comm.Allreduce(MPI.IN_PLACE, a, _OPS["sum" if op == "mean" else op])
    if op == "mean":
        a /= comm.Get_size()
    return a


def broadcast(a, src=0):
    """Copy rank ``src``'s array into every rank's ``a`` (in place; same shape and dtype
    everywhere).  Returns ``a``."""
    _buffer(a, "broadcast")
    comm = _comm()
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"src = {src} is not a rank of this world of {comm.Get_size()}")
    comm.Bcast(a, root=src)
    return a


# ---- a job, not a process ------------------------------------------------------------

def _abort_on_uncaught_exception():
    """An exception nobody catches prints its traceback, marked with the rank, and ends
    every rank (MPI_Abort): the others would otherwise wait in a collective for ever."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            return previous(kind, value, tb)
        rank = MPI.COMM_WORLD.Get_rank()
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(f"nnk.distributed: uncaught exception on rank {rank}, ending the job:\n{text}")
        sys.stderr.flush()
        # The launcher reads the ranks' output through pipes and tears the job down when
        # told of the abort, sometimes before it has read them: MPICH's mpiexec showed
        # nothing at all in 2 runs of 150 (none in 300 with this moment to forward it).
        time.sleep(0.2)
        MPI.COMM_WORLD.Abort(1)

    sys.excepthook = hook


def _share_node_cpus():
    """Threads per rank: the CPUs this node's ranks may run on, shared out.  Ranks bound
    to CPUs of their own (mpiexec -bind-to core) keep theirs; ranks that see the same
    CPUs divide them.  NNK_NUM_THREADS or OMP_NUM_THREADS, when set, are left alone."""
    if any(os.environ.get(v, "").strip() for v in ("NNK_NUM_THREADS", "OMP_NUM_THREADS")):
        return
    mine = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    node = _world.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        sets = node.allgather(mine)
    finally:
        node.Free()
    cpus = _C.threads_info()["cpus_allowed"]  # affinity and cgroup quota, as the default
    disjoint = sum(len(s) for s in sets) == len(set().union(*map(set, sets)))
    _C.set_num_threads(max(1, cpus if disjoint else cpus // len(sets)))


# ---- data-parallel training ---------------------------------------------------------------

class DistributedDataParallel(Module):
    """``module`` trained on every rank at once, each rank on its slice of the batch.

    Construction copies rank 0's parameters to every rank.  ``backward(g)`` runs the
    module's backward and averages every parameter's gradient across ranks: gradients
    travel in buckets of about ``bucket_cap_mb`` MiB, each started (MPI_Iallreduce) as
    soon as the layers holding its parameters have finished their backward, all
    completed before backward returns.  The buckets follow the order the first backward
    produced the gradients in (as torch's DDP rebuilds its buckets after the first
    iteration); that first backward reduces everything at its end.  A parameter no rank's
    backward reached keeps no gradient (torch's None: optimisers pass it by on every
    rank, as one process would); one some rank's reached gets the mean, the others'
    counted as zeros.

    ``ddp(x)`` is ``module(x)``; ``parameters()`` are the module's (state-dict names start
    with ``module.``, as torch's).  ``wait_seconds`` adds up the time backward spent
    waiting for gradients after the module's own backward had finished.
    """

    def __init__(self, module, bucket_cap_mb=1.0):
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps an nnk Module, got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be > 0, got {bucket_cap_mb}")
        comm = _comm()
        self.module = module
        self._bucket_bytes = int(bucket_cap_mb * (1 << 20))
        self.wait_seconds = 0.0
        self._schedule = None   # the buckets, from the first backward
        self._layout = None     # the parameters (ids) the schedule was made for
        self._owners = None
        params = module.parameters()
        shapes = [(p.data.shape, p.data.dtype.str) for p in params]
        if comm.Get_size() > 1:
            if any(s != shapes for s in comm.allgather(shapes)):
                raise ValueError("DistributedDataParallel: the ranks' modules hold different "
                                 "parameters (shapes or dtypes); every rank must build the same model")
            for p in params:
                comm.Bcast(p.data, root=0)

    def forward(self, *args):
        return self.module(*args)

    def backward(self, grad, input_grad=True):
        """The module's backward (its dL/d(input) returned), then every gradient the mean
        of the ranks' (see the class)."""
        comm = _comm()
        if comm.Get_size() == 1:
            return backward_of(self.module, grad, input_grad)
        step = _Step(self, comm)
        try:
            with step.watching():
                out = backward_of(self.module, grad, input_grad)
        except BaseException:
            step.abandon()
            raise
        step.finish()
        return out

    def sync_gradients(self):
        """Average the parameters' current gradients across ranks without a backward: for
        a rank with nothing to contribute to a step (its ``.grad`` zero) while the others
        run backward."""
        comm = _comm()
        if comm.Get_size() > 1:
            _Step(self, comm).finish()

    def extra_repr(self):
        return f"world_size={get_world_size()}"


class _Bucket:
    """Parameters whose gradients travel together.  Their ``.grad`` arrays become views
    of one buffer (each view 64-byte aligned, the gaps zero), so MPI reduces the
    gradients where backward wrote them, with no copy either way (torch's
    gradient_as_bucket_view).  A ``.grad`` replaced by another array since is copied in
    and out instead.

    After the gradients, one value a parameter travels with them: 1 where this rank has
    a gradient for it, 0 where no backward reached it since zero_grad (torch's None,
    which the rank sends as zeros).  A parameter no rank has a gradient for keeps its
    None (torch's DDP leaves such a gradient undefined), so that the optimisers pass it
    by on every rank, as one process on the whole batch would."""

    _ALIGN = 64

    def __init__(self, params):
        self.params = params
        dtype = params[0].data.dtype  # (.data's, as .grad's: reading .grad would give it one)
        step = self._ALIGN // dtype.itemsize
        offsets, at = [], 0
        for p in params:
            offsets.append(at)
            at += -(-p.data.size // step) * step
        raw = np.zeros(at + len(params) + step, dtype)
        skip = (-raw.ctypes.data % self._ALIGN) // dtype.itemsize
        self.data = raw[skip:skip + at + len(params)]
        self.has_grad = self.data[at:]
        self.views = []
        for p, o in zip(params, offsets):
            none = not p._has_grad
            view = self.data[o:o + p.data.size].reshape(p.data.shape)
            view[...] = p.grad
            p.grad = view
            if none:  # (reading and setting .grad above gave it one)
                p._zero_grad()
            self.views.append(view)
        self.request = None

    def start(self, comm):
        for i, (p, view) in enumerate(zip(self.params, self.views)):
            self.has_grad[i] = p._has_grad  # (before .grad is read: reading gives it one)
            if p.grad is not view:
                view[...] = p.grad
        self.request = comm.Iallreduce(MPI.IN_PLACE, self.data, MPI.SUM)

    def unpack(self, scale):
        self.data *= self.data.dtype.type(scale)
        for p, view, anywhere in zip(self.params, self.views, self.has_grad):
            if p.grad is not view:
                p.grad[...] = view
            if not anywhere:  # no rank's backward reached it: None, the zeros unread
                p._zero_grad()
        self.request = None


class _Schedule:
    """The buckets, in the order backward produces their gradients, and how many
    backward calls of a parameter's layers leave its gradient complete."""

    def __init__(self, order, calls, bucket_bytes):
        self.buckets, group = [], []
        for p in order:
            if group and (p.data.dtype != group[0].data.dtype
                          or sum(q.data.nbytes for q in group) >= bucket_bytes):
                self.buckets.append(_Bucket(group))
                group = []
            group.append(p)
        if group:
            self.buckets.append(_Bucket(group))
        self.bucket_of = {id(p): i for i, b in enumerate(self.buckets) for p in b.params}
        self.calls = calls


def _owners(module):
    """{id(layer): (layer, [the Parameters it holds itself])} for every layer holding any:
    the layers whose backward writes gradients (a tied weight has two)."""
    owners = {}
    for m in module.modules():
        own = [v for _, v in m._members() if isinstance(v, Parameter)]
        if own:
            owners[id(m)] = (m, own)
    return owners


class _Step:
    """One backward under DistributedDataParallel: the layers' backward calls watched,
    buckets started in order as they fill, everything completed and averaged at the end."""

    def __init__(self, ddp, comm):
        self.ddp, self.comm = ddp, comm
        self.params = ddp.module.parameters()
        key = tuple(map(id, self.params))
        if key != ddp._layout:  # new or changed parameters: owners and buckets anew
            ddp._layout, ddp._owners, ddp._schedule = key, _owners(ddp.module), None
        self.calls = dict.fromkeys(key, 0)
        self.last_seen = {}     # first step: id(p) -> when its gradient was last written
        self.events = 0
        self.started = 0        # buckets started, in order
        self.pending = None     # per bucket: parameters not yet complete
        ddp._started_after = []  # per bucket: how many layers' backward had run when it started

    def watching(self):
        """A context in which every parameter-holding layer's backward reports back."""

        @contextlib.contextmanager
        def watch():
            owners = self.ddp._owners
            schedule = self.ddp._schedule
            if schedule is not None:
                self.pending = [len(b.params) for b in schedule.buckets]
            for layer, own in owners.values():
                vars(layer)["backward"] = self._reporting(layer, own)
            try:
                yield
            finally:
                for layer, _ in owners.values():
                    vars(layer).pop("backward", None)

        return watch()

    def _reporting(self, layer, own):
        inner = type(layer).backward.__get__(layer)

        def backward(*args, **kwargs):
            out = inner(*args, **kwargs)
            self._written(own)
            return out

        return backward

    def _written(self, own):
        """A layer's backward has added to the gradients of ``own``."""
        self.events += 1
        schedule = self.ddp._schedule
        for p in own:
            key = id(p)
            self.calls[key] += 1
            if schedule is None:
                self.last_seen[key] = self.events
                continue
            expected = schedule.calls.get(key, 0)
            b = schedule.bucket_of[key]
            if self.calls[key] > expected and b < self.started:
                raise RuntimeError(
                    "DistributedDataParallel: a parameter's gradient changed after it was "
                    "sent (its layers ran backward more often than in the first step); "
                    "the model must run the same layers every step")
            if self.calls[key] == expected:
                self.pending[b] -= 1
        if schedule is not None:
            self._start_ready(schedule)
            started = [b.request for b in schedule.buckets[:self.started] if b.request is not None]
            if started:
                MPI.Request.Testall(started)  # MPI progresses non-blocking collectives in its calls

    def _start_ready(self, schedule):
        while self.started < len(schedule.buckets) and self.pending[self.started] == 0:
            schedule.buckets[self.started].start(self.comm)
            self.started += 1
            self.ddp._started_after.append(self.events)

    def abandon(self):
        """Backward failed: complete the buckets already started (every rank starts the
        same ones, in order) before their buffers can be freed under MPI's writes."""
        schedule = self.ddp._schedule
        if schedule is not None:
            started = [b.request for b in schedule.buckets[:self.started] if b.request is not None]
            MPI.Request.Waitall(started)
            for b in schedule.buckets[:self.started]:
                b.request = None

    def finish(self):
        """Start what is left (in order), wait for every bucket, average."""
        ddp = self.ddp
        if ddp._schedule is None:
            ddp._schedule = self._first_schedule()
        schedule = ddp._schedule
        t0 = time.perf_counter()
        for bucket in schedule.buckets[self.started:]:
            bucket.start(self.comm)
            ddp._started_after.append(self.events)
        self.started = len(schedule.buckets)
        MPI.Request.Waitall([b.request for b in schedule.buckets])
        ddp.wait_seconds += time.perf_counter() - t0
        scale = 1.0 / self.comm.Get_size()
        for bucket in schedule.buckets:
            bucket.unpack(scale)
        if any(c for c in self.calls.values()):  # a real backward: how often each layer ran
            schedule.calls = dict(self.calls)

    def _first_schedule(self):
        """Buckets in the order this (first) backward completed the gradients, rank 0's
        order on every rank (the collectives must meet in the same order); parameters no
        layer's backward wrote come last, in reverse (torch's first guess)."""
        params = self.params
        index = {id(p): i for i, p in enumerate(params)}
        seen = sorted((t, index[k]) for k, t in self.last_seen.items())
        order = [i for _, i in seen] + [i for i in reversed(range(len(params)))
                                        if id(params[i]) not in self.last_seen]
        order = np.array(order, np.int64)
        self.comm.Bcast(order, root=0)
        return _Schedule([params[i] for i in order], dict(self.calls), self.ddp._bucket_bytes)


# ---- the split of a dataset -----------------------------------------------------------------

class DistributedSampler:
    """The sample indices of one rank, torch.utils.data.DistributedSampler's split.

    ``n`` is the dataset's length (or anything with ``len()``).  Each rank gets
    ceil(n / ranks) indices (the list padded by repeating its start), or with
    ``drop_last`` floor(n / ranks) (the tail dropped); rank r takes every ranks-th index
    from r on.  With ``shuffle`` the indices are a permutation drawn from seed + epoch
    (NumPy's generator: the same on every rank, not torch's numbers); ``set_epoch(e)``
    before each epoch gives each its own order."""

    def __init__(self, n, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        n = n if isinstance(n, (int, np.integer)) else len(n)
        if n < 0:
            raise ValueError(f"the dataset's length must be >= 0, got {n}")
        num_replicas = get_world_size() if num_replicas is None else int(num_replicas)
        rank = get_rank() if rank is None else int(rank)
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is not in [0, {num_replicas - 1}]")
        self.n, self.num_replicas, self.rank = int(n), num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        if drop_last and n % num_replicas:
            self.num_samples = -(-(n - num_replicas) // num_replicas)
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """The epoch whose permutation the next iteration draws (seed + epoch)."""
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch, as an int64 array."""
        if self.shuffle:
            idx = np.random.default_rng(self.seed + self.epoch).permutation(self.n)
        else:
            idx = np.arange(self.n)
        if self.drop_last:
            idx = idx[:self.total_size]
        elif self.total_size > self.n and self.n:
            idx = np.resize(idx, self.total_size)  # repeats from the start, as torch pads
        return idx[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples
