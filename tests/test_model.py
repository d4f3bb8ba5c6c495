"""Tests of the reference losses in word2vec.training.model: hand-computed values, shapes and finite-difference gradients."""

import functools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from word2vec.training import model
from word2vec.training.gradcheck import gradient_check

TOLERANCE = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def small(rng, *shape):
    """Well-conditioned random floats of the given shape."""
    return 0.5 * rng.standard_normal(shape)


def errors_per_argument(fn, args, array_positions):
    """Gradient-check error of each gradient `fn(*args)` returns, wrt the argument at the matching position."""
    errors = []
    for k, position in enumerate(array_positions):

        def f(x, k=k, position=position):
            call = list(args)
            call[position] = x
            loss, *grads = fn(*call)
            return loss, grads[k]

        errors.append(gradient_check(f, args[position]))
    return errors


def hs_by_word(paths):
    """Per-word hierarchical-softmax loss with the signature skipgram and cbow expect."""

    def loss_and_gradient(center_vec, word_idx, node_vectors):
        nodes, codes = paths[word_idx]
        return model.hierarchical_softmax_loss_and_gradient(center_vec, nodes, codes, node_vectors)

    return loss_and_gradient


# --- sigmoid -----------------------------------------------------------------


def test_sigmoid_matches_definition():
    x = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(model.sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-14, atol=0)


def test_sigmoid_is_stable_at_extremes():
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        values = model.sigmoid(np.array([-1000.0, 1000.0]))
        low, high = model.sigmoid(-1000.0), model.sigmoid(1000.0)
    np.testing.assert_array_equal(values, [0.0, 1.0])
    assert (low, high) == (0.0, 1.0)


def test_sigmoid_keeps_shape_and_symmetry():
    x = np.arange(-3.0, 3.0).reshape(2, 3)
    assert model.sigmoid(x).shape == (2, 3)
    assert np.ndim(model.sigmoid(0.0)) == 0 and model.sigmoid(0.0) == 0.5
    np.testing.assert_allclose(model.sigmoid(-x), 1.0 - model.sigmoid(x), rtol=1e-13)


def test_sigmoid_derivative_passes_gradcheck(rng):
    def f(x):
        s = model.sigmoid(x)
        return float(s.sum()), s * (1.0 - s)

    assert gradient_check(f, 3.0 * rng.standard_normal(12)) < TOLERANCE


# --- naive softmax -----------------------------------------------------------


def test_softmax_loss_is_minus_log_probability(rng):
    v, u = small(rng, 5), small(rng, 8, 5)
    probabilities = np.exp(u @ v) / np.exp(u @ v).sum()
    for o in range(8):
        loss, _, _ = model.naive_softmax_loss_and_gradient(v, o, u)
        assert loss == pytest.approx(-np.log(probabilities[o]), rel=1e-12)


def test_softmax_survives_huge_scores():
    v = np.array([1.0, 0.0])
    u = np.array([[1000.0, 0.0], [999.0, 0.0]])
    loss, grad_v, grad_u = model.naive_softmax_loss_and_gradient(v, 1, u)
    # −log(e^999 / (e^1000 + e^999)) = log(1 + e)
    assert loss == pytest.approx(np.log1p(np.e), rel=1e-12)
    assert np.isfinite(grad_v).all() and np.isfinite(grad_u).all()


def test_softmax_gradients_pass_gradcheck(rng):
    args = (small(rng, 5), 3, small(rng, 9, 5))
    errors = errors_per_argument(model.naive_softmax_loss_and_gradient, args, [0, 2])
    assert max(errors) < TOLERANCE


# --- negative sampling -------------------------------------------------------


def test_neg_sampling_two_word_example_by_hand():
    v = np.array([2.0, -1.0])
    u = np.eye(2)  # u_0ᵀv = 2, u_1ᵀv = −1
    loss, grad_v, grad_u = model.neg_sampling_loss_and_gradient(v, 0, u, [1])
    s = model.sigmoid
    assert loss == pytest.approx(np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0)), rel=1e-12)
    np.testing.assert_allclose(grad_v, (s(2.0) - 1.0) * u[0] + s(-1.0) * u[1], rtol=1e-12)
    np.testing.assert_allclose(grad_u, [(s(2.0) - 1.0) * v, s(-1.0) * v], rtol=1e-12)


