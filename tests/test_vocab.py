"""Tests of word2vec.text.vocab: choosing the vocabulary, subsampling, the noise distribution and its alias table, the Huffman tree."""

import heapq
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from word2vec.text import vocab
from word2vec.errors import DataError

# --- build ----------------------------------------------------------------------------------


def test_build_orders_by_count_descending_then_word():
    words = ["b", "a", "c", "d", "aa"]
    result, remap = vocab.build(words, [3, 5, 3, 1, 3], min_count=1)
    assert result.words == ["a", "aa", "b", "c", "d"]
    assert result.counts.tolist() == [5, 3, 3, 3, 1]
    assert result.counts.dtype == np.int64
    assert remap.tolist() == [2, 0, 3, 4, 1]
    assert remap.dtype == np.int32


def test_build_drops_words_below_min_count():
    result, remap = vocab.build(["x", "y", "z"], [4, 5, 9], min_count=5)
    assert result.words == ["z", "y"]
    assert remap.tolist() == [-1, 1, 0]


def test_build_keeps_the_max_size_most_frequent_with_ties_broken_by_word():
    result, remap = vocab.build(["d", "c", "b", "a"], [2, 7, 2, 2], min_count=1, max_size=3)
    assert result.words == ["c", "a", "b"]
    assert remap.tolist() == [-1, 0, 2, 1]


def test_vocab_index_length_and_total():
    result, _ = vocab.build(["x", "y"], [2, 6], min_count=1)
    assert result.index == {"y": 0, "x": 1}
    assert (len(result), result.total) == (2, 8)


def test_from_counts_keeps_every_word_sorted():
    result = vocab.from_counts(["a", "b", "c"], [1, 0, 3])
    assert result.words == ["c", "a", "b"]
    assert result.counts.tolist() == [3, 1, 0]


def test_empty_corpus_is_a_data_error():
    with pytest.raises(DataError) as info:
        vocab.build([], [])
    assert str(info.value) == "the corpus is empty: no tokens were found"


def test_every_word_below_min_count_is_a_data_error():
    with pytest.raises(DataError) as info:
        vocab.build(["a", "b"], [2, 3], min_count=5)
    assert str(info.value) == (
        "no word occurs at least 5 times (vocab.min_count); the most frequent occurs 3 times"
        " — lower vocab.min_count or give a larger corpus"
    )


@settings(max_examples=100)
@given(counts=st.lists(st.integers(0, 20), max_size=30), min_count=st.integers(1, 5),
       max_size=st.none() | st.integers(1, 30))
def test_remap_points_each_kept_word_at_its_vocabulary_entry(counts, min_count, max_size):
    words = [f"w{i:02d}" for i in range(len(counts))][::-1]  # ids and alphabetical order disagree
    if max(counts, default=0) < min_count:
        with pytest.raises(DataError):
            vocab.build(words, counts, min_count, max_size)
        return
    result, remap = vocab.build(words, counts, min_count, max_size)
    ranked = sorted((-c, w) for w, c in zip(words, counts) if c >= min_count)[:max_size]
    assert result.words == [w for _, w in ranked]
    for i, word in enumerate(words):
        if word in result.index:
            assert remap[i] == result.index[word]
            assert result.counts[remap[i]] == counts[i]
        else:
            assert remap[i] == -1


# --- subsampling ----------------------------------------------------------------------------


def test_keep_probabilities_follow_the_formula():
    counts = [900, 99, 1]  # shares 0.9, 0.099, 0.001 of 1000 tokens
    t = 0.01
    expected = [
        (math.sqrt(0.9 / t) + 1) * t / 0.9,  # 0.11652...
        (math.sqrt(0.099 / t) + 1) * t / 0.099,  # 0.41883...
        1.0,  # (sqrt(0.1) + 1) * 10 > 1
    ]
    keep = vocab.keep_probabilities(counts, t)
    assert keep.dtype == np.float32
    assert_allclose(keep, expected, rtol=1e-6)
    assert_allclose(keep[:2], [0.116520, 0.418831], atol=1e-6)


def test_keep_probability_is_one_up_to_the_golden_ratio_squared_times_sample():
    # (sqrt(f/t) + 1) t/f = 1 exactly when sqrt(f/t) is the golden ratio, i.e. f = 2.618 t
    t = 0.001
    counts = [2610, 2630, 1_000_000 - 2610 - 2630]
    keep = vocab.keep_probabilities(counts, t)
    assert keep[0] == 1.0
    assert 0.99 < keep[1] < 1.0


def test_keep_probabilities_are_all_one_without_subsampling():
    keep = vocab.keep_probabilities([1000, 10, 1], 0)
    assert keep.dtype == np.float32
    assert keep.tolist() == [1.0, 1.0, 1.0]


# --- noise distribution and alias table -------------------------------------------------------


def test_noise_distribution_is_counts_to_the_three_quarters_normalized():
    assert_allclose(vocab.noise_distribution([16, 1]), [8 / 9, 1 / 9], rtol=1e-15)
    counts = np.array([50, 20, 7, 3, 1])
    probs = vocab.noise_distribution(counts)
    assert probs.dtype == np.float64
    assert_allclose(probs.sum(), 1.0, rtol=1e-15)
    assert_allclose(probs / counts**0.75, np.full(5, probs[0] / 50**0.75), rtol=1e-12)


