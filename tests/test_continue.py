"""Continued training: `w2v train --init MODEL` and Model.train_more on a synthetic two-part corpus."""

import numpy as np
import pytest
from click.testing import CliRunner

import word2vec
from word2vec.cli import cli
from word2vec.errors import ConfigError, DataError, Interrupted
from word2vec.text import vocab as vocab_mod
from word2vec.training import loop, merge

TOPICS = 4
SETTINGS = {"vector_size": 16, "epochs": 8, "threads": 1, "min_count": 3, "sample": 0.0, "window": 3,
            "progress": False}


def _part(seed, extra, n=1500):
    """Sentences of one topic each: words `t{topic}_{i}` plus, per topic, the words `extra(topic)`."""
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(n):
        topic = int(rng.integers(TOPICS))
        words = [f"t{topic}_{i}" for i in range(8)] + extra(topic)
        sentences.append([words[j] for j in rng.integers(0, len(words), size=8)])
    return sentences


PART_A = _part(1, lambda t: [f"onlya{t}"])  # onlya* appear in A only
PART_B = _part(2, lambda t: [f"new{t}_0", f"new{t}_1"])  # new* appear in B only


def _topic_share(vectors, word, topic, topn=5):
    return np.mean([w.startswith((f"t{topic}_", f"new{topic}_", f"onlya{topic}")) for w, _ in
                    vectors.most_similar(word, topn=topn)])


@pytest.fixture(scope="module")
def trained():
    return word2vec.train(sentences=PART_A, **SETTINGS)


@pytest.fixture(scope="module")
def continued(trained):
    before = word2vec.Model(word2vec.Vectors(trained.wv.words, np.array(trained.wv.vectors), trained.wv.counts),
                            trained.config, trained.metrics, np.array(trained.w_out))
    after = word2vec.Model(before.wv, before.config, before.metrics, before.w_out)
    return before, after.train_more(sentences=PART_B, progress=False)


def test_words_seen_only_in_b_get_useful_vectors(continued):
    before, after = continued
    assert "new0_0" not in before and "new0_0" in after
    for topic in range(TOPICS):
        for word in (f"new{topic}_0", f"new{topic}_1"):
            assert _topic_share(after.wv, word, topic) == 1.0, (word, after.wv.most_similar(word, topn=5))


def test_words_seen_only_in_a_keep_their_vectors(continued):
    before, after = continued
    for topic in range(TOPICS):
        word = f"onlya{topic}"
        np.testing.assert_array_equal(after.wv[word], before.wv[word])
        assert _topic_share(after.wv, word, topic) >= 0.8


def test_counts_add_up_and_rows_stay_sorted(continued):
    before, after = continued
    old = dict(zip(before.wv.words, before.wv.counts.tolist()))
    for word, count in zip(after.wv.words, after.wv.counts.tolist()):
        in_b = sum(sentence.count(word) for sentence in PART_B)
        assert count == old.get(word, 0) + in_b
    assert list(after.wv.counts) == sorted(after.wv.counts, reverse=True)
    assert after.w_out.shape == after.wv.vectors.shape


def test_carry_map_minimises_what_it_says(monkeypatch):
    rng = np.random.default_rng(0)
    old, new = rng.normal(size=(30, 4)).astype(np.float32), rng.normal(size=(30, 4)).astype(np.float32)
    rows = np.array([0, 3, 4, 7, 8, 11, 15, 16, 20, 29])
    ridge = np.mean(np.sum(old[rows].astype(np.float64) ** 2, axis=1))
    # the ridge towards the identity is d more rows, sqrt(ridge)·e_k, that the map must send to themselves
    x = np.vstack([old[rows], np.sqrt(ridge) * np.eye(4)])
    y = np.vstack([new[rows], np.sqrt(ridge) * np.eye(4)])
    expected = np.linalg.lstsq(x, y, rcond=None)[0]
    np.testing.assert_allclose(merge.carry_map(old, new, rows), expected, atol=1e-9)
    monkeypatch.setattr(merge, "CHUNK", 3)  # blocks add up to the same normal equations
    np.testing.assert_allclose(merge.carry_map(old, new, rows), expected, atol=1e-9)
    np.testing.assert_array_equal(merge.carry_map(old * 0, new, rows), np.eye(4))


