"""The compiled kernels against the numpy reference in word2vec/model.py, one update at a time."""

import functools
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from word2vec.training import kernel_ops, kernels
from word2vec.training import model
from word2vec.text import vocab as vocab_mod

W, D, ALPHA = 7, 6, 0.05
NOISE_WORD = 6  # every negative is this word: the "fixed negatives" of the tests


def _tables(counts, loss, negative_word=NOISE_WORD):
    keep = np.ones(len(counts), np.float32)  # no subsampling
    threshold = np.zeros(len(counts))  # always take the alias ...
    alias = np.full(len(counts), negative_word, np.int32)  # ... which is the fixed noise word
    if loss == "hs":
        tree = vocab_mod.huffman_tree(counts)
        return (keep, threshold, alias, tree.points, tree.codes, tree.lengths), tree
    return (keep, threshold, alias, np.zeros((1, 1), np.int32), np.zeros((1, 1), np.uint8), np.zeros(1, np.int32)), None


def _weights(loss, seed=0):
    rng = np.random.default_rng(seed)
    w_in = (rng.standard_normal((W, D)) * 0.3).astype(np.float32)
    n_out = W - 1 if loss == "hs" else W
    w_out = (rng.standard_normal((n_out, D)) * 0.3).astype(np.float32)
    return w_in, w_out


def _run_kernel(arch, loss, sentence, w_in, w_out, tables, negative=3, cbow_mean=True):
    """One call of the kernel on one sentence, window 1, constant alpha; returns the tally."""
    ids = np.array(sentence, np.int32)
    ends = np.array([len(sentence)], np.int64)
    tally = np.zeros(3)
    params = (1, negative, ALPHA, ALPHA, cbow_mean)
    kernels.KERNELS[(arch, loss)](w_in, w_out, ids, ends, 0, 1, tables, params,
                                  np.array([12345], np.uint64), tally)
    return tally


def _step(v, u, loss, grad_v, grad_u):
    """Apply one SGD step to float64 copies."""
    v -= ALPHA * grad_v
    u -= ALPHA * grad_u
    return loss


def _pair_loss_fn(loss, tree, negative):
    if loss == "neg":
        return functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[NOISE_WORD] * negative)
    if loss == "softmax":
        return model.naive_softmax_loss_and_gradient

    def hs(center_vec, target, node_vectors):
        n = tree.lengths[target]
        return model.hierarchical_softmax_loss_and_gradient(
            center_vec, tree.points[target, :n], tree.codes[target, :n], node_vectors)

    return hs


def _reference_skipgram(loss, sentence, v, u, tree, negative=3):
    """What the kernels do with window 1: for each center i, its contexts predict sent[i].

    neg: one step per window (its pairs share the negatives, gradients at the old weights);
    hs and softmax: one step per pair.
    """
    fn = _pair_loss_fn(loss, tree, negative)
    total = 0.0
    for i, target in enumerate(sentence):
        contexts = [sentence[j] for j in (i - 1, i + 1) if 0 <= j < len(sentence)]
        if loss == "neg":
            grads = [model.skipgram(c, [target], v, u, fn) for c in contexts]
            for l, gv, gu in grads:
                total += _step(v, u, l, gv, gu)
        else:
            for c in contexts:
                total += _step(v, u, *model.skipgram(c, [target], v, u, fn))
    return total


def _reference_cbow(loss, sentence, v, u, tree, negative=3, mean=True):
    fn = _pair_loss_fn(loss, tree, negative)
    total = 0.0
    for i, target in enumerate(sentence):
        contexts = [sentence[j] for j in (i - 1, i + 1) if 0 <= j < len(sentence)]
        total += _step(v, u, *model.cbow(target, contexts, v, u, fn, mean=mean))
    return total


COUNTS = np.array([50, 30, 20, 12, 8, 5, 3])
SENTENCE = [0, 1, 2, 1, 3, 4, 5, 2]  # never the noise word 6: the kernel skips a target drawn as negative


@pytest.mark.parametrize("loss", ["neg", "hs", "softmax"])
def test_skipgram_kernel_equals_reference_steps(loss):
    tables, tree = _tables(COUNTS, loss)
    w_in, w_out = _weights(loss)
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    expected_loss = _reference_skipgram(loss, SENTENCE, v, u, tree)
    tally = _run_kernel("skipgram", loss, SENTENCE, w_in, w_out, tables)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-6)
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-6)
    assert tally[0] == pytest.approx(expected_loss, rel=1e-5)
    assert tally[1] == 2 * (len(SENTENCE) - 1)  # window 1: every adjacent pair, both ways
    assert tally[2] == len(SENTENCE)


