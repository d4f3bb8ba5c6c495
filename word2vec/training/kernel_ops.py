"""The pieces every compiled kernel shares (numba): the RNG, the sigmoid tables, the output layers.

Plain functions over arrays and scalars, compiled without the GIL: a xorshift RNG per thread,
sigmoid and log-sigmoid read from tables, the three output layers (negative sampling, the
Huffman tree of hierarchical softmax, the exact full softmax) that turn a hidden vector into a
loss and a gradient, subsampling of a sentence and the draw of noise words. The sentence loops
that call them are in `kernels` (words) and `kernels_subword` (fastText's subwords).
"""

import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _import_numba_numpy_support():
    """Import numba's numpy support now, without the scipy.linalg it probes for (0.6 s).

    numba imports `numba.np.arraymath` on its first compile or cache load, and that module
    imports scipy.linalg.cython_blas, if scipy is installed, only to choose how numba's own
    np.convolve and np.correlate take inner products; w2v's kernels call neither (np.dot
    still imports scipy when it is compiled). Hiding the module during this one import
    makes the probe fail at once; it is importable again right after.
    """
    blas = "scipy.linalg.cython_blas"
    if blas in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules[blas] = None
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(blas, False) is None:
            del sys.modules[blas]


_import_numba_numpy_support()

LOSS_NEG, LOSS_HS, LOSS_SOFTMAX = 0, 1, 2
JIT_OPTIONS = dict(nogil=True, fastmath=True, cache=True)
_U12, _U25, _U27 = np.uint64(12), np.uint64(25), np.uint64(27)
_MULT = np.uint64(0x2545F4914F6CDD1D)
_U11, _U32 = np.uint64(11), np.uint64(32)

# sigmoid and log-sigmoid are read from one table over [-MAX_EXP, MAX_EXP], side by side so
# that one lookup gives both, with linear interpolation (error < 1e-7); outside that range
# they are computed exactly.
MAX_EXP = 8.0
TABLE_SIZE = 4096
_GRID = np.linspace(-MAX_EXP, MAX_EXP, TABLE_SIZE + 1)
SIGMOID_TABLE = np.stack([1.0 / (1.0 + np.exp(-_GRID)), -np.logaddexp(0.0, -_GRID)], axis=1).astype(np.float32)
_SCALE32, _MAX_EXP32 = np.float32(TABLE_SIZE / (2.0 * MAX_EXP)), np.float32(MAX_EXP)


def seed_state(seed):
    """A nonzero xorshift64* state from an integer seed (splitmix64 finalizer), as an int.

    Plain numpy, not compiled: a cluster's driver seeds every shard's threads and trains none, and
    loading a compiled function cost it 0.6 s of its start. The arithmetic is on a one-element
    uint64 array, which wraps modulo 2^64 as the compiled version did (numpy scalars would warn)."""
    z = np.array([seed], dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return int(z[0]) or 1


@njit(**JIT_OPTIONS)
def next(rng):
    x = rng[0]
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    rng[0] = x
    return x * _MULT


@njit(**JIT_OPTIONS)
def uniform(rng):
    return np.float64(next(rng) >> _U11) * (1.0 / 9007199254740992.0)


@njit(**JIT_OPTIONS)
def below(rng, n):
    """A uniform integer in [0, n)."""
    return np.int64(((next(rng) >> _U32) * np.uint64(n)) >> _U32)


@njit(**JIT_OPTIONS)
def sample_noise(rng, threshold, alias):
    i = below(rng, len(threshold))
    return i if uniform(rng) < threshold[i] else alias[i]


@intrinsic
def _prefetch(typingctx, matrix, row, column):
    """Ask the CPU to start loading matrix[row, column]'s cache line (LLVM's prefetch hint)."""
    if not (isinstance(matrix, types.Array) and matrix.ndim == 2):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        index = [context.cast(builder, value, kind, types.intp) for value, kind in zip(args[1:], signature.args[1:])]
        pointer = cgutils.get_item_pointer(context, builder, signature.args[0], array, index, wraparound=False)
        byte_pointer, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        hint = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
                                              "llvm.prefetch.p0")
        builder.call(hint, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])  # read, keep, data
        return context.get_dummy_value()

    return types.none(matrix, row, column), codegen


@njit(**JIT_OPTIONS)
def prefetch_row(matrix, row):
    """Start loading a row into the cache, 64 bytes at a time, while other work goes on.

    A row of a 20k-word model is rarely in the cache; fetching the next window's rows one
    window ahead hides that wait (14% of the skip-gram kernel's time on the text8 prefix).
    """
    for k in range(0, matrix.shape[1], 16):
        _prefetch(matrix, row, k)


