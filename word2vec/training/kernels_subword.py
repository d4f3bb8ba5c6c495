"""Compiled training kernels of the subword (fastText) model: skip-gram and CBOW with neg, hs and softmax.

A word's input vector is the mean of its rows of `w_in`: its own row and its n-gram rows
(see `text.subwords.word_rows`). As in fastText's `Model::update`, every row that made the
hidden vector receives the whole hidden gradient, not a 1/n share of it (see
`model.subword_step_scale`).

Skip-gram with `neg` trains as the word kernel does (`kernels.neg_window`): a window at a
time, the subword mean of each context word predicts the center word, the window's pairs
share their noise words and take their gradients at the old weights, and every row of a
context word gets the whole gradient of its mean; a position's rows are read and written
once (see `_sg_neg_sentence`). On the text8 prefix, at scripts/bench.py's settings (3 seeds),
this scores analogy 42.8% against 38.5%, MEN 0.437 against 0.389, MTurk 0.325 against 0.300
and WS-353 0.456 against 0.454 for fastText's order (the center's mean predicting each
context word, one pair at a time, fresh noise words for each pair), in two thirds of the time.

Skip-gram with hs and softmax keeps fastText's order, one step per pair, but gathers and
spreads the center's rows once per center rather than once per pair: when a pair's gradient
g reaches every row of the bag, the bag's mean moves by g · Σ_r c_r² / n (c_r the times row
r is listed, n the length of the bag; 1 when no row repeats), so the next pair's hidden
vector is updated in place, and the pairs' gradients are summed and spread at the end.
Up to rounding this is the per-pair update. CBOW pools the rows of all context words into
one mean.

Arguments are those of the `kernels.train_*` functions, with `w_in` of shape
(W + U, d) (the rows training holds, see `subword_model.Layout`) and three more tables at
the end of `tables`:
    offsets int64 (W + 1,), rows int32 (R,)   word w's rows are rows[offsets[w]:offsets[w + 1]]
    overlap float32 (W,)                      Σ_r c_r² / n of each word's rows
The RNG, sigmoid, noise and subsampling helpers, the logistic rows (`kernel_ops.scores`,
`apply`) and the window step of `neg` (`kernels.neg_window`) are shared with `kernels`; the
output layer over several targets at once (neg, hs and softmax) is this module's own.
"""

import numpy as np
from numba import njit

from .kernel_ops import (LOSS_HS, LOSS_NEG, LOSS_SOFTMAX, apply, below, draw_targets, logistic, neg_rows,
                         next_targets, prefetch_row, sample_noise, scores, subsample)
from .kernels import neg_window, window_block

JIT_OPTIONS = dict(nogil=True, fastmath=True, cache=True)


@njit(**JIT_OPTIONS)
def _gather(offsets, rows, word, bag, n):
    """Append word's input rows to bag[n:]; return the new length."""
    for t in range(offsets[word], offsets[word + 1]):
        bag[n] = rows[t]
        n += 1
    return n


@njit(**JIT_OPTIONS)
def _hidden(w_in, bag, n, scale, h):
    """h = scale · Σ w_in[bag[:n]], four rows a pass (a third less time than one a pass)."""
    h[:] = 0.0
    t = 0
    while t + 4 <= n:
        r0, r1, r2, r3 = bag[t], bag[t + 1], bag[t + 2], bag[t + 3]
        for k in range(h.shape[0]):
            h[k] += (w_in[r0, k] + w_in[r1, k]) + (w_in[r2, k] + w_in[r3, k])
        t += 4
    for t in range(t, n):
        r = bag[t]
        for k in range(h.shape[0]):
            h[k] += w_in[r, k]
    for k in range(h.shape[0]):
        h[k] *= scale


@njit(**JIT_OPTIONS)
def _add(out, scale, x):
    """out += scale · x."""
    for k in range(out.shape[0]):
        out[k] += scale * x[k]


@njit(**JIT_OPTIONS)
def _spread(w_in, bag, n, grad_h):
    """Add the whole hidden gradient to every row in bag[:n] (a row listed twice gets it twice)."""
    for t in range(n):
        r = bag[t]
        for k in range(grad_h.shape[0]):
            w_in[r, k] += grad_h[k]


@njit(**JIT_OPTIONS)
def _logistic_rows(h, grad_h, w_out, out_rows, labels, n, alpha, grads):
    """Binary logistic outputs on w_out[out_rows[:n]], all gradients at the old weights; the loss."""
    scores(h, w_out, out_rows, n, grads)
    loss = 0.0
    for i in range(n):
        loss += logistic(grads[i], labels[i], alpha, grads, i)  # the score becomes the step
    apply(h, grad_h, w_out, out_rows, grads, n)
    return loss


