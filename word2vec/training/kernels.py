"""Compiled training kernels (numba): skip-gram and CBOW with neg, hs and exact softmax.

Every kernel is a plain function over arrays and scalars that trains on a range of
sentences and releases the GIL, so Python threads can run several at once on shared
weights (Hogwild). Weights are float32; the loss is tallied in float64.

Orientation, as in the C tool and gensim: in skip-gram each (center, context) pair is
trained with the context word's input vector predicting the center word.

Shared arguments of the `train_*` kernels:
    w_in, w_out   float32 (W, d) input vectors; (W, d) output vectors ((W-1, d) for hs)
    ids, ends     int32 corpus ids; int64 exclusive sentence ends
    sent_lo/hi    the range of sentences to train on
    tables        (keep float32 (W,), noise_threshold float64 (W,), noise_alias int32 (W,),
                   points int32 (W, L), codes uint8 (W, L), lengths int32 (W,))
    params        (window, negative, alpha_start, alpha_end, cbow_mean)
    rng           uint64 (1,), this thread's random state, advanced in place
    tally         float64 (3,), adds [loss sum, predictions, words]
"""

import numpy as np
from numba import njit

LOSS_NEG, LOSS_HS, LOSS_SOFTMAX = 0, 1, 2
_KERNEL = dict(nogil=True, fastmath=True, cache=True)
_U12, _U25, _U27 = np.uint64(12), np.uint64(25), np.uint64(27)
_MULT = np.uint64(0x2545F4914F6CDD1D)
_U11, _U32 = np.uint64(11), np.uint64(32)

# sigmoid and log-sigmoid are read from tables over [-MAX_EXP, MAX_EXP] with linear
# interpolation (error < 1e-7); outside that range they are computed exactly.
MAX_EXP = 8.0
TABLE_SIZE = 4096
_GRID = np.linspace(-MAX_EXP, MAX_EXP, TABLE_SIZE + 1)
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_GRID))).astype(np.float32)
LOG_SIGMOID_TABLE = (-np.logaddexp(0.0, -_GRID)).astype(np.float32)
_SCALE = TABLE_SIZE / (2.0 * MAX_EXP)


@njit(nogil=True, cache=True)
def seed_state(seed):
    """A nonzero xorshift64* state from an integer seed (splitmix64 finalizer)."""
    z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return z if z != np.uint64(0) else np.uint64(1)


@njit(**_KERNEL)
def _next(rng):
    x = rng[0]
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    rng[0] = x
    return x * _MULT


@njit(**_KERNEL)
def _uniform(rng):
    return np.float64(_next(rng) >> _U11) * (1.0 / 9007199254740992.0)


@njit(**_KERNEL)
def _below(rng, n):
    """A uniform integer in [0, n)."""
    return np.int64(((_next(rng) >> _U32) * np.uint64(n)) >> _U32)


@njit(**_KERNEL)
def _sample_noise(rng, threshold, alias):
    i = _below(rng, len(threshold))
    return i if _uniform(rng) < threshold[i] else alias[i]


@njit(**_KERNEL)
def _sigmoid(x):
    if x <= -MAX_EXP or x >= MAX_EXP:
        return 1.0 / (1.0 + np.exp(-x))
    pos = (x + MAX_EXP) * _SCALE
    i = int(pos)
    frac = pos - i
    return SIGMOID_TABLE[i] + frac * (SIGMOID_TABLE[i + 1] - SIGMOID_TABLE[i])


@njit(**_KERNEL)
def _log_sigmoid(x):
    if x >= MAX_EXP:
        return -np.log1p(np.exp(-x))
    if x <= -MAX_EXP:
        return x - np.log1p(np.exp(x))
    pos = (x + MAX_EXP) * _SCALE
    i = int(pos)
    frac = pos - i
    return LOG_SIGMOID_TABLE[i] + frac * (LOG_SIGMOID_TABLE[i + 1] - LOG_SIGMOID_TABLE[i])


@njit(**_KERNEL)
def _score(h, w_out, row):
    s = np.float32(0.0)
    for k in range(h.shape[0]):
        s += h[k] * w_out[row, k]
    return s


@njit(**_KERNEL)
def _apply(h, grad_h, w_out, rows, grads, n):
    """grad_h += Σ g_i w_out[row_i] at the old weights, then w_out[row_i] += g_i h."""
    dim = h.shape[0]
    for i in range(n):
        g, r = grads[i], rows[i]  # locals: LLVM cannot prove the arrays don't alias
        for k in range(dim):
            grad_h[k] += g * w_out[r, k]
    for i in range(n):
        g, r = grads[i], rows[i]
        for k in range(dim):
            w_out[r, k] += g * h[k]


@njit(**_KERNEL)
def _logistic(s, label, alpha, grads, i):
    """Gradient step size of one logistic output into grads[i]; return its loss."""
    grads[i] = np.float32(alpha * (label - _sigmoid(s)))
    return -_log_sigmoid(s if label > 0.5 else -s)


