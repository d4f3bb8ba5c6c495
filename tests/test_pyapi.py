"""Training from Python: token lists or files, keyword overrides by key name, Model, save and load_model."""

import os
import tempfile

import numpy as np
import pytest

import word2vec
from word2vec.errors import ConfigError, W2VError

SMALL = {"vector_size": 12, "epochs": 2, "threads": 1, "min_count": 2, "progress": False}


def _sentences(n=400, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(30)]
    return [[words[j] for j in rng.integers(0, 30, size=rng.integers(3, 12))] for _ in range(n)]


def test_one_pass_generator_trains_the_same_as_the_file(tmp_path):
    sentences = _sentences()
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(" ".join(s) + "\n" for s in sentences))
    from_list = word2vec.train(sentences=(s for s in sentences), **SMALL)
    from_file = word2vec.train(corpus_file=str(corpus), **SMALL)
    assert isinstance(from_list, word2vec.Model) and isinstance(from_list.wv, word2vec.Vectors)
    assert from_list.wv.index_to_key == from_file.wv.index_to_key
    np.testing.assert_array_equal(from_list.wv.vectors, from_file.wv.vectors)
    np.testing.assert_array_equal(from_list.w_out, from_file.w_out)
    assert from_list.config.model.vector_size == 12 and from_list.config.train.epochs == 2
    assert len(from_list.metrics["epochs"]) == 2
    assert from_list.wv.vectors.flags.c_contiguous and from_list.w_out.flags.c_contiguous  # not training's padded rows


def test_overrides_find_their_section_or_are_refused():
    model = word2vec.train(sentences=_sentences(50), window=2, **{"vocab.sample": 0.0}, **SMALL)
    assert model.config.model.window == 2 and model.config.vocab.sample == 0.0
    with pytest.raises(ConfigError, match=r"unknown option 'windw' \(did you mean 'window'\?\); the config keys are "):
        word2vec.train(sentences=_sentences(5), windw=3)
    with pytest.raises(ConfigError, match="'model.window' must be at most 1000"):
        word2vec.train(sentences=_sentences(5), window=10**6)


@pytest.mark.parametrize("sentences,message", [
    ([["a", "b c"]], "sentence 1: token 'b c' is empty or holds whitespace"),
    ([["a"], ["b", ""]], "sentence 2: token '' is empty or holds whitespace"),
    ([["a"], "a b c"], "sentence 2 is a string; sentences must be lists of tokens"),
    ("a b c", "sentences must be an iterable of token lists, not a string"),
    ([["a", 3]], "sentence 1: token 3 is not a string"),
])
def test_bad_sentences_are_refused_in_one_line(sentences, message):
    with pytest.raises(ConfigError) as caught:
        word2vec.train(sentences=sentences, progress=False)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_one_input_exactly(tmp_path):
    with pytest.raises(ConfigError, match="give one of corpus_file= .* got sentences and corpus_file"):
        word2vec.train(sentences=[["a"]], corpus_file="x.txt")
    with pytest.raises(ConfigError, match="give one of corpus_file="):
        word2vec.train()


def test_nothing_is_left_behind_in_the_temporary_folder(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    model = word2vec.train(sentences=_sentences(100), **SMALL)
    assert os.listdir(scratch) == []
    assert model.source is None and not isinstance(model.wv.vectors, np.memmap)


def test_the_old_positional_form_writes_model_and_answers_queries(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("".join(" ".join(s) + "\n" for s in _sentences()))
    result = word2vec.train("c.txt", {"model": {"vector_size": 8}, "train": {"threads": 1}})
    assert (tmp_path / "model" / "vectors.npy").exists()
    assert [w for w, _ in result.most_similar("w1", topn=3)] == [w for w, _ in result.wv.most_similar("w1", topn=3)]
    assert "w1" in result and len(result) == 30 and result["w1"].shape == (8,)
    assert repr(result).startswith("<Model: skipgram/neg, 30 words × 8 dimensions, 5 epochs, from model>")


def test_save_and_load_model_round_trip(tmp_path):
    model = word2vec.train(sentences=_sentences(), loss="hs", **SMALL)
    model.save(tmp_path / "m")
    back = word2vec.load_model(tmp_path / "m")
    assert back.wv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(back.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(back.wv.counts, model.wv.counts)
    np.testing.assert_array_equal(back.w_out, model.w_out)
    assert back.w_out.shape == (29, 12) and back.config == model.config and back.metrics == model.metrics


def test_save_refuses_a_folder_of_the_users_files(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("mine")
    model = word2vec.train(sentences=_sentences(100), **SMALL)
    with pytest.raises(W2VError, match="holds 'todo.txt'"):
        model.save(folder)
    assert os.listdir(folder) == ["todo.txt"] and (folder / "todo.txt").read_text() == "mine"


def test_progress_bar_only_when_asked(capfd):
    word2vec.train(sentences=_sentences(100), **SMALL)
    assert capfd.readouterr().err == ""
    word2vec.train(sentences=_sentences(100), **{**SMALL, "progress": True})
    assert "training: 100%" in capfd.readouterr().err
