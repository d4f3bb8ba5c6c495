"""The subword (fastText) kernels against the numpy reference in word2vec/training/model.py, one update at a time."""

import collections
import functools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from word2vec.text import vocab as vocab_mod
from word2vec.training import kernels_subword, model

W, BUCKETS, D, ALPHA = 7, 5, 6, 0.05
NOISE_WORD = 6
COUNTS = np.array([50, 30, 20, 12, 8, 5, 3])
SENTENCE = [0, 1, 2, 1, 3, 4, 5, 2]
# each word's rows: its own, then "n-gram" rows W.. (repeats on purpose: row W + 2 twice in word 3)
WORD_ROWS = [[0, 7, 8], [1, 9], [2, 7, 11, 10], [3, 9, 9, 11], [4], [5, 8, 10], [6, 11]]


def _csr():
    offsets = np.cumsum([0] + [len(r) for r in WORD_ROWS]).astype(np.int64)
    overlap = [sum(c * c for c in collections.Counter(r).values()) / len(r) for r in WORD_ROWS]
    return offsets, np.concatenate(WORD_ROWS).astype(np.int32), np.array(overlap, np.float32)


def _tables(loss):
    keep = np.ones(W, np.float32)  # no subsampling
    threshold, alias = np.zeros(W), np.full(W, NOISE_WORD, np.int32)  # every negative is NOISE_WORD
    if loss == "hs":
        tree = vocab_mod.huffman_tree(COUNTS)
        base = (keep, threshold, alias, tree.points, tree.codes, tree.lengths)
    else:
        tree = None
        base = (keep, threshold, alias, np.zeros((1, 1), np.int32), np.zeros((1, 1), np.uint8), np.zeros(1, np.int32))
    return base + _csr(), tree


def _weights(loss, seed=0):
    rng = np.random.default_rng(seed)
    w_in = (rng.standard_normal((W + BUCKETS, D)) * 0.3).astype(np.float32)
    w_out = (rng.standard_normal((W - 1 if loss == "hs" else W, D)) * 0.3).astype(np.float32)
    return w_in, w_out


def _run_kernel(arch, loss, sentence, w_in, w_out, tables, negative=3, cbow_mean=True):
    ids, ends, tally = np.array(sentence, np.int32), np.array([len(sentence)], np.int64), np.zeros(3)
    params = (1, negative, ALPHA, ALPHA, cbow_mean)
    kernels_subword.KERNELS[(arch, loss)](w_in, w_out, ids, ends, 0, 1, tables, params,
                                          np.array([12345], np.uint64), tally)
    return tally


def _pair_loss_fn(loss, tree, negative=3):
    if loss == "neg":
        return functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[NOISE_WORD] * negative)
    if loss == "softmax":
        return model.naive_softmax_loss_and_gradient

    def hs(vec, target, node_vectors):
        n = tree.lengths[target]
        return model.hierarchical_softmax_loss_and_gradient(vec, tree.points[target, :n], tree.codes[target, :n],
                                                            node_vectors)
    return hs


def _step(v, u, n_rows, loss, grad_v, grad_u):
    """fastText's step: the input rows move n_rows times the gradient (model.subword_step_scale)."""
    v -= ALPHA * model.subword_step_scale(n_rows) * grad_v
    u -= ALPHA * grad_u
    return loss


def _overlap(rows):
    return sum(c * c for c in collections.Counter(rows).values()) / len(rows)


def _reference_skipgram_neg(sentence, v, u, fn, window=1):
    """The neg kernel with window 1: a step per window, each context's mean predicting the center,
    the window's pairs sharing the noise words, gradients at the old weights. A position's mean is
    taken when it comes within reach of a window and then moves as its rows would (the step times
    Σc²/n); its rows get the sum of its steps (the whole step each) once it is out of reach."""
    n, means, pending, total, loaded = len(sentence), {}, {}, 0.0, 0

    def retire(p):
        for r in WORD_ROWS[sentence[p]]:
            v[r] += pending[p]

    for i, center in enumerate(sentence):
        if i - window - 1 >= 0:
            retire(i - window - 1)
        while loaded < min(n, i + window + 1):
            means[loaded] = v[WORD_ROWS[sentence[loaded]]].mean(axis=0)
            pending[loaded] = np.zeros(v.shape[1])
            loaded += 1
        contexts = [j for j in (i - 1, i + 1) if 0 <= j < n]
        results = [fn(means[j], center, u) for j in contexts]
        for j, (loss, grad_mean, grad_u) in zip(contexts, results):
            total += loss
            pending[j] -= ALPHA * grad_mean
            means[j] -= ALPHA * _overlap(WORD_ROWS[sentence[j]]) * grad_mean
            u -= ALPHA * grad_u
    for p in range(max(0, n - window - 1), n):
        retire(p)
    return total