@pytest.mark.parametrize("exponent, expected", [(0.0, [0.25] * 4), (1.0, [0.4, 0.3, 0.2, 0.1])])
def test_noise_distribution_exponent(exponent, expected):
    assert_allclose(vocab.noise_distribution([4, 3, 2, 1], exponent), expected, rtol=1e-12)


def alias_distribution(threshold, alias):
    """The distribution an alias table draws from: P(i) = (threshold[i] + Σ_{alias[j]=i} (1 − threshold[j])) / W."""
    n = len(threshold)
    probs = np.array(threshold, dtype=np.float64)
    np.add.at(probs, alias, 1.0 - threshold)
    return probs / n


def check_alias_invariants(probs, threshold, alias):
    n = len(probs)
    assert threshold.shape == alias.shape == (n,)
    assert threshold.dtype == np.float64 and alias.dtype == np.int32
    assert np.all((threshold >= 0) & (threshold <= 1 + 1e-12))
    assert np.all((alias >= 0) & (alias < n))
    assert np.all(alias[threshold >= 1] == np.flatnonzero(threshold >= 1))  # a full cell never aliases
    assert_allclose(alias_distribution(threshold, alias), probs, atol=1e-12)


def test_alias_table_sampling_frequencies_match_the_distribution():
    probs = vocab.noise_distribution([500, 200, 90, 60, 40, 30, 20, 10, 5, 1])
    threshold, alias = vocab.alias_table(probs)
    check_alias_invariants(probs, threshold, alias)
    rng = np.random.default_rng(2024)
    n = 400_000
    cell = rng.integers(0, len(probs), size=n)
    draws = np.where(rng.random(n) < threshold[cell], cell, alias[cell])
    observed = np.bincount(draws, minlength=len(probs))
    expected = probs * n
    chi_square = ((observed - expected) ** 2 / expected).sum()
    assert chi_square < 27.9  # 9 degrees of freedom, p = 0.001
    assert_allclose(observed / n, probs, atol=3e-3)


def test_alias_table_of_a_uniform_distribution_never_aliases():
    threshold, alias = vocab.alias_table(np.full(4, 0.25))
    assert threshold.tolist() == [1.0] * 4
    assert alias.tolist() == [0, 1, 2, 3]


@settings(max_examples=100)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=50).filter(any))
def test_alias_table_reproduces_any_distribution(counts):
    probs = np.array(counts, dtype=np.float64) / sum(counts)
    threshold, alias = vocab.alias_table(probs)
    check_alias_invariants(probs, threshold, alias)


# --- Huffman tree ---------------------------------------------------------------------------


def optimal_cost(counts):
    """Σ count · depth of an optimal prefix code: the sum of all merged weights in Huffman's algorithm."""
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def code_strings(tree):
    return ["".join(map(str, tree.codes[w, :n])) for w, n in enumerate(tree.lengths)]


def check_tree(counts, tree):
    n = len(counts)
    assert tree.points.dtype == np.int32 and tree.codes.dtype == np.uint8 and tree.lengths.dtype == np.int32
    assert tree.points.shape == tree.codes.shape == (n, tree.lengths.max())
    codes = code_strings(tree)
    assert len(set(codes)) == n
    for a in codes:
        assert not any(b != a and b.startswith(a) for b in codes), "codes must be prefix-free"
    assert int(np.dot(counts, tree.lengths)) == optimal_cost(counts)
    node_of_prefix = {}
    for w, length in enumerate(tree.lengths):
        assert np.all(tree.points[w, length:] == 0) and np.all(tree.codes[w, length:] == 0)
        for depth in range(length):
            node = int(tree.points[w, depth])
            assert 0 <= node <= n - 2
            assert node_of_prefix.setdefault(codes[w][:depth], node) == node  # one node per path prefix
    assert sorted(node_of_prefix.values()) == list(range(n - 1))  # n - 1 distinct inner nodes
    assert np.all(tree.points[:, 0] == n - 2)  # the root comes first


def test_huffman_tree_of_a_small_vocabulary():
    counts = [5, 2, 1, 1]
    tree = vocab.huffman_tree(counts)
    check_tree(counts, tree)
    assert tree.lengths.tolist() == [1, 2, 3, 3]


def test_huffman_codes_are_no_longer_for_more_frequent_words():
    counts = [1000, 400, 300, 150, 90, 40, 20, 11, 6, 2]
    tree = vocab.huffman_tree(counts)
    check_tree(counts, tree)
    assert np.all(np.diff(tree.lengths) >= 0)


def test_huffman_tree_of_two_words():
    tree = vocab.huffman_tree([3, 1])
    check_tree([3, 1], tree)
    assert tree.points.tolist() == [[0], [0]]
    assert tree.lengths.tolist() == [1, 1]
    assert sorted(tree.codes[:, 0].tolist()) == [0, 1]


def test_huffman_tree_of_one_word_uses_a_single_dummy_node():
    # the trainer allocates max(W - 1, 1) output rows, so a lone word gets one node, row 0
    tree = vocab.huffman_tree([7])
    assert tree.points.tolist() == [[0]]
    assert tree.codes.tolist() == [[0]]
    assert tree.lengths.tolist() == [1]


@settings(max_examples=100)
@given(st.lists(st.integers(1, 1000), min_size=2, max_size=40))
def test_huffman_tree_is_optimal_and_prefix_free(counts):
    check_tree(counts, vocab.huffman_tree(np.array(counts, dtype=np.int64)))