@pytest.mark.parametrize("loss", ["neg", "hs", "softmax"])
@pytest.mark.parametrize("mean", [True, False])
def test_cbow_kernel_equals_reference_steps(loss, mean):
    tables, tree = _tables(COUNTS, loss)
    w_in, w_out = _weights(loss, seed=1)
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    expected_loss = _reference_cbow(loss, SENTENCE, v, u, tree, mean=mean)
    tally = _run_kernel("cbow", loss, SENTENCE, w_in, w_out, tables, cbow_mean=mean)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-6)
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-6)
    assert tally[0] == pytest.approx(expected_loss, rel=1e-5)
    assert tally[1] == len(SENTENCE)


@pytest.mark.parametrize("negative", [1, 5, 7])
def test_repeated_negatives_accumulate_in_the_kernel(negative):
    # every negative is the same word, so its output row gets `negative` accumulated terms;
    # overwriting instead of adding would break the equality with the reference
    tables, _ = _tables(COUNTS, "neg")
    w_in, w_out = _weights("neg", seed=2)
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    _reference_skipgram("neg", [0, 1, 2], v, u, None, negative=negative)
    _run_kernel("skipgram", "neg", [0, 1, 2], w_in, w_out, tables, negative=negative)
    assert np.abs(u[NOISE_WORD] - _weights("neg", seed=2)[1][NOISE_WORD]).max() > 1e-3
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-6)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dim", [13, 16])
@pytest.mark.parametrize("rows", [[3, 7, 1], [3, 7, 1, 9, 0, 5], [3, 7, 1, 9, 0, 5, 2, 8], [3, 7, 7, 9, 3, 5, 7]])
def test_window_step_against_numpy(dim, rows):
    """One window of skip-gram neg (`kernels.neg_window`: the six-row pass, the rows after it,
    and fewer than six rows) against the same minibatch step in numpy: distinct and repeated
    output rows, dimensions with and without a tail past 8 floats."""
    rng = np.random.default_rng(dim + len(rows))
    w_in = rng.normal(0, 0.5, (12, dim)).astype(np.float32)
    w_out = rng.normal(0, 0.5, (12, dim)).astype(np.float32)
    contexts, targets = np.array([4, 6, 10, 4, 11], np.int64), np.array(rows, np.int64)
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    scores = v[contexts] @ u[targets].T
    labels = np.zeros(len(rows))
    labels[0] = 1.0
    grads = ALPHA * (labels - model.sigmoid(scores))
    expected_loss = -np.sum(np.log(model.sigmoid(np.where(labels > 0, scores, -scores))))
    delta_in, delta_out = grads @ u[targets], grads.T @ v[contexts]
    np.add.at(u, targets, delta_out)
    np.add.at(v, contexts, delta_in)
    m, t = len(contexts), len(rows)
    block = (np.zeros((m, t), np.float32), np.zeros((t, dim), np.float32), np.zeros((m, dim), np.float32))
    loss = kernels.neg_window(w_in, w_out, contexts, m, targets, t, ALPHA, block)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-6)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("rows", [[3, 7, 1], [3, 7, 1, 9, 0, 5], [3, 7, 1, 9, 0, 5, 2, 8], [3, 7, 7, 9, 3, 5, 7]])
def test_scores_and_apply_against_numpy(rows):
    """The output layer of one hidden vector (CBOW's neg, the subword kernels): the six-row
    pass, the rows after it, fewer than six rows, a row listed more than once."""
    rng = np.random.default_rng(len(rows))
    dim, targets = 13, np.array(rows, np.int64)
    h, w_out = rng.normal(0, 0.5, dim).astype(np.float32), rng.normal(0, 0.5, (12, dim)).astype(np.float32)
    out = np.zeros(len(rows), np.float32)
    kernel_ops.scores(h, w_out, targets, len(rows), out)
    assert_allclose(out, w_out[targets] @ h, rtol=1e-5, atol=1e-6)
    grads = rng.normal(0, 0.1, len(rows)).astype(np.float32)
    grad_h = np.zeros(dim, np.float32)
    u = w_out.astype(np.float64)
    expected_grad_h = grads @ u[targets]
    np.add.at(u, targets, np.outer(grads, h))
    kernel_ops.apply(h, grad_h, w_out, targets, grads, len(rows))
    assert_allclose(grad_h, expected_grad_h, rtol=1e-5, atol=1e-6)
    assert_allclose(w_out, u, rtol=1e-5, atol=1e-6)