def test_neg_sampling_repeated_negative_accumulates(rng):
    v, u, o, k = small(rng, 4), small(rng, 6, 4), 0, 3
    base, _, _ = model.neg_sampling_loss_and_gradient(v, o, u, [])
    once, _, grad_once = model.neg_sampling_loss_and_gradient(v, o, u, [k])
    twice, _, grad_twice = model.neg_sampling_loss_and_gradient(v, o, u, [k, k])
    assert twice - base == pytest.approx(2.0 * (once - base), rel=1e-12)
    np.testing.assert_allclose(grad_twice[k], 2.0 * grad_once[k], rtol=1e-12)
    np.testing.assert_allclose(grad_once[k], model.sigmoid(u[k] @ v) * v, rtol=1e-12)


def test_neg_sampling_negative_equal_to_outside_counts_twice(rng):
    v, u, o = small(rng, 4), small(rng, 6, 4), 2
    x = u[o] @ v
    loss, grad_v, grad_u = model.neg_sampling_loss_and_gradient(v, o, u, [o])
    s = model.sigmoid
    assert loss == pytest.approx(-np.log(s(x)) - np.log(s(-x)), rel=1e-12)
    np.testing.assert_allclose(grad_u[o], (s(x) - 1.0 + s(x)) * v, rtol=1e-12)
    np.testing.assert_allclose(grad_v, (2.0 * s(x) - 1.0) * u[o], rtol=1e-12)


def test_neg_sampling_gradients_pass_gradcheck_with_repeats(rng):
    o = 4
    negatives = np.array([1, 1, o, 7, 1])
    args = (small(rng, 5), o, small(rng, 10, 5), negatives)
    errors = errors_per_argument(model.neg_sampling_loss_and_gradient, args, [0, 2])
    assert max(errors) < TOLERANCE


# --- hierarchical softmax ----------------------------------------------------


def test_hierarchical_softmax_by_hand_and_code_convention():
    v = np.array([1.0, 2.0])
    nodes_vecs = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])  # scores 1, 2, 15
    loss, grad_v, grad_n = model.hierarchical_softmax_loss_and_gradient(v, [0, 1], [0, 1], nodes_vecs)
    s = model.sigmoid
    assert loss == pytest.approx(-np.log(s(1.0)) - np.log(s(-2.0)), rel=1e-12)
    np.testing.assert_allclose(grad_v, (s(1.0) - 1.0) * nodes_vecs[0] + s(2.0) * nodes_vecs[1], rtol=1e-12)
    np.testing.assert_array_equal(grad_n[2], 0.0)
    # code 0 is the sign +: a large positive score costs almost nothing, code 1 costs about the score.
    assert model.hierarchical_softmax_loss_and_gradient(v, [2], [0], nodes_vecs)[0] < 1e-6
    assert model.hierarchical_softmax_loss_and_gradient(v, [2], [1], nodes_vecs)[0] == pytest.approx(15.0, rel=1e-6)


def test_hierarchical_softmax_gradients_pass_gradcheck(rng):
    args = (small(rng, 5), np.array([0, 3, 5, 2]), np.array([1, 0, 1, 1]), small(rng, 7, 5))
    errors = errors_per_argument(model.hierarchical_softmax_loss_and_gradient, args, [0, 3])
    assert max(errors) < TOLERANCE


def test_hierarchical_softmax_rejects_mismatched_path():
    with pytest.raises(ValueError, match="path_codes"):
        model.hierarchical_softmax_loss_and_gradient(np.ones(2), [0, 1], [0], np.ones((3, 2)))


# --- shapes ------------------------------------------------------------------


def test_all_gradients_have_the_shape_of_what_they_differentiate(rng):
    v, u, nodes, big_v = small(rng, 5), small(rng, 9, 5), small(rng, 8, 5), small(rng, 9, 5)
    neg = functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[1, 2])
    results = [
        (model.naive_softmax_loss_and_gradient(v, 1, u), v, u),
        (neg(v, 1, u), v, u),
        (model.hierarchical_softmax_loss_and_gradient(v, [0, 4], [1, 0], nodes), v, nodes),
        (model.skipgram(2, [1, 3], big_v, u, neg), big_v, u),
        (model.cbow(2, [1, 3], big_v, u, neg), big_v, u),
    ]
    for (loss, grad_a, grad_b), a, b in results:
        assert isinstance(loss, float)
        assert grad_a.shape == a.shape and grad_b.shape == b.shape