def _reference_skipgram(loss, sentence, v, u, tree):
    """neg: see _reference_skipgram_neg. hs and softmax: one step per pair, as fastText: the
    center's rows' mean predicts each context word."""
    fn = _pair_loss_fn(loss, tree)
    if loss == "neg":
        return _reference_skipgram_neg(sentence, v, u, fn)
    total = 0.0
    for i, center in enumerate(sentence):
        for j in (i - 1, i + 1):
            if 0 <= j < len(sentence):
                rows = WORD_ROWS[center]
                total += _step(v, u, len(rows), *model.subword_skipgram(rows, [sentence[j]], v, u, fn))
    return total


def _reference_cbow(loss, sentence, v, u, tree, mean=True):
    fn, total = _pair_loss_fn(loss, tree), 0.0
    for i, target in enumerate(sentence):
        context = [WORD_ROWS[sentence[j]] for j in (i - 1, i + 1) if 0 <= j < len(sentence)]
        n_rows = sum(len(r) for r in context) if mean else 1
        total += _step(v, u, n_rows, *model.subword_cbow(target, context, v, u, fn, mean=mean))
    return total


@pytest.mark.parametrize("loss", ["neg", "hs", "softmax"])
def test_subword_skipgram_kernel_equals_reference_steps(loss):
    tables, tree = _tables(loss)
    w_in, w_out = _weights(loss)
    start = w_in.copy()
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    expected_loss = _reference_skipgram(loss, SENTENCE, v, u, tree)
    tally = _run_kernel("skipgram", loss, SENTENCE, w_in, w_out, tables)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-6)
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-6)
    assert np.abs(w_in[W:] - start[W:]).max() > 1e-3  # the n-gram rows were trained
    assert tally[0] == pytest.approx(expected_loss, rel=1e-5)
    assert tally[1] == 2 * (len(SENTENCE) - 1) and tally[2] == len(SENTENCE)


def test_subword_skipgram_neg_by_pair_equals_fasttexts_order():
    # the cluster replicas' kernel: one step per pair, the center's mean predicting each context
    tables, tree = _tables("neg")
    w_in, w_out = _weights("neg", seed=4)
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    fn, expected_loss = _pair_loss_fn("neg", tree), 0.0
    for i, center in enumerate(SENTENCE):
        for j in (i - 1, i + 1):
            if 0 <= j < len(SENTENCE):
                rows = WORD_ROWS[center]
                expected_loss += _step(v, u, len(rows), *model.subword_skipgram(rows, [SENTENCE[j]], v, u, fn))
    ids, ends, tally = np.array(SENTENCE, np.int32), np.array([len(SENTENCE)], np.int64), np.zeros(3)
    kernels_subword.train_subword_skipgram_neg_by_pair(w_in, w_out, ids, ends, 0, 1, tables, (1, 3, ALPHA, ALPHA, True),
                                                       np.array([12345], np.uint64), tally)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-6)
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-6)
    assert tally[0] == pytest.approx(expected_loss, rel=1e-5)


@pytest.mark.parametrize("loss", ["neg", "hs", "softmax"])
@pytest.mark.parametrize("mean", [True, False])
def test_subword_cbow_kernel_equals_reference_steps(loss, mean):
    tables, tree = _tables(loss)
    w_in, w_out = _weights(loss, seed=1)
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    expected_loss = _reference_cbow(loss, SENTENCE, v, u, tree, mean=mean)
    tally = _run_kernel("cbow", loss, SENTENCE, w_in, w_out, tables, cbow_mean=mean)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-5)
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-5)
    assert tally[0] == pytest.approx(expected_loss, rel=1e-5)
    assert tally[1] == len(SENTENCE)


def test_every_row_gets_the_whole_hidden_gradient():
    # one pair, one output row: each of the center's rows moves by the same vector, and the
    # row listed twice (word 3's row 9) by twice that vector
    tables, _ = _tables("softmax")
    w_in, w_out = _weights("softmax", seed=3)
    before = w_in.copy()
    _run_kernel("skipgram", "softmax", [3, 0], w_in, w_out, tables)
    # pair (3 -> 0) moves rows 3, 9, 9, 11; then pair (0 -> 3) moves rows 0, 7, 8
    moved = w_in - before
    assert_allclose(moved[9], 2 * moved[3], rtol=1e-5, atol=1e-7)
    assert_allclose(moved[11], moved[3], rtol=1e-5, atol=1e-7)
    assert_allclose(moved[7], moved[0], rtol=1e-5, atol=1e-7)
    assert np.abs(moved[3]).max() > 1e-4 and not moved[[1, 2, 4, 5, 6, 10]].any()
