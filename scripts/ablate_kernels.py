"""The variant skip-gram kernels of scripts/ablate.py: w2v's update with gensim's or the C tool's rules.

Each differs from `word2vec.training.kernels` in one respect: how negatives are drawn and
applied (per pair or shared by the window), and what happens at saturated scores or how the
sigmoid is read (w2v's exact tables, gensim's skip, the C tool's clip, gensim's own table).
"""

import numpy as np
from numba import njit

from word2vec.training import kernel_ops as O
from word2vec.training import kernels as K

SAT_EXACT, SAT_SKIP, SAT_CLIP, SAT_TABLE = 0, 1, 2, 3  # w2v, gensim's skip, the C tool's clip, gensim's table
GENSIM_MAX_EXP = 6.0
# gensim's (and the C tool's) sigmoid: 1000 entries, entry i = σ(-6 + 12 i / 1000), read at
# int((s + 6) * (1000 / 6 / 2)) where that quotient is integer division in C: 83, not 83.33
GENSIM_TABLE = (1.0 / (1.0 + np.exp(-(np.arange(1000) / 1000.0 * 2.0 - 1.0) * GENSIM_MAX_EXP))).astype(np.float32)
GENSIM_SCALE = 1000 // 6 // 2
_KERNEL = dict(nogil=True, fastmath=True, cache=True)


@njit(**_KERNEL)
def _step_size(s, label, alpha, saturation):
    """g = alpha (label - σ(s)); 0 where gensim skips the update (a flag, not NaN: fastmath)."""
    if saturation != SAT_EXACT and (s <= -GENSIM_MAX_EXP or s >= GENSIM_MAX_EXP):
        if saturation == SAT_CLIP:
            return np.float32(alpha * (label - (1.0 if s > 0 else 0.0)))
        return np.float32(0.0)
    if saturation == SAT_TABLE:
        return np.float32(alpha * (label - GENSIM_TABLE[int((s + GENSIM_MAX_EXP) * GENSIM_SCALE)]))
    return np.float32(alpha * (label - O.sigmoid(s)))


@njit(**_KERNEL)
def _pair(w_in, w_out, ctx, rows, labels, n, alpha, saturation, grad_h):
    """One (context -> rows) update applied row after row, as gensim and the C tool do."""
    dim = w_in.shape[1]
    grad_h[:] = 0.0
    loss = 0.0
    for t in range(n):
        r = rows[t]
        s = np.float32(0.0)
        for k in range(dim):
            s += w_in[ctx, k] * w_out[r, k]
        loss -= O.log_sigmoid(s if labels[t] > 0.5 else -s)
        g = _step_size(s, labels[t], alpha, saturation)
        for k in range(dim):
            grad_h[k] += g * w_out[r, k]
            w_out[r, k] += g * w_in[ctx, k]
    for k in range(dim):
        w_in[ctx, k] += grad_h[k]
    return loss


@njit(**_KERNEL)
def _shared_window(w_in, w_out, contexts, m, rows, n_rows, alpha, saturation, block):
    """w2v's window update (shared negatives, old weights) with a saturation rule."""
    grads, delta_out, delta_in = block[0], block[1], block[2]
    dim = w_in.shape[1]
    loss = 0.0
    for j in range(m):
        for t in range(n_rows):
            s = np.float32(0.0)
            for k in range(dim):
                s += w_in[contexts[j], k] * w_out[rows[t], k]
            grads[j, t] = _step_size(s, 1.0 if t == 0 else 0.0, alpha, saturation)
            loss -= O.log_sigmoid(s if t == 0 else -s)
    delta_out[:n_rows] = 0.0
    delta_in[:m] = 0.0
    for j in range(m):
        for t in range(n_rows):
            for k in range(dim):
                delta_in[j, k] += grads[j, t] * w_out[rows[t], k]
                delta_out[t, k] += grads[j, t] * w_in[contexts[j], k]
    for t in range(n_rows):
        for k in range(dim):
            w_out[rows[t], k] += delta_out[t, k]
    for j in range(m):
        for k in range(dim):
            w_in[contexts[j], k] += delta_in[j, k]
    return loss


@njit(**_KERNEL)
def _targets(loss_kind, center, tables, negative, rng, rows, labels):
    """The output rows of one pair: target and noise (neg) or the Huffman path (hs)."""
    if loss_kind == K.LOSS_HS:
        n = tables[5][center]
        for t in range(n):
            rows[t] = tables[3][center, t]
            labels[t] = 1.0 - tables[4][center, t]
        return n
    n = O.draw_targets(center, negative, tables[1], tables[2], rng, rows)
    labels[:n] = 0.0
    labels[0] = 1.0
    return n


@njit(**_KERNEL)
def _sentence(loss_kind, shared, saturation, w_in, w_out, sent, n, tables, params, alpha, rng, scratch):
    window, negative = params[0], params[1]
    rows, labels, grad_h, contexts, block = scratch
    loss, pairs = 0.0, 0
    for i in range(n):
        b = O.below(rng, window)
        lo, hi = max(0, i - window + b), min(n, i + window - b + 1)
        if shared:
            m = 0
            for j in range(lo, hi):
                if j != i:
                    contexts[m] = sent[j]
                    m += 1
            n_rows = _targets(loss_kind, sent[i], tables, negative, rng, rows, labels)
            loss += _shared_window(w_in, w_out, contexts, m, rows, n_rows, alpha, saturation, block)
            pairs += m
            continue
        for j in range(lo, hi):
            if j != i:
                n_rows = _targets(loss_kind, sent[i], tables, negative, rng, rows, labels)
                loss += _pair(w_in, w_out, sent[j], rows, labels, n_rows, alpha, saturation, grad_h)
                pairs += 1
    return loss, pairs


@njit(**_KERNEL)
def train_variant(loss_kind, shared, saturation, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params,
                  rng, tally):
    """As kernels._train for skip-gram, with the update rule chosen by (shared, saturation)."""
    if sent_hi <= sent_lo:
        return
    first = ends[sent_lo - 1] if sent_lo > 0 else 0
    n_words = ends[sent_hi - 1] - first
    sent = np.empty(max(1, ends[sent_hi - 1] - first), dtype=np.int32)
    dim, window, negative = w_in.shape[1], params[0], params[1]
    depth = max(negative + 1, tables[3].shape[1])
    scratch = (np.empty(depth, np.int64), np.empty(depth, np.float32), np.empty(dim, np.float32),
               np.empty(2 * window, np.int64),
               (np.empty((2 * window, depth), np.float32), np.empty((depth, dim), np.float32),
                np.empty((2 * window, dim), np.float32)))
    done, loss, count = 0, 0.0, 0
    for s in range(sent_lo, sent_hi):
        start = ends[s - 1] if s > 0 else 0
        alpha = params[2] + (params[3] - params[2]) * (done / max(n_words, 1))
        n = O.subsample(ids, start, ends[s], tables[0], rng, sent)
        l, c = _sentence(loss_kind, shared, saturation, w_in, w_out, sent, n, tables, params, alpha, rng, scratch)
        loss += l
        count += c
        done += ends[s] - start
    tally[0] += loss
    tally[1] += count
    tally[2] += done
