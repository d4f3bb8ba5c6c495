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

from .kernel_ops import (JIT_OPTIONS, LOSS_HS, LOSS_NEG, LOSS_SOFTMAX, below, draw_targets, next_targets, output,
                         output_hs, prefetch_row, sigmoid_and_log, subsample)


@njit(**JIT_OPTIONS)
def _window_scores(w_in, w_out, contexts, m, rows, n_rows, wide, scores):
    """scores[j, t] = w_in[contexts[j]] · w_out[rows[t]]; with `wide`, the first six output rows
    in one pass over each input row (one load of it for six products)."""
    dim = w_in.shape[1]
    # with fewer than six rows (`wide` 0) o1..o5 are stand-ins that are never read
    o0, o1, o2 = w_out[rows[0]], w_out[rows[1 % n_rows]], w_out[rows[2 % n_rows]]
    o3, o4, o5 = w_out[rows[3 % n_rows]], w_out[rows[4 % n_rows]], w_out[rows[5 % n_rows]]
    for j in range(m):
        a = w_in[contexts[j]]
        if wide:
            s0 = s1 = s2 = s3 = s4 = s5 = np.float32(0.0)
            for k in range(dim):
                x = a[k]
                s0 += x * o0[k]
                s1 += x * o1[k]
                s2 += x * o2[k]
                s3 += x * o3[k]
                s4 += x * o4[k]
                s5 += x * o5[k]
            scores[j, 0], scores[j, 1], scores[j, 2] = s0, s1, s2
            scores[j, 3], scores[j, 4], scores[j, 5] = s3, s4, s5
        for t in range(wide, n_rows):
            p = w_out[rows[t]]
            s = np.float32(0.0)
            for k in range(dim):
                s += a[k] * p[k]
            scores[j, t] = s


@njit(**JIT_OPTIONS)
def _window_deltas(w_in, w_out, contexts, m, rows, n_rows, wide, grads, delta_out, delta_in):
    """delta_in[j] = Σ_t g[j, t] w_out[rows[t]], delta_out[t] = Σ_j g[j, t] w_in[contexts[j]];
    with `wide`, the first six output rows in one pass over each input row."""
    dim = w_in.shape[1]
    # with fewer than six rows (`wide` 0) o1..o5 are stand-ins that are never read
    o0, o1, o2 = w_out[rows[0]], w_out[rows[1 % n_rows]], w_out[rows[2 % n_rows]]
    o3, o4, o5 = w_out[rows[3 % n_rows]], w_out[rows[4 % n_rows]], w_out[rows[5 % n_rows]]
    d0, d1, d2 = delta_out[0], delta_out[1 % n_rows], delta_out[2 % n_rows]
    d3, d4, d5 = delta_out[3 % n_rows], delta_out[4 % n_rows], delta_out[5 % n_rows]
    delta_out[:n_rows] = 0.0
    for j in range(m):
        a = w_in[contexts[j]]
        di = delta_in[j]
        if wide:
            g0, g1, g2, g3, g4, g5 = grads[j, 0], grads[j, 1], grads[j, 2], grads[j, 3], grads[j, 4], grads[j, 5]
            for k in range(dim):
                x = a[k]
                di[k] = ((g0 * o0[k] + g1 * o1[k]) + (g2 * o2[k] + g3 * o3[k])) + (g4 * o4[k] + g5 * o5[k])
                d0[k] += g0 * x
                d1[k] += g1 * x
                d2[k] += g2 * x
                d3[k] += g3 * x
                d4[k] += g4 * x
                d5[k] += g5 * x
        else:
            di[:] = 0.0
        for t in range(wide, n_rows):
            p, e, g = w_out[rows[t]], delta_out[t], grads[j, t]
            for k in range(dim):
                di[k] += g * p[k]
                e[k] += g * a[k]


@njit(**JIT_OPTIONS)
def neg_window(w_in, w_out, contexts, m, rows, n_rows, alpha, block):
    """One SGD step on the pairs (context_j -> rows[0]) with shared negatives rows[1:].

    All gradients are taken at the old weights (a minibatch of the window's pairs), as in
    pWord2Vec (Ji et al., 2016): the output rows are loaded once per window, not per pair.
    With negative 5 or more, the scores and the gradients of the first six output rows are
    taken in one pass over each input row (a third less time than one row a pass; with the
    rows padded to 8 floats, see `padding`).
    """
    grads, delta_out, delta_in = block
    dim = w_in.shape[1]
    wide = 6 if n_rows >= 6 else 0  # a noise word equal to the target leaves fewer rows
    _window_scores(w_in, w_out, contexts, m, rows, n_rows, wide, grads)
    loss = 0.0
    for j in range(m):
        for t in range(n_rows):
            s = grads[j, t]  # the score, replaced by the step of its gradient
            sig, log_sig = sigmoid_and_log(s)
            if t == 0:  # the target
                grads[j, t] = np.float32(alpha * (1.0 - sig))
                loss -= log_sig
            else:  # a noise word: -log sigmoid(-s)
                grads[j, t] = np.float32(-alpha * sig)
                loss += s - log_sig
    _window_deltas(w_in, w_out, contexts, m, rows, n_rows, wide, grads, delta_out, delta_in)
    for t in range(n_rows):
        r = rows[t]
        for k in range(dim):
            w_out[r, k] += delta_out[t, k]
    for j in range(m):
        c = contexts[j]
        for k in range(dim):
            w_in[c, k] += delta_in[j, k]
    return loss


