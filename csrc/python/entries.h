/*
 * Every entry point of nnk._C, once: X(name, KIND, doc).  KIND is the calling
 * convention (METH_<KIND>); from this list come each function's prototype (for the
 * family file that defines it, nnk_py_<name>) and module.c's method table.
 */
#ifndef NNK_PY_ENTRIES_H
#define NNK_PY_ENTRIES_H

#include "buffers.h"

#define NNK_PY_ENTRIES(X)                                                                 \
  /* elementwise.c */                                                                     \
  X(map, VARARGS, "map(op, x, out): out = f_op(x), elementwise (KERNELS['map']).")               \
  X(grad, VARARGS, "grad(op, u, grad, out): out = f_op'(u) * grad (KERNELS['grad']).")           \
  X(map_into, VARARGS,                                                                    \
    "map_into(op, x, out): map's, returning out, when x and out are plain arrays alike; else None, run nothing.") \
  X(grad_into, VARARGS,                                                                   \
    "grad_into(op, u, grad, out): grad's, returning out, when all are plain arrays alike; else None, run nothing.") \
  X(pmap, VARARGS, "pmap(op, x, out, a): out = f_op(x; a) (KERNELS['pmap']).")                   \
  X(pgrad, VARARGS, "pgrad(op, u, grad, out, a): out = f_op'(u; a) * grad (KERNELS['pgrad']).")  \
  X(rows, VARARGS, "rows(op, x, out, n): the KERNELS['rows'] reduction over rows of n values.")  \
  X(rows_grad, VARARGS,                                                                   \
    "rows_grad(op, y, grad, out, n): the KERNELS['rows_grad'] gradient over rows of n values.")  \
  X(loss, VARARGS, "loss(op, y, t, each): sum of l(y, t) (KERNELS['loss']); each l into `each`.") \
  X(loss_grad, VARARGS, "loss_grad(op, y, t, out, scale): out = scale * dl/dy.")          \
  /* optim.c */                                                                           \
  X(sgd_step, FASTCALL, "sgd_step(p, g, v, lr, momentum, weight_decay, nesterov, dampening=0.0, maximize=False), in place.") \
  X(adam_step, VARARGS,                                                                   \
    "adam_step(p, g, m, v, lr, beta1, beta2, eps, c1, c2, weight_decay, decoupled, max_v=None, maximize=False), in place (max_v: AMSGrad's).") \
  X(adam_steps, VARARGS,                                                                  \
    "adam_steps(params, grads, exp_avgs, exp_avg_sqs, lr, beta1, beta2, eps, c1, c2, weight_decay, decoupled, max_exp_avg_sqs=None, maximize=False): adam_step on each, one threaded call.") \
  X(rmsprop_step, VARARGS,                                                                \
    "rmsprop_step(p, g, v, gavg or None, buf or None, lr, alpha, eps, weight_decay, momentum, maximize=False), in place.") \
  X(adagrad_step, VARARGS, "adagrad_step(p, g, sum, lr, eps, weight_decay, maximize=False), in place.") \
  X(axpy, VARARGS, "axpy(a, x, y): y += a x.")                                            \
  /* linalg.c */                                                                          \
  X(gemm, FASTCALL, "gemm(a, b, c, alpha, beta, trans_a, trans_b): c = alpha op(a) op(b) + beta c.") \
  X(linear_forward, FASTCALL, "linear_forward(x, w, b, y): y = x w^T + b (b may be None).") \
  X(linear_backward, FASTCALL,                                                            \
    "linear_backward(x, w, g, dw, db, dx, add): dw += g^T x, db += sum g (add) or =, dx = g w (db, dx may be None).") \
  /* row_layers.c */                                                                      \
  X(layernorm_forward, VARARGS,                                                           \
    "layernorm_forward(x, weight, bias, eps, out, mean, rstd): over x's last axis.")      \
  X(layernorm_backward, VARARGS,                                                          \
    "layernorm_backward(x, weight, mean, rstd, grad, grad_input, weight_grad, bias_grad).") \
  X(cross_entropy, VARARGS,                                                               \
    "cross_entropy(input, target, ignore_index, scale, loss, grad): per-row loss, grad.")  \
  /* seq.c */                                                                             \
  X(rnn_forward, FASTCALL,                                                                \
    "rnn_forward(B, T, I, H, relu, x, w_ih, w_hh, b, h0, out): all hidden states.")       \
  X(rnn_backward, FASTCALL,                                                               \
    "rnn_backward(B, T, I, H, relu, x, w_ih, w_hh, h0, h, grad, dx, dw_ih, dw_hh, db, dh0)") \
  X(attention_forward, VARARGS,                                                           \
    "attention_forward(qkv, n_head, scale, out, lse): causal attention of a packed (B, T, 3C) qkv.") \
  X(attention_backward, VARARGS,                                                          \
    "attention_backward(qkv, n_head, scale, out, lse, grad, grad_qkv): its gradient.")    \
  X(attention_step, VARARGS,                                                              \
    "attention_step(cache, t, n_head, scale, out): row t of a (B, S, 3C) key/value cache.") \
  X(embedding_backward, VARARGS,                                                          \
    "embedding_backward(ids, grad, weight_grad, skip=-1): weight_grad[ids[i]] += grad[i], ids == skip left out.") \
  /* text.c */                                                                            \
  X(bpe_train, VARARGS, "bpe_train(ids, merges): learn merges in place; (learned, tokens left).") \
  X(bpe_encode, VARARGS, "bpe_encode(ids, merges): apply merges in place; tokens left.")  \
  /* machine.c */                                                                         \
  X(set_isa, O, "set_isa(name): the process default ISA; returns its name.")              \
  X(set_thread_isa, O, "set_thread_isa(name | None): the calling thread's own ISA (None: the default).") \
  X(thread_isa, NOARGS, "The calling thread's own ISA, or None.")                         \
  X(get_isa, NOARGS, "The ISA whose kernels the calling thread runs.")                    \
  X(available_isas, NOARGS, "ISAs this build and CPU can run.")                           \
  X(machine, NOARGS, "arch, detected features and SLEEF version.")                        \
  X(set_num_threads, O, "Threads for parallel kernels.")                                  \
  X(get_num_threads, NOARGS, "Threads for parallel kernels.")                             \
  X(threads_info, NOARGS, "Threads, where the number came from, warnings.")               \
  X(cgroup_cpu_limit, VARARGS, "cgroup_cpu_limit(root, self_cgroup): cgroup v2 CPU limit (0: none).") \
  /* array_pool.c */                                                                            \
  X(pool_enter, NOARGS, "The array pool becomes NumPy's allocator here; returns the one it replaced, or None.") \
  X(pool_exit, O, "pool_exit(previous): puts back the allocator pool_enter returned.")   \
  X(pool_stats, NOARGS, "The pool's bytes: kept (free, for reuse), live (in use), peak (live's most).") \
  X(empty_cache, NOARGS, "Gives the pool's free blocks back to the system.")