# --- skip-gram ---------------------------------------------------------------


@pytest.mark.parametrize("loss_name", ["softmax", "neg"])
def test_skipgram_is_sum_of_pair_losses(rng, loss_name):
    big_v, u, c, window = small(rng, 8, 4), small(rng, 8, 4), 5, [1, 2, 2, 7]
    if loss_name == "softmax":
        pair = model.naive_softmax_loss_and_gradient
    else:
        pair = functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[0, 3, 3])
    loss, grad_v, grad_u = model.skipgram(c, window, big_v, u, pair)
    per_pair = [pair(big_v[c], o, u) for o in window]
    assert loss == pytest.approx(sum(p[0] for p in per_pair), rel=1e-12)
    np.testing.assert_allclose(grad_v[c], sum(p[1] for p in per_pair), rtol=1e-12)
    np.testing.assert_allclose(grad_u, sum(p[2] for p in per_pair), rtol=1e-12)
    assert not np.any(np.delete(grad_v, c, axis=0))


def test_skipgram_with_empty_window_is_zero(rng):
    loss, grad_v, grad_u = model.skipgram(0, [], small(rng, 4, 3), small(rng, 4, 3), model.naive_softmax_loss_and_gradient)
    assert loss == 0.0 and not grad_v.any() and not grad_u.any()


@pytest.mark.parametrize("loss_name", ["softmax", "neg", "hs"])
def test_skipgram_gradients_pass_gradcheck(rng, loss_name):
    big_v, u, nodes = small(rng, 8, 4), small(rng, 8, 4), small(rng, 7, 4)
    paths = [(rng.choice(7, size=3, replace=False), rng.integers(0, 2, size=3)) for _ in range(8)]
    pair, out = {
        "softmax": (model.naive_softmax_loss_and_gradient, u),
        "neg": (functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[6, 6, 1]), u),
        "hs": (hs_by_word(paths), nodes),
    }[loss_name]
    args = (3, [1, 6, 6, 3], big_v, out, pair)
    assert max(errors_per_argument(model.skipgram, args, [2, 3])) < TOLERANCE


# --- CBOW --------------------------------------------------------------------


def test_cbow_predicts_center_from_mean_of_context(rng):
    big_v, u, context = small(rng, 8, 4), small(rng, 8, 4), [1, 4, 4, 6]
    loss, grad_v, grad_u = model.cbow(2, context, big_v, u, model.naive_softmax_loss_and_gradient)
    expected_loss, grad_h, expected_grad_u = model.naive_softmax_loss_and_gradient(big_v[context].mean(axis=0), 2, u)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(grad_u, expected_grad_u, rtol=1e-12)
    np.testing.assert_allclose(grad_v[4], 2.0 * grad_h / 4.0, rtol=1e-12)  # word 4 appears twice
    np.testing.assert_allclose(grad_v[1], grad_h / 4.0, rtol=1e-12)
    assert not np.any(np.delete(grad_v, [1, 4, 6], axis=0))


def test_cbow_mean_equals_sum_of_scaled_vectors(rng):
    big_v, u, context = small(rng, 8, 4), small(rng, 8, 4), [0, 3, 5]
    neg = functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[1, 7])
    mean_loss, mean_grad_v, mean_grad_u = model.cbow(2, context, big_v, u, neg, mean=True)
    sum_loss, sum_grad_v, sum_grad_u = model.cbow(2, context, big_v / 3.0, u, neg, mean=False)
    raw_sum_loss = model.cbow(2, context, big_v, u, neg, mean=False)[0]
    assert mean_loss == pytest.approx(sum_loss, rel=1e-12)
    assert raw_sum_loss != pytest.approx(mean_loss, rel=1e-6)
    np.testing.assert_allclose(mean_grad_v, sum_grad_v / 3.0, rtol=1e-12)
    np.testing.assert_allclose(mean_grad_u, sum_grad_u, rtol=1e-12)


@pytest.mark.parametrize("mean", [True, False])
def test_cbow_gradients_pass_gradcheck_with_repeated_context(rng, mean):
    big_v, u = small(rng, 9, 5), small(rng, 9, 5)
    neg = functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=[0, 0, 4])
    args = (4, [2, 2, 7, 4], big_v, u, neg, mean)
    assert max(errors_per_argument(model.cbow, args, [2, 3])) < TOLERANCE