@njit(**JIT_OPTIONS)
def _softmax(h, grad_h, w_out, targets, k, scores, alpha):
    """Exact softmax of h against each of targets[:k], gradients at the old weights; the summed loss.

    The k predictions share h, so they share the probabilities p: the step of output row w is
    alpha · (count of w among the targets − k · p_w).
    """
    n_words, dim = w_out.shape
    for w in range(n_words):
        s = 0.0
        for k2 in range(dim):
            s += h[k2] * w_out[w, k2]
        scores[w] = s
    top = scores[:n_words].max()
    total = 0.0
    for w in range(n_words):
        total += np.exp(scores[w] - top)
    loss = k * (np.log(total) + top)
    for t in range(k):
        loss -= scores[targets[t]]
    for w in range(n_words):
        scores[w] = -k * np.exp(scores[w] - top) / total
    for t in range(k):
        scores[targets[t]] += 1.0
    for w in range(n_words):
        g = np.float32(alpha * scores[w])
        for k2 in range(dim):
            grad_h[k2] += g * w_out[w, k2]
            w_out[w, k2] += g * h[k2]
    return loss


@njit(**JIT_OPTIONS)
def output(loss_kind, h, targets, k, w_out, tables, negative, alpha, rng, work):
    """Train the output layer on h for each of targets[:k] at once (gradients at the old weights);
    grad_h gets −alpha · ∂loss/∂h. Returns the summed loss."""
    grad_h, scores, out_rows, labels, grads = work[1], work[2], work[3], work[4], work[5]
    grad_h[:] = 0.0
    if loss_kind == LOSS_SOFTMAX:
        return _softmax(h, grad_h, w_out, targets, k, scores, alpha)
    n = 0
    for t in range(k):
        target = targets[t]
        if loss_kind == LOSS_NEG:
            out_rows[n], labels[n] = target, 1.0
            n += 1
            for _ in range(negative):
                noise = sample_noise(rng, tables[1], tables[2])
                if noise != target:  # as the word kernels: the target is never its own negative
                    out_rows[n], labels[n] = noise, 0.0
                    n += 1
        else:
            points, codes, lengths = tables[3], tables[4], tables[5]
            for i in range(lengths[target]):
                out_rows[n], labels[n] = points[target, i], 1.0 - codes[target, i]
                n += 1
    return _logistic_rows(h, grad_h, w_out, out_rows, labels, n, alpha, grads)


@njit(**JIT_OPTIONS)
def _noise_ahead(targets, k, negative, tables, rng, noise, w_out):
    """Draw the noise words of k pairs, in the order `output` would draw them, and start
    loading their output rows and the targets' while the first pairs train."""
    for t in range(k):
        prefetch_row(w_out, targets[t])
        for q in range(negative):
            noise[t * negative + q] = sample_noise(rng, tables[1], tables[2])
            prefetch_row(w_out, noise[t * negative + q])


@njit(**JIT_OPTIONS)
def _pair_neg(h, grad_h, w_out, target, noise, at, negative, alpha, out_rows, grads):
    """`output` for one neg pair whose noise words are drawn already, noise[at:at + negative]."""
    grad_h[:] = 0.0
    out_rows[0] = target
    n = 1
    for q in range(at, at + negative):
        r = noise[q]
        if r != target:  # as the word kernels: the target is never its own negative
            out_rows[n] = r
            n += 1
    return neg_rows(h, grad_h, w_out, out_rows, n, alpha, grads)


@njit(**JIT_OPTIONS)
def _prefetch_bag(w_in, offsets, rows, word):
    """Start loading the input rows of `word` (the next center) while this one trains."""
    for t in range(offsets[word], offsets[word + 1]):
        prefetch_row(w_in, rows[t])


@njit(**JIT_OPTIONS)
def _sg_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work):
    """One step per pair, fastText's order: the center's subword mean predicts each context word in turn.

    The next center's input rows, and with `neg` all the pairs' output rows, are prefetched:
    the bucket rows are scattered over a matrix far larger than the cache.
    """
    window, negative = params[0], params[1]
    offsets, rows, overlap = tables[6], tables[7], tables[8]
    h, grad_h, bag, targets, total, noise = work[0], work[1], work[6], work[7], work[8], work[9]
    loss, pairs = 0.0, 0
    for i in range(n):
        if i + 1 < n:
            _prefetch_bag(w_in, offsets, rows, sent[i + 1])
        b = below(rng, window)  # dynamic window: effective size window - b
        k = 0
        for j in range(max(0, i - window + b), min(n, i + window - b + 1)):
            if j != i:
                targets[k] = sent[j]
                k += 1
        if k == 0:
            continue
        if loss_kind == LOSS_NEG:
            _noise_ahead(targets, k, negative, tables, rng, noise, w_out)
        m = _gather(offsets, rows, sent[i], bag, 0)
        _hidden(w_in, bag, m, np.float32(1.0 / m), h)
        total[:] = 0.0
        for t in range(k):
            if loss_kind == LOSS_NEG:
                loss += _pair_neg(h, grad_h, w_out, targets[t], noise, t * negative, negative, alpha, work[3], work[5])
            else:
                loss += output(loss_kind, h, targets[t:t + 1], 1, w_out, tables, negative, alpha, rng, work)
            _add(total, np.float32(1.0), grad_h)
            _add(h, overlap[sent[i]], grad_h)  # the mean of the rows, had the pair's step reached them
        _spread(w_in, bag, m, total)
        pairs += k
    return loss, pairs