/* The parameters of each calling convention. */
#define NNK_PY_SIG_VARARGS (PyObject *self, PyObject *args)
#define NNK_PY_SIG_FASTCALL (PyObject *self, PyObject *const *args, Py_ssize_t nargs)
#define NNK_PY_SIG_O (PyObject *self, PyObject *arg)
#define NNK_PY_SIG_NOARGS (PyObject *self, PyObject *unused)

#define NNK_PY_DECLARE_(name, KIND, doc) PyObject *nnk_py_##name NNK_PY_SIG_##KIND;
NNK_PY_ENTRIES(NNK_PY_DECLARE_)

/* array_pool.c: the handler's capsule, made once at import, and the pooled type (module.c). */
int nnk_pool_init(void);
int nnk_pool_add_type(PyObject *m);

/* thread_flags.c: _C.thread_flags, the layers' per-thread switches (module.c). */
int nnk_thread_flags_add(PyObject *m);

/* nnk_py_<name>_forward and nnk_py_<name>_backward over one FASTCALL function
 * call(args, nargs, backward) that serves both directions. */
#define NNK_PY_FORWARD_BACKWARD(name, call)                                               \
  PyObject *nnk_py_##name##_forward NNK_PY_SIG_FASTCALL { return call(args, nargs, 0); }  \
  PyObject *nnk_py_##name##_backward NNK_PY_SIG_FASTCALL { return call(args, nargs, 1); }

#endif
