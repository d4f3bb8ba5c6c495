"""Tests for word2vec/vectors.py: the Vectors queries and loading."""

import math

import numpy as np
import pytest

from word2vec import store
from word2vec.errors import ConfigError, DataError, UnknownWordError, W2VError
from word2vec.query.vectors import Vectors, load

S = 1 / math.sqrt(2)


@pytest.fixture
def royal():
    """man:woman :: king:queen, laid out by hand; norms differ to check normalization."""
    words = ["man", "woman", "king", "queen", "apple", "zero"]
    vectors = np.array([
        [2, 0, 0],  # man
        [0, 3, 0],  # woman
        [1, 0, 1],  # king
        [0, 1, 1],  # queen
        [0, 0, 5],  # apple
        [0, 0, 0],  # zero
    ], np.float32)
    return Vectors(words, vectors, counts=[60, 50, 40, 30, 20, 10])


def test_container_protocol(royal):
    assert len(royal) == 6 and royal.vector_size == 3
    assert "king" in royal and "prince" not in royal and ["king"] not in royal
    np.testing.assert_array_equal(royal["woman"], [0, 3, 0])
    assert royal.index["queen"] == 3
    assert royal.counts.dtype == np.int64 and royal.counts.tolist() == [60, 50, 40, 30, 20, 10]
    with pytest.raises(UnknownWordError, match="'prince' is not in the vocabulary"):
        royal["prince"]
    with pytest.raises(KeyError):  # UnknownWordError is a KeyError too, as users of dicts expect
        royal["prince"]


def test_repeated_word_maps_to_its_first_row():
    vectors = Vectors(["a", "b", "a"], np.eye(3))
    assert vectors.index == {"a": 0, "b": 1}
    assert vectors.vectors.dtype == np.float32


def test_shape_mismatch():
    with pytest.raises(DataError, match="2 words but vectors of shape"):
        Vectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(DataError, match="2 words but 1 counts"):
        Vectors(["a", "b"], np.zeros((2, 2)), counts=[1])


def test_normed_is_unit_computed_once_and_keeps_zero_rows(royal):
    normed = royal.normed
    assert normed is royal.normed and normed.dtype == np.float32
    np.testing.assert_allclose(normed[:5], [[1, 0, 0], [0, 1, 0], [S, 0, S], [0, S, S], [0, 0, 1]], rtol=1e-6)
    np.testing.assert_array_equal(normed[5], [0, 0, 0])
    assert not normed.flags.writeable


def test_most_similar_is_ordered_and_excludes_the_query(royal):
    result = royal.most_similar("king", topn=10)
    # man and apple tie, as do woman and zero: the more frequent (earlier) word comes first
    assert [w for w, _ in result] == ["man", "apple", "queen", "woman", "zero"]
    np.testing.assert_allclose([s for _, s in result], [S, S, 0.5, 0, 0], rtol=1e-6, atol=1e-7)
    assert all(isinstance(s, float) for _, s in result)


def test_most_similar_topn(royal):
    result = royal.most_similar(["king"], topn=3)
    assert [w for w, _ in result] == ["man", "apple", "queen"]
    np.testing.assert_allclose([s for _, s in result], [S, S, 0.5], rtol=1e-6)


def test_most_similar_with_negative_and_restrict(royal):
    # unit(woman) - unit(man) + unit(king), normalized, against every word
    query = np.array([S - 1, 1, S]) / np.linalg.norm([S - 1, 1, S])
    expected = float(query @ [0, S, S])
    result = royal.most_similar(["woman", "king"], negative=["man"], topn=2)
    assert result[0][0] == "queen"
    assert result[0][1] == pytest.approx(expected, rel=1e-6)
    assert result[1] == ("apple", pytest.approx(float(query[2]), rel=1e-6))
    assert royal.most_similar(["woman", "king"], negative="man", topn=5, restrict=3) == []
    assert [w for w, _ in royal.most_similar("woman", topn=5, restrict=3)] == ["man", "king"]


def test_most_similar_bad_arguments(royal):
    with pytest.raises(UnknownWordError):
        royal.most_similar(["king", "prince"])
    with pytest.raises(W2VError, match="at least one word"):
        royal.most_similar([])
    with pytest.raises(ConfigError, match="topn"):
        royal.most_similar("king", topn=-1)
    with pytest.raises(ConfigError, match="restrict"):
        royal.most_similar("king", restrict=0)
    assert royal.most_similar("king", topn=0) == []