@njit(**JIT_OPTIONS)
def sigmoid_and_log(x):
    """(sigmoid(x), log sigmoid(x)) from one lookup, in float32. log sigmoid(-x) is the second minus x.

    The lookup works in float32 (4% of the skip-gram kernel's time against float64); its
    rounding adds at most 3e-7 to the interpolation's error.
    """
    if x <= -MAX_EXP or x >= MAX_EXP:
        tail = np.log1p(np.exp(-abs(x)))
        return np.float32(1.0 / (1.0 + np.exp(-x))), np.float32(-tail if x > 0.0 else x - tail)
    pos = (np.float32(x) + _MAX_EXP32) * _SCALE32
    # x + 8 may round up to 16 in float32; and fastmath lets a NaN reach this line, as INT_MIN
    i = max(0, min(np.int32(pos), TABLE_SIZE - 1))
    frac = pos - np.float32(i)
    sig, log_sig = SIGMOID_TABLE[i, 0], SIGMOID_TABLE[i, 1]
    return sig + frac * (SIGMOID_TABLE[i + 1, 0] - sig), log_sig + frac * (SIGMOID_TABLE[i + 1, 1] - log_sig)


@njit(**JIT_OPTIONS)
def sigmoid(x):
    return sigmoid_and_log(x)[0]


@njit(**JIT_OPTIONS)
def log_sigmoid(x):
    return sigmoid_and_log(x)[1]


@njit(**JIT_OPTIONS)
def score(h, w_out, row):
    s = np.float32(0.0)
    for k in range(h.shape[0]):
        s += h[k] * w_out[row, k]
    return s


@njit(**JIT_OPTIONS)
def scores(h, w_out, rows, n, out):
    """out[i] = h · w_out[rows[i]] for i < n; the first six rows in one pass over h when n >= 6
    (with rows padded to 8 floats, a third less time than one row a pass; see `padding`)."""
    first = 0
    if n >= 6:
        o0, o1, o2 = w_out[rows[0]], w_out[rows[1]], w_out[rows[2]]
        o3, o4, o5 = w_out[rows[3]], w_out[rows[4]], w_out[rows[5]]
        s0 = s1 = s2 = s3 = s4 = s5 = np.float32(0.0)
        for k in range(h.shape[0]):
            x = h[k]
            s0 += x * o0[k]
            s1 += x * o1[k]
            s2 += x * o2[k]
            s3 += x * o3[k]
            s4 += x * o4[k]
            s5 += x * o5[k]
        out[0], out[1], out[2], out[3], out[4], out[5] = s0, s1, s2, s3, s4, s5
        first = 6
    for i in range(first, n):
        out[i] = score(h, w_out, rows[i])


@njit(**JIT_OPTIONS)
def apply(h, grad_h, w_out, rows, grads, n):
    """grad_h += Σ g_i w_out[row_i] at the old weights (the first six rows in one pass when n >= 6),
    then w_out[row_i] += g_i h, a row at a time (a row may be listed twice)."""
    dim = h.shape[0]
    first = 0
    if n >= 6:
        o0, o1, o2 = w_out[rows[0]], w_out[rows[1]], w_out[rows[2]]
        o3, o4, o5 = w_out[rows[3]], w_out[rows[4]], w_out[rows[5]]
        g0, g1, g2, g3, g4, g5 = grads[0], grads[1], grads[2], grads[3], grads[4], grads[5]
        for k in range(dim):
            grad_h[k] += ((g0 * o0[k] + g1 * o1[k]) + (g2 * o2[k] + g3 * o3[k])) + (g4 * o4[k] + g5 * o5[k])
        first = 6
    for i in range(first, n):
        g, r = grads[i], rows[i]  # locals: LLVM cannot prove the arrays don't alias
        for k in range(dim):
            grad_h[k] += g * w_out[r, k]
    for i in range(n):
        g, r = grads[i], rows[i]
        for k in range(dim):
            w_out[r, k] += g * h[k]


@njit(**JIT_OPTIONS)
def logistic(s, label, alpha, grads, i):
    """Gradient step size of one logistic output into grads[i]; return its loss."""
    sig, log_sig = sigmoid_and_log(s)
    grads[i] = np.float32(alpha * (label - sig))
    return -log_sig if label > 0.5 else s - log_sig


@njit(**JIT_OPTIONS)
def neg_rows(h, grad_h, w_out, rows, n, alpha, grads):
    """One step of h on the target rows[0] and its noise words rows[1:n], all gradients taken at the
    old weights (grads is scratch: the scores, then the steps); the loss."""
    scores(h, w_out, rows, n, grads)
    loss = 0.0
    for i in range(n):
        loss += logistic(grads[i], 1.0 if i == 0 else 0.0, alpha, grads, i)  # the score becomes the step
    apply(h, grad_h, w_out, rows, grads, n)
    return loss