def test_cbow_rejects_empty_context(rng):
    with pytest.raises(ValueError, match="context"):
        model.cbow(0, [], small(rng, 4, 3), small(rng, 4, 3), model.naive_softmax_loss_and_gradient)


# --- gradient_check itself ---------------------------------------------------


def test_gradient_check_detects_scaled_gradient(rng):
    def wrong(x):
        return float(np.exp(x).sum()), 1.01 * np.exp(x)

    def right(x):
        return float(np.exp(x).sum()), np.exp(x)

    x = rng.standard_normal(6)
    assert gradient_check(right, x) < TOLERANCE
    assert gradient_check(wrong, x) > 1e-3


def test_gradient_check_detects_overwritten_repeated_negative(rng):
    v, u, negatives = small(rng, 5), small(rng, 8, 5), np.array([3, 3])

    def overwriting(u_):
        scores = u_[negatives] @ v
        loss = float(np.logaddexp(0.0, scores).sum())
        grad = np.zeros_like(u_)
        grad[negatives] = np.outer(model.sigmoid(scores), v)  # bug: the second draw overwrites the first
        return loss, grad

    assert gradient_check(overwriting, u) > 1e-3


def test_gradient_check_leaves_x_alone_and_checks_shape():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    assert gradient_check(lambda y: (float((y**2).sum()), 2.0 * y), x) < 1e-9
    np.testing.assert_array_equal(x, before)
    with pytest.raises(ValueError, match="shape"):
        gradient_check(lambda y: (float((y**2).sum()), 2.0 * y.ravel()), x)


@settings(max_examples=40, deadline=None)
@given(
    vocab_size=st.integers(2, 12),
    dim=st.integers(1, 6),
    n_negatives=st.integers(0, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_problems_pass_gradcheck(vocab_size, dim, n_negatives, seed):
    rng = np.random.default_rng(seed)
    v, u = small(rng, dim), small(rng, vocab_size, dim)
    o = int(rng.integers(vocab_size))
    negatives = rng.integers(0, vocab_size, size=n_negatives)
    softmax_errors = errors_per_argument(model.naive_softmax_loss_and_gradient, (v, o, u), [0, 2])
    neg_errors = errors_per_argument(model.neg_sampling_loss_and_gradient, (v, o, u, negatives), [0, 2])
    assert max(softmax_errors + neg_errors) < TOLERANCE


# --- subwords ---------------------------------------------------------------------------------


def test_subword_input_is_the_mean_of_its_rows_and_each_row_gets_a_share():
    rng = np.random.default_rng(3)
    V, U = rng.standard_normal((9, 4)), rng.standard_normal((5, 4))
    rows = [1, 6, 8, 8]  # row 8 counted twice
    loss, grad_v, grad_u = model.subword_skipgram(rows, [2, 3], V, U, model.naive_softmax_loss_and_gradient)
    h = V[rows].mean(axis=0)
    expected = [model.naive_softmax_loss_and_gradient(h, o, U) for o in (2, 3)]
    assert loss == pytest.approx(sum(e[0] for e in expected))
    grad_h = sum(e[1] for e in expected)
    assert np.allclose(grad_v[1], grad_h / 4) and np.allclose(grad_v[8], grad_h / 2)
    assert np.allclose(grad_v[[0, 2, 3, 4, 5, 7]], 0.0)
    assert np.allclose(grad_u, sum(e[2] for e in expected))
    assert model.subword_step_scale(len(rows)) == 4.0


def test_subword_cbow_pools_the_rows_of_all_context_words():
    rng = np.random.default_rng(4)
    V, U = rng.standard_normal((9, 4)), rng.standard_normal((5, 4))
    loss, grad_v, _ = model.subword_cbow(0, [[1, 6], [2, 7, 8]], V, U, model.naive_softmax_loss_and_gradient)
    h = V[[1, 6, 2, 7, 8]].mean(axis=0)
    ref_loss, grad_h, _ = model.naive_softmax_loss_and_gradient(h, 0, U)
    assert loss == pytest.approx(ref_loss)
    assert np.allclose(grad_v[[1, 6, 2, 7, 8]], grad_h / 5)