def test_average_weights_each_vector_by_the_occurrences_it_has_seen():
    rng = np.random.default_rng(1)
    run = rng.normal(size=(6, 3)).astype(np.float32)
    # rows 0-2 both texts hold (count grew), row 3 only the old text, rows 4-5 only the new text
    prior = merge.Prior(rng.normal(size=(6, 3)).astype(np.float32), np.array([3, 10, 1, 4, 0, 0]))
    prior.w_in[4:] = 0.0
    counts = np.array([5, 30, 2, 4, 7, 5])
    carry = merge.carry_map(prior.w_in, run, np.array([0, 1, 2]))
    share = np.array([3 / 8, 10 / 40, 1 / 3])[:, None]
    expected = run.copy()
    expected[:3] = share * (prior.w_in[:3].astype(np.float64) @ carry) + (1 - share) * run[:3]
    w_in = run.copy()
    assert merge.average(prior, w_in, counts) == 3
    np.testing.assert_allclose(w_in, expected, rtol=1e-6)
    np.testing.assert_array_equal(w_in[3:], run[3:])


def test_a_turn_of_the_whole_space_is_carried_not_undone():
    rng = np.random.default_rng(2)
    old = rng.normal(size=(2000, 4)).astype(np.float32)
    turn = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    run = (old @ turn).astype(np.float32)
    prior = merge.Prior(old, np.full(2000, 10))
    w_in = run.copy()
    merge.average(prior, w_in, np.full(2000, 20))
    np.testing.assert_allclose(w_in, run, atol=0.02)  # old @ M lands on the run's vectors: the average keeps them


def test_average_is_the_run_then_the_merge(trained):
    runs = {}
    for how in ("none", "average"):
        model = word2vec.Model(word2vec.Vectors(trained.wv.words, np.array(trained.wv.vectors), trained.wv.counts),
                               trained.config, trained.metrics, np.array(trained.w_out))
        runs[how] = model.train_more(sentences=PART_B, progress=False, continue_merge=how)
    plain, averaged = runs["none"], runs["average"]
    assert plain.wv.words == averaged.wv.words and averaged.config.train.continue_merge == "average"
    rows = np.array([plain.wv.key_to_index[word] for word in trained.wv.words])
    prior = merge.make_prior(trained.wv.vectors, trained.wv.counts, rows, len(plain.wv))
    expected = np.array(plain.wv.vectors)
    assert merge.average(prior, expected, plain.wv.counts) == len(trained.wv) - TOPICS  # all but the onlya*
    np.testing.assert_array_equal(averaged.wv.vectors, expected)
    np.testing.assert_array_equal(averaged.w_out, plain.w_out)  # the output weights stay as the run left them


def test_an_interrupted_continued_run_resumes_to_the_same_average(trained, tmp_path):
    corpus = _write(tmp_path / "b.txt", PART_B)
    config = trained.config.with_overrides({"train.checkpoint_every": 0})
    quiet = loop.Reporter(progress=False, log=lambda message: None)
    word2vec.api.continue_training(trained, [corpus], config, str(tmp_path / "whole"), quiet, loop.Hooks())

    def stop(trainer, state):
        trainer.stop_signal = 2

    with pytest.raises(Interrupted):
        word2vec.api.continue_training(trained, [corpus], config, str(tmp_path / "split"), quiet,
                                       loop.Hooks(on_job=stop))
    loop.resume(str(tmp_path / "split"), reporter=quiet)
    whole, split = ((tmp_path / name / "vectors.npy").read_bytes() for name in ("whole", "split"))
    assert split == whole


def test_extend_adds_only_new_words_reaching_min_count():
    vocab = vocab_mod.Vocab(["a", "b"], np.array([5, 3]))
    merged, remap, moved = vocab_mod.extend(vocab, ["b", "c", "d"], [4, 2, 1], min_count=2)
    assert merged.words == ["b", "a", "c"] and merged.counts.tolist() == [7, 5, 2]
    assert remap.tolist() == [0, 2, -1] and moved.tolist() == [1, 0]