@njit(**_KERNEL)
def _output_neg(h, grad_h, w_out, target, negative, threshold, alias, alpha, rng, rows, grads):
    """The target and `negative` noise words; all gradients taken at the old weights."""
    rows[0] = target
    loss = _logistic(_score(h, w_out, target), 1.0, alpha, grads, 0)
    n = 1
    for _ in range(negative):
        noise = _sample_noise(rng, threshold, alias)
        if noise == target:  # as the C tool and gensim: the target is never its own negative
            continue
        rows[n] = noise
        loss += _logistic(_score(h, w_out, noise), 0.0, alpha, grads, n)
        n += 1
    _apply(h, grad_h, w_out, rows, grads, n)
    return loss


@njit(**_KERNEL)
def _output_hs(h, grad_h, w_out, target, points, codes, lengths, alpha, rows, grads):
    loss = 0.0
    n = lengths[target]
    for i in range(n):
        rows[i] = points[target, i]
        loss += _logistic(_score(h, w_out, rows[i]), 1.0 - codes[target, i], alpha, grads, i)
    _apply(h, grad_h, w_out, rows, grads, n)
    return loss


@njit(**_KERNEL)
def _output_softmax(h, grad_h, w_out, target, scores, alpha):
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


@njit(**_KERNEL)
def _output(loss_kind, h, target, w_out, tables, negative, alpha, rng, work):
    """Train the output layer on hidden vector h for `target`; add d(loss)·(-alpha) to grad_h."""
    grad_h, scores, rows, grads = work[1], work[2], work[3], work[4]
    if loss_kind == LOSS_NEG:
        return _output_neg(h, grad_h, w_out, target, negative, tables[1], tables[2], alpha, rng, rows, grads)
    if loss_kind == LOSS_HS:
        return _output_hs(h, grad_h, w_out, target, tables[3], tables[4], tables[5], alpha, rows, grads)
    return _output_softmax(h, grad_h, w_out, target, scores, alpha)


@njit(**_KERNEL)
def _subsample(ids, start, end, keep, rng, out):
    """Copy ids[start:end] into `out`, dropping frequent words at random; return the count."""
    n = 0
    for t in range(start, end):
        w = ids[t]
        if keep[w] < 1.0 and _uniform(rng) >= keep[w]:
            continue
        out[n] = w
        n += 1
    return n


@njit(**_KERNEL)
def _draw_targets(center, negative, threshold, alias, rng, rows):
    """rows[0] = center, then up to `negative` noise words (never the center); return the count."""
    rows[0] = center
    n = 1
    for _ in range(negative):
        noise = _sample_noise(rng, threshold, alias)
        if noise != center:  # as the C tool and gensim: the target is never its own negative
            rows[n] = noise
            n += 1
    return n


@njit(**_KERNEL)
def _neg_window(w_in, w_out, contexts, m, rows, n_rows, alpha, block):
    """One SGD step on the pairs (context_j -> rows[0]) with shared negatives rows[1:].

    All gradients are taken at the old weights (a minibatch of the window's pairs), as in
    pWord2Vec (Ji et al., 2016): the output rows are loaded once per window, not per pair.
    """
    grads, delta_out, delta_in = block
    dim = w_in.shape[1]
    loss = 0.0
    for j in range(m):
        c = contexts[j]
        for t in range(n_rows):
            r = rows[t]
            s = np.float32(0.0)
            for k in range(dim):
                s += w_in[c, k] * w_out[r, k]
            label = 1.0 if t == 0 else 0.0
            grads[j, t] = np.float32(alpha * (label - _sigmoid(s)))
            loss -= _log_sigmoid(s if t == 0 else -s)
    delta_out[:n_rows] = 0.0
    delta_in[:m] = 0.0
    for j in range(m):
        c = contexts[j]
        for t in range(n_rows):
            g, r = grads[j, t], rows[t]
            for k in range(dim):
                delta_in[j, k] += g * w_out[r, k]
                delta_out[t, k] += g * w_in[c, k]
    for t in range(n_rows):
        r = rows[t]
        for k in range(dim):
            w_out[r, k] += delta_out[t, k]
    for j in range(m):
        c = contexts[j]
        for k in range(dim):
            w_in[c, k] += delta_in[j, k]
    return loss


@njit(**_KERNEL)
def _sg_neg_sentence(w_in, w_out, sent, n, tables, params, alpha, rng, work, block):
    window, negative = params[0], params[1]
    rows, contexts = work[3], block[3]
    loss, pairs = 0.0, 0
    for i in range(n):
        b = _below(rng, window)
        m = 0
        for j in range(max(0, i - window + b), min(n, i + window - b + 1)):
            if j != i:
                contexts[m] = sent[j]
                m += 1
        if m == 0:
            continue
        n_rows = _draw_targets(sent[i], negative, tables[1], tables[2], rng, rows)
        loss += _neg_window(w_in, w_out, contexts, m, rows, n_rows, alpha, block[:3])
        pairs += m
    return loss, pairs