def test_analogy_add_is_most_similar(royal):
    assert royal.analogy("man", "woman", "king") == royal.most_similar(["woman", "king"], ["man"], topn=1)
    assert royal.analogy("man", "woman", "king")[0][0] == "queen"


def test_analogy_mul_matches_levy_goldberg(royal):
    unit = royal.normed
    shifted = [(unit[:5] @ unit[i] + 1) / 2 for i in (0, 1, 2)]  # man, woman, king
    expected = shifted[1] * shifted[2] / (shifted[0] + 1e-3)  # epsilon of Levy & Goldberg
    result = royal.analogy("man", "woman", "king", method="mul", topn=3)
    assert [w for w, _ in result] == ["queen", "apple", "zero"]
    assert result[0][1] == pytest.approx(float(expected[3]), rel=1e-5)
    assert result[0][1] == pytest.approx((1 + S) / 2 * (1 + 0.5) / 2 / (0.5 + 1e-3), rel=1e-5)
    assert result[1][1] == pytest.approx(float(expected[4]), rel=1e-5)
    assert result[2][1] == pytest.approx(0.5 * 0.5 / (0.5 + 1e-3), rel=1e-6)  # the zero vector
    with pytest.raises(ConfigError, match="add, mul"):
        royal.analogy("man", "woman", "king", method="cos")


def test_similarity_and_doesnt_match(royal):
    assert royal.similarity("king", "queen") == pytest.approx(0.5, rel=1e-6)
    assert royal.similarity("man", "woman") == 0.0
    assert royal.doesnt_match(["man", "king", "woman", "queen", "apple"]) == "man"
    assert royal.doesnt_match(["king", "queen", "apple", "woman"]) == "woman"
    with pytest.raises(UnknownWordError):
        royal.doesnt_match(["king", "prince"])
    with pytest.raises(W2VError):
        royal.doesnt_match([])


def test_similar_by_vector(royal):
    assert [w for w, _ in royal.similar_by_vector([0, 0, 1], topn=3)] == ["apple", "king", "queen"]


# ---------------------------------------------------------------- loading


def _model_dir(folder, words, vectors, counts):
    folder.mkdir()
    store.save_npy(folder / "vectors.npy", vectors)
    store.write_vocab(folder / "vocab.tsv", words, counts)
    return folder


def test_load_model_directory(tmp_path):
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    folder = _model_dir(tmp_path / "model", ["a", "b", "c", "d"], vectors, [9, 5, 3, 1])
    loaded = load(folder)
    assert isinstance(loaded.vectors, np.memmap) and loaded.words == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(loaded.vectors, vectors)
    assert loaded.counts.tolist() == [9, 5, 3, 1]
    small = Vectors.load(str(folder), limit=2)
    assert small.words == ["a", "b"] and small.vectors.shape == (2, 3) and small.counts.tolist() == [9, 5]


def test_load_model_directory_mismatch(tmp_path):
    folder = _model_dir(tmp_path / "model", ["a", "b"], np.zeros((3, 2), np.float32), [2, 1])
    with pytest.raises(DataError, match=r"vectors.npy has shape \(3, 2\) but vocab.tsv lists 2 words"):
        load(folder)
    with pytest.raises(DataError, match="no vectors.npy"):
        load(tmp_path)


@pytest.mark.parametrize("name,binary", [("v.bin", True), ("v.txt", False), ("v.vec", False)])
def test_load_word2vec_files(tmp_path, royal, name, binary):
    store.write_word2vec(tmp_path / name, royal.words, royal.vectors, binary)
    loaded = load(tmp_path / name, limit=4)
    assert loaded.words == royal.words[:4] and loaded.counts is None
    np.testing.assert_array_equal(loaded.vectors, royal.vectors[:4])


def test_load_text_without_header(tmp_path):
    (tmp_path / "glove.txt").write_text("a 1 0\nb 0 1\n")
    assert load(tmp_path / "glove.txt", header=False).most_similar("a") == [("b", 0.0)]
    with pytest.raises(ConfigError, match="limit"):
        load(tmp_path / "glove.txt", limit=-3)