def test_hs_continues_with_a_rebuilt_tree(tmp_path):
    model = word2vec.train(sentences=PART_A[:300], loss="hs", **{**SETTINGS, "epochs": 2})
    model.train_more(sentences=PART_B[:300], output=tmp_path / "more", epochs=1)
    assert model.w_out.shape == (len(model) - 1, 16)
    assert np.isfinite(model.metrics["epochs"][-1]["loss"]) and len(model.metrics["epochs"]) == 1
    assert word2vec.load_model(tmp_path / "more").wv.index_to_key == model.wv.index_to_key


def test_a_changed_key_is_refused_naming_it(trained):
    with pytest.raises(ConfigError, match=r"^the model was trained with model.vector_size=16, but this run sets 8; "
                                          r"continued training keeps model.vector_size$"):
        trained.train_more(sentences=PART_B[:10], vector_size=8)
    with pytest.raises(ConfigError, match="model.loss=neg, but this run sets hs"):
        trained.train_more(sentences=PART_B[:10], loss="hs")


def test_a_model_without_output_weights_is_refused():
    vectors = word2vec.Vectors(["a", "b"], np.eye(2, dtype=np.float32), [2, 1])
    with pytest.raises(DataError, match="has no output weights"):
        word2vec.Model(vectors, word2vec.api.config_mod.Config()).train_more(sentences=[["a", "b"]])


def _write(path, sentences):
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    return str(path)


def _run(args):
    return CliRunner().invoke(cli, args)


def test_cli_init_continues_and_refuses_in_one_line(tmp_path):
    a, b = _write(tmp_path / "a.txt", PART_A[:300]), _write(tmp_path / "b.txt", PART_B[:300])
    model = str(tmp_path / "m")
    flags = ["--threads", "1", "--epochs", "1", "--min-count", "3", "-q"]
    assert _run(["train", a, "-o", model, "--dim", "10", *flags]).exit_code == 0
    result = _run(["train", b, "--init", model, "-o", str(tmp_path / "n"), *flags])
    assert result.exit_code == 0, result.output
    assert "new0_0" in word2vec.load(tmp_path / "n") and "new0_0" not in word2vec.load(model)
    refusals = [
        (["--init", model, "--dim", "20"], 2,
         f"Error: {model} was trained with model.vector_size=10, but this run sets 20; continued training keeps "
         "model.vector_size"),
        (["--init", model, "--arch", "cbow"], 2, "model.arch=skipgram, but this run sets cbow"),
        (["--init", f"{model}/vectors.bin"], 1,
         f"Error: {model}/vectors.bin is not a model directory; a word2vec file holds the input vectors only"),
    ]
    for extra, status, message in refusals:
        result = _run(["train", b, "-o", str(tmp_path / "x"), *extra])
        assert result.exit_code == status and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    (tmp_path / "m" / "w_out.npy").unlink()
    result = _run(["train", b, "--init", model, "-o", str(tmp_path / "x")])
    assert result.exit_code == 1 and result.output.strip() == (
        f"Error: {model} has no output weights (w_out.npy); training can continue only from a model "
        "directory written by this version of w2v")


def test_init_on_a_subword_model_is_refused_in_one_line(tmp_path):
    a, b = _write(tmp_path / "a.txt", PART_A[:200]), _write(tmp_path / "b.txt", PART_B[:200])
    model = str(tmp_path / "sub")
    flags = ["--threads", "1", "--epochs", "1", "--min-count", "3", "--dim", "8", "-q"]
    subwords = ["--set", "model.maxn=4", "--set", "model.buckets=1000"]
    assert _run(["train", a, "-o", model, *flags, *subwords]).exit_code == 0
    result = _run(["train", b, "--init", model, "-o", str(tmp_path / "x"), *flags])
    assert result.exit_code == 2 and result.output.startswith(f"Error: {model} is a subword model (model.maxn=4)")
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