@njit(**_KERNEL)
def _sg_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work):
    window, negative = params[0], params[1]
    h, grad_h = work[0], work[1]
    loss, pairs = 0.0, 0
    for i in range(n):
        b = _below(rng, window)  # dynamic window: effective size window - b
        for j in range(max(0, i - window + b), min(n, i + window - b + 1)):
            if j == i:
                continue
            ctx = sent[j]
            for k in range(h.shape[0]):
                h[k] = w_in[ctx, k]
                grad_h[k] = 0.0
            loss += _output(loss_kind, h, sent[i], w_out, tables, negative, alpha, rng, work)
            for k in range(h.shape[0]):
                w_in[ctx, k] += grad_h[k]
            pairs += 1
    return loss, pairs


@njit(**_KERNEL)
def _cbow_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work):
    window, negative, cbow_mean = params[0], params[1], params[4]
    h, grad_h = work[0], work[1]
    loss, predictions = 0.0, 0
    for i in range(n):
        b = _below(rng, window)
        lo, hi = max(0, i - window + b), min(n, i + window - b + 1)
        count = hi - lo - 1
        if count <= 0:
            continue
        h[:] = 0.0
        grad_h[:] = 0.0
        for j in range(lo, hi):
            if j != i:
                for k in range(h.shape[0]):
                    h[k] += w_in[sent[j], k]
        scale = np.float32(1.0 / count) if cbow_mean else np.float32(1.0)
        for k in range(h.shape[0]):
            h[k] *= scale
        loss += _output(loss_kind, h, sent[i], w_out, tables, negative, alpha, rng, work)
        for j in range(lo, hi):
            if j != i:
                for k in range(h.shape[0]):
                    w_in[sent[j], k] += scale * grad_h[k]  # d(mean)/d(input) = 1/count
        predictions += 1
    return loss, predictions


@njit(**_KERNEL)
def _workspace(loss_kind, dim, n_out, negative, depth):
    """Per-call scratch: (h, grad_h, softmax scores, output rows, output gradients)."""
    n_scores = n_out if loss_kind == LOSS_SOFTMAX else 1
    n_rows = max(negative + 1, depth)
    return (np.empty(dim, np.float32), np.empty(dim, np.float32), np.empty(n_scores, np.float64),
            np.empty(n_rows, np.int64), np.empty(n_rows, np.float32))


@njit(**_KERNEL)
def _window_block(dim, window, negative):
    """Scratch of the window-batched update: (grads, delta_out, delta_in, contexts)."""
    m, t = 2 * window, negative + 1
    return (np.empty((m, t), np.float32), np.empty((t, dim), np.float32),
            np.empty((m, dim), np.float32), np.empty(m, np.int64))


@njit(**_KERNEL)
def _train(arch_cbow, loss_kind, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    """Train on sentences [sent_lo, sent_hi); the learning rate falls linearly across them."""
    if sent_hi <= sent_lo:
        return
    alpha_start, alpha_end = params[2], params[3]
    first = ends[sent_lo - 1] if sent_lo > 0 else 0
    n_words = ends[sent_hi - 1] - first
    longest = 1
    for s in range(sent_lo, sent_hi):
        longest = max(longest, ends[s] - (ends[s - 1] if s > 0 else 0))
    sent = np.empty(longest, dtype=np.int32)
    work = _workspace(loss_kind, w_in.shape[1], w_out.shape[0], params[1], tables[3].shape[1])
    block = _window_block(w_in.shape[1], params[0], params[1])
    done, loss, count = 0, 0.0, 0
    for s in range(sent_lo, sent_hi):
        start = ends[s - 1] if s > 0 else 0
        alpha = alpha_start + (alpha_end - alpha_start) * (done / max(n_words, 1))
        n = _subsample(ids, start, ends[s], tables[0], rng, sent)
        if arch_cbow:
            l, c = _cbow_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work)
        elif loss_kind == LOSS_NEG:
            l, c = _sg_neg_sentence(w_in, w_out, sent, n, tables, params, alpha, rng, work, block)
        else:
            l, c = _sg_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work)
        loss += l
        count += c
        done += ends[s] - start
    tally[0] += loss
    tally[1] += count
    tally[2] += done


@njit(**_KERNEL)
def train_skipgram_neg(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_NEG, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**_KERNEL)
def train_skipgram_hs(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_HS, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**_KERNEL)
def train_skipgram_softmax(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_SOFTMAX, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**_KERNEL)
def train_cbow_neg(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_NEG, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**_KERNEL)
def train_cbow_hs(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_HS, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**_KERNEL)
def train_cbow_softmax(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_SOFTMAX, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


KERNELS = {
    ("skipgram", "neg"): train_skipgram_neg,
    ("skipgram", "hs"): train_skipgram_hs,
    ("skipgram", "softmax"): train_skipgram_softmax,
    ("cbow", "neg"): train_cbow_neg,
    ("cbow", "hs"): train_cbow_hs,
    ("cbow", "softmax"): train_cbow_softmax,
}
