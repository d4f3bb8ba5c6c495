"""Tests of word2vec.training.pairs: sentence iteration, subsampling, the dynamic window, skip-gram pairs and CBOW windows."""

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from word2vec.training import pairs


def test_sentences_split_the_ids_at_the_ends():
    ids = np.arange(10, 16, dtype=np.int32)
    got = list(pairs.sentences(ids, np.array([2, 5, 6], np.int64)))
    assert [s.tolist() for s in got] == [[10, 11], [12, 13, 14], [15]]
    assert all(np.shares_memory(s, ids) for s in got)  # views, not copies


def test_sentences_of_an_empty_corpus():
    assert list(pairs.sentences(np.zeros(0, np.int32), np.zeros(0, np.int64))) == []


def test_skipgram_pairs_with_window_one_are_the_adjacent_pairs():
    got = pairs.skipgram_pairs([10, 11, 12, 13], 1, np.random.default_rng(0))
    assert got.tolist() == [[10, 11], [11, 10], [11, 12], [12, 11], [12, 13], [13, 12]]


def test_skipgram_pairs_of_short_sentences():
    rng = np.random.default_rng(0)
    assert pairs.skipgram_pairs([4], 5, rng).shape == (0, 2)
    assert pairs.skipgram_pairs([], 5, rng).shape == (0, 2)
    assert pairs.skipgram_pairs([4, 9], 5, rng).tolist() == [[4, 9], [9, 4]]


def test_window_sizes_are_uniform_over_one_to_window():
    sizes = pairs.window_sizes(60_000, 3, np.random.default_rng(5))
    assert sizes.min() == 1 and sizes.max() == 3
    np.testing.assert_allclose(np.bincount(sizes)[1:] / len(sizes), [1 / 3] * 3, atol=0.01)


def test_dynamic_window_uses_distance_k_with_probability_window_minus_k_plus_one_over_window():
    window, length = 4, 20_000
    sentence = np.arange(length)  # distinct ids, so a pair gives its positions back
    got = pairs.skipgram_pairs(sentence, window, np.random.default_rng(7))
    centers, contexts = got[:, 0], got[:, 1]
    inner = (centers >= window) & (centers < length - window)  # no sentence edge cuts the window
    n_inner = length - 2 * window
    distance = np.abs(contexts - centers)
    assert distance.min() == 1 and distance.max() == window
    for k in range(1, window + 1):
        left = np.sum(inner & (contexts == centers - k)) / n_inner
        right = np.sum(inner & (contexts == centers + k)) / n_inner
        assert left == right  # one window size per center, used on both sides
        assert left == pytest.approx((window - k + 1) / window, abs=0.015)


def test_each_center_uses_a_symmetric_window_clipped_at_the_sentence_edges():
    sentence = np.arange(50)
    got = pairs.skipgram_pairs(sentence, 6, np.random.default_rng(3))
    contexts = collections.defaultdict(list)
    for center, context in got.tolist():
        contexts[center].append(context)
    for center in range(50):
        size = max(abs(c - center) for c in contexts[center])
        expected = [j for j in range(center - size, center + size + 1) if 0 <= j < 50 and j != center]
        assert contexts[center] == expected


def test_subsample_keeps_each_word_with_its_keep_probability():
    rng = np.random.default_rng(11)
    sentence = np.tile(np.arange(4), 25_000)
    keep = np.array([1.0, 0.5, 0.1, 0.0], np.float32)
    kept = pairs.subsample(sentence, keep, rng)
    shares = np.bincount(kept, minlength=4) / 25_000
    assert shares[0] == 1.0 and shares[3] == 0.0
    assert shares[1] == pytest.approx(0.5, abs=0.01)
    assert shares[2] == pytest.approx(0.1, abs=0.006)


def test_subsample_keeps_the_order_of_the_words_it_keeps():
    sentence = np.arange(1000) % 7
    kept = pairs.subsample(sentence, np.full(7, 0.5, np.float32), np.random.default_rng(1))
    positions = iter(range(len(sentence)))
    assert all(any(sentence[p] == w for p in positions) for w in kept)  # kept is a subsequence
    assert 0 < len(kept) < len(sentence)


def test_subsample_with_all_ones_keeps_everything():
    sentence = np.array([3, 1, 2, 1])
    assert pairs.subsample(sentence, np.ones(4, np.float32), np.random.default_rng(0)).tolist() == [3, 1, 2, 1]


def test_cbow_windows_with_window_one():
    got = pairs.cbow_windows([5, 6, 7], 1, np.random.default_rng(0))
    assert [(int(c), [int(x) for x in ctx]) for c, ctx in got] == [(5, [6]), (6, [5, 7]), (7, [6])]


def test_cbow_windows_skip_a_center_without_context():
    assert pairs.cbow_windows([5], 3, np.random.default_rng(0)) == []


@given(sentence=st.lists(st.integers(0, 20), max_size=30), window=st.integers(1, 6), seed=st.integers(0, 2**32))
def test_cbow_windows_hold_the_skipgram_contexts_of_each_center(sentence, window, seed):
    skipgram = pairs.skipgram_pairs(sentence, window, np.random.default_rng(seed)).tolist()
    cbow = pairs.cbow_windows(sentence, window, np.random.default_rng(seed))
    flattened = [[int(center), int(context)] for center, contexts in cbow for context in contexts]
    assert flattened == skipgram