@njit(**JIT_OPTIONS)
def _ring(dim, window, most_rows):
    """The positions a window of skip-gram neg can reach, 2 · window + 1 of them, each in slot
    position % size: (means (size, dim), pending gradients (size, dim), rows (size, most_rows),
    number of rows (size,), words (size,))."""
    size = 2 * window + 1
    return (np.empty((size, dim), np.float32), np.empty((size, dim), np.float32),
            np.empty((size, most_rows), np.int64), np.empty(size, np.int64), np.empty(size, np.int64))


@njit(**JIT_OPTIONS)
def _load(w_in, offsets, rows, word, ring, slot):
    """Put word's rows and their mean in the slot; nothing pending yet."""
    means, pending, bags, sizes, words = ring
    m = _gather(offsets, rows, word, bags[slot], 0)
    sizes[slot], words[slot] = m, word
    _hidden(w_in, bags[slot], m, np.float32(1.0 / m), means[slot])
    pending[slot, :] = 0.0


@njit(**JIT_OPTIONS)
def _retire(w_in, ring, slot):
    """Add the slot's pending gradient to every one of its rows."""
    _spread(w_in, ring[2][slot], ring[3][slot], ring[1][slot])


@njit(**JIT_OPTIONS)
def _sg_neg_sentence(w_in, w_out, sent, n, tables, params, alpha, rng, work, block, ring):
    """Skip-gram with negative sampling, a window at a time, as the word kernel: the subword mean
    of each context word predicts the center word, the window's pairs share their noise words and
    take their gradients at the old weights (`kernels.neg_window` over the contexts' means), and
    every row of a context word gets the whole gradient of its mean.

    A position's rows are read once, when it comes within reach of a window, and written once,
    when it leaves: in between its mean is kept in the ring and moves as its rows would (by each
    gradient times the word's Σc²/n, see `Layout.overlap`), and the gradients wait in `pending`.
    So the rows of a word that two nearby positions share see the first position's steps a few
    words late, as a Hogwild thread would; for one position alone this is the update of every
    window in turn. Each window's targets are drawn one window early so that their output rows,
    and the rows of the word about to come within reach, are on their way into the cache.
    """
    window, negative = params[0], params[1]
    offsets, rows, overlap = tables[6], tables[7], tables[8]
    means, pending, words = ring[0], ring[1], ring[4]
    size = means.shape[0]
    targets, ahead, slots, steps = work[3], block[4], block[3], block[2]
    loss, pairs, loaded = 0.0, 0, 0
    n_ahead = draw_targets(sent[0], negative, tables[1], tables[2], rng, ahead) if n > 0 else 0
    for i in range(n):
        if i - window - 1 >= 0:
            _retire(w_in, ring, (i - window - 1) % size)  # out of reach from here on
        while loaded < min(n, i + window + 1):
            _load(w_in, offsets, rows, sent[loaded], ring, loaded % size)
            loaded += 1
        n_targets, n_ahead = next_targets(sent, i, n, negative, tables[1], tables[2], rng, targets, ahead, n_ahead,
                                          w_out)
        if i + 1 + window < n:
            _prefetch_bag(w_in, offsets, rows, sent[i + 1 + window])
        b = below(rng, window)  # dynamic window: effective size window - b
        m = 0
        for j in range(max(0, i - window + b), min(n, i + window - b + 1)):
            if j != i:
                slots[m] = j % size
                m += 1
        if m == 0:
            continue
        loss += neg_window(means, w_out, slots, m, targets, n_targets, alpha, block[:3])  # means += steps
        for c in range(m):
            slot = slots[c]
            _add(pending[slot], np.float32(1.0), steps[c])
            extra = overlap[words[slot]] - np.float32(1.0)
            if extra != 0.0:  # a row listed twice moves the mean twice as far
                _add(means[slot], extra, steps[c])
        pairs += m
    for p in range(max(0, n - window - 1), n):
        _retire(w_in, ring, p % size)
    return loss, pairs


