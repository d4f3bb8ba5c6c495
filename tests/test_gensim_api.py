"""The gensim-named API of Vectors against gensim's KeyedVectors on the very same vectors."""

import warnings

import numpy as np
import pytest

import word2vec
from word2vec.errors import UnknownWordError
from word2vec.query.gensim_eval import correlation_pvalue

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
stats = pytest.importorskip("scipy.stats")

DIM = 16
N_PAIRS = 40


def _vectors():
    """Country/capital pairs sharing an offset (so analogies are partly right), then filler words."""
    rng = np.random.default_rng(7)
    offset = rng.normal(size=DIM)
    words, rows = [], []
    for i in range(N_PAIRS):
        country = rng.normal(size=DIM)
        words += [f"country{i}", f"capital{i}"]
        rows += [country, country + offset + rng.normal(scale=1.2, size=DIM)]
    for i in range(120):
        words.append(f"word{i}")
        rows.append(rng.normal(size=DIM))
    words.append("Word3")  # a case variant of word3, less frequent
    rows.append(rng.normal(size=DIM))
    counts = np.arange(len(words), 0, -1) * 10
    return word2vec.Vectors(words, np.array(rows, np.float32), counts)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    ours = _vectors()
    path = tmp_path_factory.mktemp("kv") / "v.bin"
    ours.save_word2vec_format(path, binary=True)
    theirs = gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=True)
    return ours, theirs


def same_ranking(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)


def test_lookups_match(pair):
    ours, theirs = pair
    assert ours.index_to_key == theirs.index_to_key
    assert ours.key_to_index == theirs.key_to_index
    assert len(ours) == len(theirs) and "word5" in ours and "nope" not in ours
    np.testing.assert_array_equal(ours["word5"], theirs["word5"])
    np.testing.assert_array_equal(ours[["word5", "capital2"]], theirs[["word5", "capital2"]])
    assert ours[[]].shape == (0, DIM)
    np.testing.assert_allclose(ours.get_vector("word5", norm=True), theirs.get_vector("word5", norm=True), atol=1e-6)
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    with pytest.raises(KeyError):
        ours.get_vector("nope")
    with pytest.raises(KeyError):
        ours[["word5", "nope"]]


@pytest.mark.parametrize("positive,negative", [
    ("country3", None), (["country3"], []), (["capital1", "country2"], ["country1"]),
    (["word1", "word2", "word3"], "word4"),
])
@pytest.mark.parametrize("restrict", [None, 50])
def test_most_similar_matches(pair, positive, negative, restrict):
    ours, theirs = pair
    same_ranking(ours.most_similar(positive, negative, topn=7, restrict_vocab=restrict),
                 theirs.most_similar(positive, negative, topn=7, restrict_vocab=restrict))


def test_most_similar_takes_vectors_and_topn_none(pair):
    ours, theirs = pair
    vector = np.linspace(-1, 1, DIM).astype(np.float32)
    same_ranking(ours.most_similar([vector, "word2"], ["word9"]), theirs.most_similar([vector, "word2"], ["word9"]))
    same_ranking(ours.most_similar(vector), theirs.most_similar(vector))
    np.testing.assert_allclose(ours.most_similar("word1", topn=None), theirs.most_similar("word1", topn=None), atol=1e-6)
    assert ours.most_similar("word1", topn=0) == []


def test_similar_by_word_and_vector(pair):
    ours, theirs = pair
    same_ranking(ours.similar_by_word("capital7", topn=5), theirs.similar_by_word("capital7", topn=5))
    same_ranking(ours.similar_by_word("capital7", 5, restrict_vocab=30), theirs.similar_by_word("capital7", 5, 30))
    vector = theirs["word11"] + 0.5 * theirs["word12"]
    same_ranking(ours.similar_by_vector(vector, topn=5, restrict_vocab=90),
                 theirs.similar_by_vector(vector, topn=5, restrict_vocab=90))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's own init_sims inside most_similar_cosmul
@pytest.mark.parametrize("positive,negative", [
    (["capital1", "country2"], ["country1"]), ("word3", "word4"), (["word5"], None), (["word1", "word2"], []),
])
def test_most_similar_cosmul_matches(pair, positive, negative):
    ours, theirs = pair
    same_ranking(ours.most_similar_cosmul(positive, negative, topn=6), theirs.most_similar_cosmul(positive, negative, topn=6))