@njit(**JIT_OPTIONS)
def _sg_neg_sentence(w_in, w_out, sent, n, tables, params, alpha, rng, work, block):
    """Skip-gram with negative sampling, one window at a time.

    Each window's targets are drawn one window early, so that their output rows and the next
    window's farthest context row are on their way into the cache while this window trains.
    """
    window, negative = params[0], params[1]
    rows, ahead, contexts = work[3], block[4], block[3]
    loss, pairs = 0.0, 0
    n_ahead = draw_targets(sent[0], negative, tables[1], tables[2], rng, ahead) if n > 0 else 0
    for i in range(n):
        n_rows, n_ahead = next_targets(sent, i, n, negative, tables[1], tables[2], rng, rows, ahead, n_ahead, w_out)
        if i + 1 + window < n:
            prefetch_row(w_in, sent[i + 1 + window])
        b = below(rng, window)
        m = 0
        for j in range(max(0, i - window + b), min(n, i + window - b + 1)):
            if j != i:
                contexts[m] = sent[j]
                m += 1
        if m == 0:
            continue
        loss += neg_window(w_in, w_out, contexts, m, rows, n_rows, alpha, block[:3])
        pairs += m
    return loss, pairs


@njit(**JIT_OPTIONS)
def _prefetch_path(w_in, w_out, sent, n, i, window, tables):
    """Start loading the Huffman path rows of center i and its farthest new context row."""
    points, lengths = tables[3], tables[5]
    target = sent[i]
    for node in range(lengths[target]):
        prefetch_row(w_out, points[target, node])
    if i + window < n:
        prefetch_row(w_in, sent[i + window])


@njit(**JIT_OPTIONS)
def _sg_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work):
    window, negative = params[0], params[1]
    h, grad_h = work[0], work[1]
    points, codes, lengths = tables[3], tables[4], tables[5]
    loss, pairs = 0.0, 0
    for i in range(n):
        if loss_kind == LOSS_HS and i + 1 < n:  # the next center's path, on its way into the cache
            _prefetch_path(w_in, w_out, sent, n, i + 1, window, tables)
        b = below(rng, window)  # dynamic window: effective size window - b
        for j in range(max(0, i - window + b), min(n, i + window - b + 1)):
            if j == i:
                continue
            ctx = sent[j]
            for k in range(h.shape[0]):
                h[k] = w_in[ctx, k]
                grad_h[k] = 0.0
            if loss_kind == LOSS_HS:
                loss += output_hs(h, grad_h, w_out, sent[i], points, codes, lengths, alpha)
            else:
                loss += output(loss_kind, h, sent[i], w_out, tables, negative, alpha, rng, work)
            for k in range(h.shape[0]):
                w_in[ctx, k] += grad_h[k]
            pairs += 1
    return loss, pairs


@njit(**JIT_OPTIONS)
def _cbow_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work):
    window, negative, cbow_mean = params[0], params[1], params[4]
    h, grad_h = work[0], work[1]
    loss, predictions = 0.0, 0
    for i in range(n):
        b = below(rng, window)
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
        loss += output(loss_kind, h, sent[i], w_out, tables, negative, alpha, rng, work)
        for j in range(lo, hi):
            if j != i:
                for k in range(h.shape[0]):
                    w_in[sent[j], k] += scale * grad_h[k]  # d(mean)/d(input) = 1/count
        predictions += 1
    return loss, predictions


@njit(**JIT_OPTIONS)
def _workspace(loss_kind, dim, n_out, negative):
    """Per-call scratch: (h, grad_h, softmax scores, output rows and gradients of neg)."""
    n_scores = n_out if loss_kind == LOSS_SOFTMAX else 1
    n_rows = negative + 1
    return (np.empty(dim, np.float32), np.empty(dim, np.float32), np.empty(n_scores, np.float64),
            np.empty(n_rows, np.int64), np.empty(n_rows, np.float32))


@njit(**JIT_OPTIONS)
def window_block(dim, window, negative):
    """Scratch of the window-batched update: (grads, delta_out, delta_in, contexts, next window's rows)."""
    m, t = 2 * window, negative + 1
    return (np.empty((m, t), np.float32), np.empty((t, dim), np.float32),
            np.empty((m, dim), np.float32), np.empty(m, np.int64), np.empty(t, np.int64))


@njit(**JIT_OPTIONS)
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
    work = _workspace(loss_kind, w_in.shape[1], w_out.shape[0], params[1])
    block = window_block(w_in.shape[1], params[0], params[1])
    done, loss, count = 0, 0.0, 0
    for s in range(sent_lo, sent_hi):
        start = ends[s - 1] if s > 0 else 0
        alpha = alpha_start + (alpha_end - alpha_start) * (done / max(n_words, 1))
        n = subsample(ids, start, ends[s], tables[0], rng, sent)
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


@njit(**JIT_OPTIONS)
def train_skipgram_neg(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_NEG, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_skipgram_hs(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_HS, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_skipgram_softmax(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_SOFTMAX, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_cbow_neg(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_NEG, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_cbow_hs(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_HS, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
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