@njit(**JIT_OPTIONS)
def _cbow_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work):
    window, negative, cbow_mean = params[0], params[1], params[4]
    offsets, rows = tables[6], tables[7]
    h, grad_h, bag, targets = work[0], work[1], work[6], work[7]
    loss, predictions = 0.0, 0
    for i in range(n):
        b = below(rng, window)
        m = 0
        for j in range(max(0, i - window + b), min(n, i + window - b + 1)):
            if j != i:
                m = _gather(offsets, rows, sent[j], bag, m)
        if m == 0:
            continue
        _hidden(w_in, bag, m, np.float32(1.0 / m) if cbow_mean else np.float32(1.0), h)
        targets[0] = sent[i]
        loss += output(loss_kind, h, targets, 1, w_out, tables, negative, alpha, rng, work)
        _spread(w_in, bag, m, grad_h)
        predictions += 1
    return loss, predictions


@njit(**JIT_OPTIONS)
def _workspace(loss_kind, dim, n_out, negative, depth, window, most_rows):
    """Scratch: (h, grad_h, softmax scores, output rows, labels, output gradients, input rows, targets,
    summed gradient, noise words drawn ahead)."""
    n_scores = n_out if loss_kind == LOSS_SOFTMAX else 1
    n_rows = 2 * window * max(negative + 1, depth)
    return (np.empty(dim, np.float32), np.empty(dim, np.float32), np.empty(n_scores, np.float64),
            np.empty(n_rows, np.int64), np.empty(n_rows, np.float32), np.empty(n_rows, np.float32),
            np.empty(2 * window * most_rows, np.int64), np.empty(2 * window, np.int64), np.empty(dim, np.float32),
            np.empty(2 * window * max(negative, 1), np.int64))


@njit(**JIT_OPTIONS)
def _train(arch_cbow, loss_kind, by_pair, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    """Train on sentences [sent_lo, sent_hi); the learning rate falls linearly across them. With `by_pair`,
    skip-gram neg takes fastText's order (`_sg_sentence`) instead of windows (`_sg_neg_sentence`)."""
    if sent_hi <= sent_lo:
        return
    alpha_start, alpha_end = params[2], params[3]
    first = ends[sent_lo - 1] if sent_lo > 0 else 0
    n_words = ends[sent_hi - 1] - first
    longest = 1
    for s in range(sent_lo, sent_hi):
        longest = max(longest, ends[s] - (ends[s - 1] if s > 0 else 0))
    offsets = tables[6]
    most_rows = 1
    for w in range(len(offsets) - 1):
        most_rows = max(most_rows, offsets[w + 1] - offsets[w])
    sent = np.empty(longest, dtype=np.int32)
    work = _workspace(loss_kind, w_in.shape[1], w_out.shape[0], params[1], tables[3].shape[1], params[0], most_rows)
    block = window_block(w_in.shape[1], params[0], params[1])
    ring = _ring(w_in.shape[1], params[0], most_rows)
    done, loss, count = 0, 0.0, 0
    for s in range(sent_lo, sent_hi):
        start = ends[s - 1] if s > 0 else 0
        alpha = alpha_start + (alpha_end - alpha_start) * (done / max(n_words, 1))
        n = subsample(ids, start, ends[s], tables[0], rng, sent)
        if arch_cbow:
            l, c = _cbow_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work)
        elif loss_kind == LOSS_NEG and not by_pair:
            l, c = _sg_neg_sentence(w_in, w_out, sent, n, tables, params, alpha, rng, work, block, ring)
        else:
            l, c = _sg_sentence(loss_kind, w_in, w_out, sent, n, tables, params, alpha, rng, work)
        loss += l
        count += c
        done += ends[s] - start
    tally[0] += loss
    tally[1] += count
    tally[2] += done


@njit(**JIT_OPTIONS)
def train_subword_skipgram_neg(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_NEG, False, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_subword_skipgram_hs(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_HS, False, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_subword_skipgram_softmax(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(False, LOSS_SOFTMAX, False, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_subword_cbow_neg(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_NEG, False, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_subword_cbow_hs(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_HS, False, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_subword_cbow_softmax(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    _train(True, LOSS_SOFTMAX, False, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


@njit(**JIT_OPTIONS)
def train_subword_skipgram_neg_by_pair(w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally):
    """Skip-gram neg in fastText's order, one step per pair: what cluster replicas train
    (`subword_model.kernel_and_tables`)."""
    _train(False, LOSS_NEG, True, w_in, w_out, ids, ends, sent_lo, sent_hi, tables, params, rng, tally)


KERNELS = {
    ("skipgram", "neg"): train_subword_skipgram_neg,
    ("skipgram", "hs"): train_subword_skipgram_hs,
    ("skipgram", "softmax"): train_subword_skipgram_softmax,
    ("cbow", "neg"): train_subword_cbow_neg,
    ("cbow", "hs"): train_subword_cbow_hs,
    ("cbow", "softmax"): train_subword_cbow_softmax,
}