def test_similarities_and_distances(pair):
    ours, theirs = pair
    for a, b in [("word1", "word2"), ("country0", "capital0"), ("word7", "word7")]:
        assert ours.similarity(a, b) == pytest.approx(float(theirs.similarity(a, b)), abs=1e-6)
        assert ours.distance(a, b) == pytest.approx(float(theirs.distance(a, b)), abs=1e-6)
    groups = (["word1", "word2", "capital3"], ["country4", "word9"])
    assert ours.n_similarity(*groups) == pytest.approx(float(theirs.n_similarity(*groups)), abs=1e-6)
    np.testing.assert_allclose(ours.distances("word3"), theirs.distances("word3"), atol=1e-6)
    np.testing.assert_allclose(ours.distances("word3", ["word4", "capital1"]), theirs.distances("word3", ["word4", "capital1"]), atol=1e-6)
    vector = theirs["word8"] * 3
    np.testing.assert_allclose(ours.distances(vector, ["word4"]), theirs.distances(vector, ["word4"]), atol=1e-6)
    for a, b in [("word3", "word4"), ("country5", "capital5"), ("word3", "word3")]:
        assert ours.rank(a, b) == theirs.rank(a, b)
        assert ours.closer_than(a, b) == theirs.closer_than(a, b)


def test_doesnt_match_ignores_unknown_words_with_a_warning(pair):
    ours, theirs = pair
    words = ["word1", "word2", "capital3", "nope", "word9"]
    with pytest.warns(UserWarning, match="'nope' not in the vocabulary"):
        answer = ours.doesnt_match(words)
    assert answer == theirs.doesnt_match(words)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ours.doesnt_match(words[:3]) == theirs.doesnt_match(words[:3])
    with pytest.raises(UnknownWordError):
        ours.doesnt_match(["word1", "nope", "zilch"])


def _questions(path):
    lines = [": capitals"]
    lines += [f"country{i} capital{i} country{j} capital{j}" for i in range(0, 10) for j in range(10, 14)]
    lines += ["country1 capital1 country2 unknownword", ": gram-words"]
    lines += [f"word{i} WORD{i + 1} word3 word{i + 2}" for i in range(0, 30, 3)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("restrict", [300000, 60])
@pytest.mark.parametrize("dummy", [False, True])
def test_evaluate_word_analogies_matches(pair, tmp_path, restrict, dummy):
    ours, theirs = pair
    path = str(_questions(tmp_path / "q.txt"))
    our_score, our_sections = ours.evaluate_word_analogies(path, restrict_vocab=restrict, dummy4unknown=dummy)
    their_score, their_sections = theirs.evaluate_word_analogies(path, restrict_vocab=restrict, dummy4unknown=dummy)
    assert our_sections == their_sections
    assert our_score == pytest.approx(their_score, abs=1e-12)
    assert 0 < len(our_sections[-1]["correct"]) < len(our_sections[-1]["correct"] + our_sections[-1]["incorrect"])


@pytest.mark.parametrize("dummy", [False, True])
def test_evaluate_word_pairs_matches(pair, tmp_path, dummy):
    ours, theirs = pair
    rng = np.random.default_rng(3)
    lines = [f"word{rng.integers(120)}\tcapital{rng.integers(N_PAIRS)}\t{rng.uniform(0, 10):.2f}" for _ in range(40)]
    lines += ["word1\tunknownword\t3.5", "# a comment", "WORD3\tcountry2\t7.25"]
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    our = ours.evaluate_word_pairs(str(path), dummy4unknown=dummy)
    their = theirs.evaluate_word_pairs(str(path), dummy4unknown=dummy)
    for mine, reference in zip(our[:2], their[:2]):
        assert mine[0] == pytest.approx(reference[0], abs=1e-6)
        assert mine[1] == pytest.approx(reference[1], rel=1e-6, abs=1e-12)
    assert our[2] == pytest.approx(their[2], abs=1e-9)


@pytest.mark.parametrize("r,n", [(0.3, 10), (-0.8, 5), (0.05, 353), (0.999, 40), (0.0, 3)])
def test_correlation_pvalue_is_scipys(r, n):
    reference = stats.t.sf(abs(r) * np.sqrt((n - 2) / (1 - r * r)), n - 2) * 2
    assert correlation_pvalue(r, n) == pytest.approx(reference, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("binary", [True, False])
def test_word2vec_format_round_trips_both_ways(pair, tmp_path, binary):
    ours, theirs = pair
    path = tmp_path / ("v.bin" if binary else "v.txt")
    theirs.save_word2vec_format(str(path), binary=binary)
    loaded = word2vec.Vectors.load_word2vec_format(path, binary=binary, limit=25)
    assert loaded.index_to_key == theirs.index_to_key[:25]
    np.testing.assert_array_equal(loaded.vectors, theirs.vectors[:25])
    assert repr(loaded) == f"<Vectors: 25 words × {DIM} dimensions, from {path}>"
    ours.save_word2vec_format(path, fvocab=tmp_path / "vocab.tsv", binary=binary)
    back = gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    np.testing.assert_array_equal(back.vectors, ours.vectors)
    again = word2vec.load_word2vec_format(path, fvocab=tmp_path / "vocab.tsv")
    np.testing.assert_array_equal(again.counts, ours.counts)


def test_repr_names_size_dimensions_and_source(tmp_path):
    vectors = word2vec.Vectors(["a", "b"], np.eye(2, 3, dtype=np.float32))
    assert repr(vectors) == "<Vectors: 2 words × 3 dimensions, in memory>"
