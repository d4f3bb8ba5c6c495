"""Interoperability with gensim: each reads the other's word2vec files (skipped unless gensim is installed)."""

import numpy as np
import pytest
from click.testing import CliRunner

from word2vec import store
from word2vec.cli import cli
from word2vec.query.vectors import load

gensim_models = pytest.importorskip("gensim.models", reason="gensim interop is checked where gensim is installed")
KeyedVectors = gensim_models.KeyedVectors

WORDS = [f"w{i}" for i in range(296)] + ["café", "naïve", "東京", "Москва"]


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    return list(WORDS), rng.standard_normal((len(WORDS), 20)).astype(np.float32)


def _gensim(words, vectors):
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(words, vectors)
    return kv


def _assert_same_neighbours(ours, theirs, queries):
    for word in queries:
        mine, gensims = ours.most_similar(word, topn=10), theirs.most_similar(word, topn=10)
        assert [w for w, _ in mine] == [w for w, _ in gensims], word
        assert np.allclose([s for _, s in mine], [s for _, s in gensims], atol=1e-5)


@pytest.mark.parametrize("fmt", ["word2vec-bin", "word2vec-txt"])
def test_gensim_reads_every_w2v_export(tmp_path, table, fmt):
    words, vectors = table
    model = tmp_path / "model"
    model.mkdir()
    store.save_npy(model / "vectors.npy", vectors)
    store.write_vocab(model / "vocab.tsv", words, np.arange(len(words), 0, -1))
    out = tmp_path / ("out.bin" if fmt == "word2vec-bin" else "out.txt")
    result = CliRunner().invoke(cli, ["export", "--model", str(model), "--format", fmt, "--output", str(out), "-q"])
    assert result.exit_code == 0, result.output
    theirs = KeyedVectors.load_word2vec_format(str(out), binary=fmt == "word2vec-bin")
    assert list(theirs.index_to_key) == words
    assert np.array_equal(theirs.vectors, vectors)
    _assert_same_neighbours(load(model), theirs, words[::25] + words[-4:])


@pytest.mark.parametrize("binary, header", [(True, True), (False, True), (False, False)])
def test_w2v_reads_what_gensim_writes(tmp_path, table, binary, header):
    words, vectors = table
    theirs = _gensim(words, vectors)
    path = tmp_path / ("g.bin" if binary else "g.txt")
    theirs.save_word2vec_format(str(path), binary=binary, write_header=header)
    ours = load(path, header=header)
    assert ours.words == words
    assert np.array_equal(ours.vectors, vectors)
    _assert_same_neighbours(ours, theirs, words[::25] + words[-4:])
    limited = load(path, header=header, limit=50)
    assert limited.words == words[:50] and np.array_equal(limited.vectors, vectors[:50])


def test_similar_on_a_gensim_file_matches_gensim(tmp_path, table):
    words, vectors = table
    theirs = _gensim(words, vectors)
    theirs.save_word2vec_format(str(tmp_path / "g.bin"), binary=True)
    result = CliRunner().invoke(cli, ["similar", "--model", str(tmp_path / "g.bin"), "東京"])
    assert result.exit_code == 0
    expected = "".join(f"東京\t{w}\t{s:.4f}\n" for w, s in theirs.most_similar("東京", topn=10))
    assert result.stdout == expected