def test_negative_equal_to_target_is_skipped():
    # the noise word is the target itself: only the positive term is trained (C tool, gensim)
    tables, _ = _tables(COUNTS, "neg", negative_word=1)
    w_in, w_out = _weights("neg")
    v, u = w_in.astype(np.float64), w_out.astype(np.float64)
    _run_kernel("skipgram", "neg", [0, 1], w_in, w_out, tables, negative=4)
    # center 0 <- context 1 (noise 1 != target 0: 4 negatives); center 1 <- context 0 (all skipped)
    fn = functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[1] * 4)
    _step(v, u, *model.skipgram(1, [0], v, u, fn))
    _step(v, u, *model.skipgram(0, [1], v, u, functools.partial(model.neg_sampling_loss_and_gradient,
                                                                 negative_indices=[])))
    assert_allclose(w_out, u, rtol=1e-4, atol=1e-6)
    assert_allclose(w_in, v, rtol=1e-4, atol=1e-6)


def test_sigmoid_tables_are_accurate():
    x = np.linspace(-12, 12, 2001)
    sig = np.array([kernel_ops.sigmoid(v) for v in x])
    logsig = np.array([kernel_ops.log_sigmoid(v) for v in x])
    assert_allclose(sig, model.sigmoid(x), atol=2e-7)
    assert_allclose(logsig, -np.logaddexp(0, -x), atol=2e-6, rtol=1e-6)


def test_sigmoid_in_float32_as_the_kernels_call_it():
    """Float32 scores (the kernels'), the table's edges where x + 8 rounds to 16, and scores
    that are not finite: accurate, and never a read outside the table."""
    edge = np.nextafter(np.float32(8), np.float32(0))
    x = np.concatenate([np.linspace(-12, 12, 4001, dtype=np.float32), [edge, -edge, np.float32(1e30)]])
    pairs = np.array([kernel_ops.sigmoid_and_log(v) for v in x], dtype=np.float64)
    exact = x.astype(np.float64)
    assert_allclose(pairs[:, 0], model.sigmoid(exact), atol=5e-7)
    assert_allclose(pairs[:, 1], -np.logaddexp(0, -exact), atol=2e-6, rtol=1e-6)
    assert np.isnan(kernel_ops.sigmoid_and_log(np.float32(np.nan))).all()
    assert kernel_ops.sigmoid_and_log(np.float32(np.inf)) == (1.0, 0.0)
    assert kernel_ops.sigmoid_and_log(np.float32(-np.inf)) == (0.0, -np.inf)


def test_rng_is_deterministic_and_uniform():
    state = np.array([kernel_ops.seed_state(7)], np.uint64)
    draws = np.array([kernel_ops.uniform(state) for _ in range(20000)])
    again = np.array([kernel_ops.seed_state(7)], np.uint64)
    assert kernel_ops.uniform(again) == draws[0]
    assert 0.0 <= draws.min() and draws.max() < 1.0
    assert abs(draws.mean() - 0.5) < 0.01
    below = np.array([kernel_ops.below(state, 5) for _ in range(20000)])
    assert set(below.tolist()) == {0, 1, 2, 3, 4}
    assert kernel_ops.seed_state(1) != kernel_ops.seed_state(2)
    # splitmix64's first output from state 0 (its reference values), so the wrap-around modulo 2^64 is right
    assert kernel_ops.seed_state(0) == 0xE220A8397B1DCDAF and kernel_ops.seed_state(1 << 40) > 0


def test_noise_sampling_follows_the_distribution():
    probs = vocab_mod.noise_distribution(np.array([100, 50, 10, 1, 1]), 0.75)
    threshold, alias = vocab_mod.alias_table(probs)
    state = np.array([kernel_ops.seed_state(3)], np.uint64)
    draws = np.array([kernel_ops.sample_noise(state, threshold, alias) for _ in range(100000)])
    assert_allclose(np.bincount(draws, minlength=5) / len(draws), probs, atol=0.005)


def test_subsampling_in_kernel_drops_frequent_words():
    keep = np.array([0.1, 1.0], np.float32)
    ids = np.array([0, 1] * 5000, np.int32)
    out = np.empty(len(ids), np.int32)
    n = kernel_ops.subsample(ids, 0, len(ids), keep, np.array([kernel_ops.seed_state(5)], np.uint64), out)
    kept = out[:n]
    assert (kept == 1).sum() == 5000
    assert abs((kept == 0).sum() / 5000 - 0.1) < 0.02


def test_kernel_import_leaves_scipy_importable():
    """kernel_ops hides scipy.linalg from numba's BLAS probe only during that import."""
    pytest.importorskip("scipy.linalg")
    code = ("import sys, word2vec.training.kernel_ops\n"
            "assert 'numba.np.arraymath' in sys.modules and 'scipy.linalg' not in sys.modules\n"
            "import scipy.linalg.cython_blas\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