@njit(**JIT_OPTIONS)
def output_neg(h, grad_h, w_out, target, negative, threshold, alias, alpha, rng, rows, grads):
    """The target and `negative` noise words; all gradients taken at the old weights."""
    n = draw_targets(target, negative, threshold, alias, rng, rows)
    return neg_rows(h, grad_h, w_out, rows, n, alpha, grads)


@njit(**JIT_OPTIONS)
def output_hs(h, grad_h, w_out, target, points, codes, lengths, alpha):
    """The inner nodes on the target's Huffman path; all gradients taken at the old weights.

    A path never visits a node twice, so each row is read once: its score, its share of
    grad_h and its own update, in one pass. That is the same arithmetic, in the same order,
    as scoring every node first and then applying (as `output_neg` must, where a noise word
    can repeat), with a third of the loads.
    """
    dim = h.shape[0]
    loss = 0.0
    for i in range(lengths[target]):
        r = points[target, i]
        s = score(h, w_out, r)
        code = codes[target, i]
        sig, log_sig = sigmoid_and_log(s)
        g = np.float32(alpha * ((1.0 - code) - sig))
        loss += code * s - log_sig  # -log sigmoid(±s) without a branch: codes are coin flips
        for k in range(dim):
            grad_h[k] += g * w_out[r, k]
            w_out[r, k] += g * h[k]
    return loss


@njit(**JIT_OPTIONS)
def output_softmax(h, grad_h, w_out, target, scores, alpha):
    """Exact full softmax over all W output vectors."""
    n_words, dim = w_out.shape
    top = -np.inf
    target_score = 0.0
    for w in range(n_words):
        s = np.float64(0.0)
        for k in range(dim):
            s += h[k] * w_out[w, k]
        scores[w] = s
        top = max(top, s)
        if w == target:
            target_score = s
    total = 0.0
    for w in range(n_words):
        scores[w] = np.exp(scores[w] - top)
        total += scores[w]
    loss = np.log(total) + top - target_score
    for w in range(n_words):
        g = np.float32(alpha * ((1.0 if w == target else 0.0) - scores[w] / total))
        for k in range(dim):
            grad_h[k] += g * w_out[w, k]
            w_out[w, k] += g * h[k]
    return loss


@njit(**JIT_OPTIONS)
def output(loss_kind, h, target, w_out, tables, negative, alpha, rng, work):
    """Train the output layer on hidden vector h for `target`; add d(loss)·(-alpha) to grad_h."""
    grad_h, scores, rows, grads = work[1], work[2], work[3], work[4]
    if loss_kind == LOSS_NEG:
        return output_neg(h, grad_h, w_out, target, negative, tables[1], tables[2], alpha, rng, rows, grads)
    if loss_kind == LOSS_HS:
        return output_hs(h, grad_h, w_out, target, tables[3], tables[4], tables[5], alpha)
    return output_softmax(h, grad_h, w_out, target, scores, alpha)


@njit(**JIT_OPTIONS)
def subsample(ids, start, end, keep, rng, out):
    """Copy ids[start:end] into `out`, dropping frequent words at random; return the count."""
    n = 0
    for t in range(start, end):
        w = ids[t]
        if keep[w] < 1.0 and uniform(rng) >= keep[w]:
            continue
        out[n] = w
        n += 1
    return n


@njit(**JIT_OPTIONS)
def draw_targets(center, negative, threshold, alias, rng, rows):
    """rows[0] = center, then up to `negative` noise words (never the center); return the count."""
    rows[0] = center
    n = 1
    for _ in range(negative):
        noise = sample_noise(rng, threshold, alias)
        if noise != center:  # as the C tool and gensim: the target is never its own negative
            rows[n] = noise
            n += 1
    return n


@njit(**JIT_OPTIONS)
def next_targets(sent, i, n, negative, threshold, alias, rng, rows, ahead, n_ahead, w_out):
    """Skip-gram neg, a window at a time: center i's targets, drawn one window early in
    ahead[:n_ahead], go to rows; center i + 1's are drawn into ahead and their output rows start
    loading into the cache. Returns (targets of center i, of center i + 1)."""
    n_rows = n_ahead
    for t in range(n_rows):  # a loop, not a slice copy: that compiles a shape-mismatch message (5 s)
        rows[t] = ahead[t]
    if i + 1 < n:
        n_ahead = draw_targets(sent[i + 1], negative, threshold, alias, rng, ahead)
        for t in range(n_ahead):
            prefetch_row(w_out, ahead[t])
    return n_rows, n_ahead
