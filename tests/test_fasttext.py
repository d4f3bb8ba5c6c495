"""Subword models end to end: training, the model directory, fastText's .bin both ways (with gensim), and quality."""

import collections
import struct

import numpy as np
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose

from word2vec.cli import cli
from word2vec.query.vectors import load
from word2vec.store import fasttext_bin
from word2vec.text import subwords

DIM, BUCKETS = 16, 5000
OOV_WORDS = ["zqx", "thw", "catss", "dgo", "q", "été", "unseenword"]


def run(args, input=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def _pseudo_words(rng, n):
    letters = np.array(list("abcdefghijklmnoprstuvw"))
    return list(dict.fromkeys("".join(rng.choice(letters, size=int(k))) for k in rng.integers(7, 11, size=n)))


def _topic_corpus(path, seed=0, sentences=3000, n_topics=50, size=6):
    """Sentences of 8 words drawn from one of `n_topics` topics of `size` made-up words, Zipf-like within each."""
    rng = np.random.default_rng(seed)
    words = _pseudo_words(rng, n_topics * size + 100)[:n_topics * size]
    topics = [words[t::n_topics] for t in range(n_topics)]
    weights = 1.0 / np.arange(1, size + 1)
    weights /= weights.sum()
    with open(path, "w") as handle:
        for _ in range(sentences):
            topic = topics[rng.integers(n_topics)]
            handle.write(" ".join(topic[i] for i in rng.choice(size, size=8, p=weights)) + "\n")
    return topics


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fasttext")
    topics = _topic_corpus(folder / "corpus.txt")
    model = folder / "model"
    result = run(["train", folder / "corpus.txt", "-o", model, "--dim", DIM, "--epochs", 5, "--min-count", 1,
                  "--threads", 1, "--window", 3, "--set", "model.maxn=6", "--set", f"model.buckets={BUCKETS}",
                  "--set", "output.formats=[npy, fasttext-bin]", "-q"])
    assert result.exit_code == 0, result.output
    return model, topics


def test_the_model_directory_holds_ngrams_and_composed_vectors(trained):
    model, _ = trained
    vectors = load(model)
    ngrams, ids = np.load(model / "ngrams.npy"), np.load(model / "ngram_buckets.npy")
    assert ngrams.shape == (len(ids), DIM) and vectors.subwords is not None
    ft = fasttext_bin.read(model / "vectors.fasttext.bin")
    assert ft.words == vectors.words and (ft.minn, ft.maxn, ft.buckets) == (3, 6, BUCKETS)
    offsets, rows = subwords.word_rows(ft.words, 3, 6, BUCKETS)
    assert_allclose(vectors.vectors, subwords.mean_rows(ft.input_matrix, offsets, rows), atol=1e-7)
    assert np.abs(ft.input_matrix[:len(ft.words)] - vectors.vectors).max() > 1e-3  # composed, not raw rows
    assert np.array_equal(np.load(model / "word_rows.npy"), ft.input_matrix[:len(ft.words)])
    used = np.zeros(BUCKETS, bool)
    used[rows[rows >= len(ft.words)] - len(ft.words)] = True  # the buckets some word's n-grams hash into
    assert np.array_equal(ids, np.flatnonzero(used)) and 0 < len(ids) < BUCKETS
    full = ft.input_matrix[len(ft.words):]  # fastText's file holds them all, zero where no word reaches
    assert np.array_equal(full[ids], ngrams) and not full[~used].any() and ngrams.any(axis=1).all()


def test_a_model_directory_with_all_buckets_still_loads(trained, tmp_path):
    model, _ = trained  # as saved before w2v kept the used buckets only: ngrams.npy (buckets, d)
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    for name in ("vectors.npy", "vocab.tsv", "config.yaml", "metrics.json", "w_out.npy", "word_rows.npy"):
        (legacy / name).write_bytes((model / name).read_bytes())
    ft = fasttext_bin.read(model / "vectors.fasttext.bin")
    np.save(legacy / "ngrams.npy", ft.input_matrix[len(ft.words):])
    assert np.array_equal(load(legacy)[OOV_WORDS], load(model)[OOV_WORDS])
    assert run(["export", "-m", legacy, "--format", "fasttext-bin", "-o", tmp_path / "x.bin", "-q"]).exit_code == 0
    assert (tmp_path / "x.bin").read_bytes() == (model / "vectors.fasttext.bin").read_bytes()
    np.save(legacy / "ngrams.npy", np.load(model / "ngrams.npy"))
    np.save(legacy / "ngram_buckets.npy", np.load(model / "ngram_buckets.npy")[::-1])
    assert _one_error(["similar", "x", "-m", legacy]) == (
        f"Error: {legacy / 'ngram_buckets.npy'}: not the {len(np.load(model / 'ngrams.npy'))} increasing bucket "
        f"numbers below {BUCKETS} of the rows of ngrams.npy; the model directory is damaged")


def _small_subword_run(tmp_path, *extra):
    from word2vec import config as config_mod
    from word2vec.training import loop as training

    corpus = tmp_path / "corpus.txt"
    _topic_corpus(corpus, sentences=2000)
    config = config_mod.resolve(None, ["train.threads=1", "model.vector_size=8", "train.epochs=2", "vocab.min_count=1",
                                       "train.checkpoint_every=0", "corpus.max_sentence_length=5", "model.maxn=5",
                                       "model.buckets=70000", "output.formats=[npy, fasttext-bin]", *extra])
    return training, corpus, config, training.Reporter(log=lambda message: None)


def test_training_holds_only_the_used_buckets_and_gives_the_full_matrix_numbers(tmp_path):
    from word2vec.training import subword_model

    training, corpus, config, quiet = _small_subword_run(tmp_path, "model.buckets=140000")
    with training.corpus.make_workdir() as workdir:
        trainer = training.Trainer(training.read_corpus([str(corpus)], config, workdir), config, quiet)
        compact = trainer.new_state()
        n_words = len(trainer.data.vocab)
        offsets, rows = subwords.word_rows(trainer.data.vocab.words, 3, 5, 140000)
        used = np.unique(rows[rows >= n_words])
        assert compact.w_in.shape == (n_words + len(used), 8) and len(used) < 140000 // 10
        overlap = [sum(c * c for c in collections.Counter(rows[a:b].tolist()).values()) / (b - a)
                   for a, b in zip(offsets[:-1], offsets[1:])]
        assert_allclose(trainer.layout.overlap, overlap, rtol=1e-6) and max(overlap) > 1  # some n-gram repeats
        full = trainer.new_state()
        full.w_in = subword_model.start_rows(np.arange(n_words + 140000), 8, 1)
        assert np.array_equal(full.w_in[np.r_[:n_words, used]], compact.w_in)  # each row starts as in the full one
        trainer.train(compact)
        trainer.tables = trainer.tables[:-3] + (offsets, rows, trainer.tables[-1])  # the kernels on the full matrix
        start = full.w_in.copy()
        trainer.train(full)
    assert np.array_equal(full.w_in[np.r_[:n_words, used]], compact.w_in)
    untouched = np.setdiff1d(np.arange(n_words, n_words + 140000), used)
    assert np.array_equal(full.w_in[untouched], start[untouched]) and np.array_equal(full.w_out, compact.w_out)


def test_words_out_of_the_vocabulary_get_the_mean_of_their_ngrams(trained):
    vectors = load(trained[0])
    ids = subwords.ngram_buckets("catss", 3, 6, BUCKETS)
    full = fasttext_bin.read(trained[0] / "vectors.fasttext.bin").input_matrix[len(vectors):]
    assert_allclose(vectors["catss"], full[ids].mean(axis=0), rtol=1e-6)
    assert "catss" not in vectors and vectors.has_vector("catss") and vectors.built == {"catss"}
    word_only = load(trained[0] / "vectors.fasttext.bin")
    assert_allclose(word_only["catss"], vectors["catss"], atol=1e-7)


def test_gensim_reads_our_fasttext_bin(trained):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    model, _ = trained
    theirs = fasttext.load_facebook_model(str(model / "vectors.fasttext.bin")).wv
    ours = load(model)
    for word in ours.words[:50] + ours.words[-20:]:
        assert_allclose(theirs[word], ours[word], atol=1e-6)
    for word in OOV_WORDS:
        assert_allclose(theirs[word], ours[word], atol=1e-6)


def test_we_read_gensims_save_facebook_model(tmp_path):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    rng = np.random.default_rng(1)
    words = _pseudo_words(rng, 60)
    sentences = [list(rng.choice(words, size=10)) for _ in range(200)]
    trained = fasttext.FastText(sentences, vector_size=8, min_count=1, bucket=1000, epochs=2, min_n=2, max_n=5,
                                workers=1, seed=3)
    path = tmp_path / "gensim.bin"
    fasttext.save_facebook_model(trained, str(path))
    theirs = fasttext.load_facebook_model(str(path)).wv
    ours = load(path)
    assert set(ours.words) == set(trained.wv.index_to_key) and ours.subwords.minn == 2
    for word in ours.words:
        assert_allclose(ours[word], theirs[word], atol=1e-6)
        assert_allclose(ours[word], trained.wv[word], atol=1e-6)
    for word in OOV_WORDS + [w[::-1] for w in words[:5]]:
        assert_allclose(ours[word], theirs[word], atol=1e-6)
    assert run(["similar", words[0], "-m", path, "-k", 3]).exit_code == 0
    facts = run(["info", "-m", path, "--format", "json"]).stdout
    assert '"kind": "fasttext-bin"' in facts and '"subwords": {"minn": 2, "maxn": 5, "buckets": 1000}' in facts


def _patched(trained, tmp_path, offset, value, fmt):
    data = bytearray((trained[0] / "vectors.fasttext.bin").read_bytes())
    data[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    path = tmp_path / "patched.bin"
    path.write_bytes(bytes(data))
    return path


def _one_error(args):
    result = run(args)
    lines = result.stderr.splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_supervised_quantized_and_truncated_files_are_refused(trained, tmp_path):
    original = (trained[0] / "vectors.fasttext.bin").read_bytes()
    supervised = _patched(trained, tmp_path, 8 + 7 * 4, 3, "<i")  # args.model = sup
    assert _one_error(["similar", "abc", "-m", supervised]) == (
        f"Error: {supervised}: a supervised fastText model (a classifier); w2v loads word vector models only")
    n_words = len(load(trained[0]))
    matrices = 2 * 17 + 4 * DIM * (2 * n_words + BUCKETS)
    quantized = _patched(trained, tmp_path, len(original) - matrices, 1, "<?")
    assert _one_error(["vectors", "abc", "-m", quantized]) == (
        f"Error: {quantized}: a quantized fastText model (.ftz); w2v loads unquantized .bin models only")
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(original[:-100])
    assert "truncated fastText .bin file" in _one_error(["similar", "abc", "-m", truncated])
    assert (trained[0] / "vectors.fasttext.bin").read_bytes() == original


def test_cli_answers_unknown_words_and_says_so(trained):
    model, topics = trained
    word = topics[0][0]
    result = run(["similar", word + "x", "-m", model, "-k", 3])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 3
    assert result.stderr == "note: 1 word out of the vocabulary built from subwords\n"
    assert run(["similar", word, "-m", model, "-k", 3]).stderr == ""
    result = run(["vectors", "zz", "unseenword", "-m", model])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    assert result.stderr == "note: 2 words out of the vocabulary built from subwords\n"
    assert run(["info", "-m", model]).stdout.splitlines()[3:6] == ["  minn        3", "  maxn        6",
                                                                    "  buckets     5,000"]


def test_eval_similarity_reports_coverage_with_and_without_subwords(trained, tmp_path):
    model, topics = trained
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"{topics[0][0]}\t{topics[0][1]}\t9\n{topics[0][0]}\t{topics[5][1]}\t1\n"
                     f"{topics[1][0]}x\t{topics[1][1]}\t8\n{topics[2][0]}\tnonword\t2\n")
    result = run(["eval", "similarity", str(pairs), "-m", model, "--format", "json"])
    assert result.exit_code == 0
    assert '"pairs": 4, "oov": 0.5, "subword_pairs": 2' in result.stdout
    assert result.stderr == "note: 2 words out of the vocabulary built from subwords\n"


def test_eval_analogy_builds_words_out_of_the_vocabulary(trained, tmp_path):
    model, topics = trained
    vectors = load(model)
    a, b, c = topics[0][0] + "x", topics[0][1], topics[1][0]  # a is built from its n-grams
    best, other = (w for w, _ in vectors.analogy(a, b, c, topn=2))
    known = [topics[2][0], topics[2][1], topics[3][0]]
    answer = vectors.analogy(*known)[0][0]
    questions = tmp_path / "questions.txt"
    questions.write_text(f": one\n{a} {b} {c} {best}\n{a} {b} {c} {other}\n{' '.join(known)} {answer}\n"
                         f": gram-two\n{b} {c} {topics[3][1]} nonwordz\n{b} {c} {a} {best}\n")
    result = run(["eval", "analogy", questions, "-m", model])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "section\tcorrect\tquestions\tskipped\taccuracy\tsubword_questions",
        "one\t2\t3\t0\t0.6667\t2", f"gram-two\t{int(vectors.analogy(b, c, a)[0][0] == best)}\t1\t1\t"
        f"{float(vectors.analogy(b, c, a)[0][0] == best):.4f}\t1",
        "semantic\t2\t3\t0\t0.6667\t2"] + result.stdout.splitlines()[4:]
    assert result.stderr == "note: 1 word out of the vocabulary built from subwords\n"
    questions.write_text(": rare\n" + " ".join(vectors.words[1:4] + vectors.words[:1]) + "\n")
    restricted = run(["eval", "analogy", questions, "-m", model, "--restrict", 1, "--format", "json"])
    assert restricted.stdout.splitlines()[0] == (  # known words past the --restrict rows are built too
        '{"section": "rare", "correct": 1, "questions": 1, "skipped": 0, "subword_questions": 1, "accuracy": 1.0}')
    assert restricted.stderr == "note: 3 words out of the vocabulary built from subwords\n"


def test_a_misspelt_frequent_word_finds_its_word(trained):
    model, topics = trained
    vectors = load(model)
    typos = {}
    for topic in topics:
        word = topic[0]  # the most frequent word of its topic
        typo = word[:3] + ("z" if word[3] != "z" else "y") + word[4:]  # one letter changed; "z" is never used
        assert typo not in vectors
        typos[typo] = word
    result = run(["similar", *typos, "-m", model, "-k", 10])
    assert result.exit_code == 0
    found = {}
    for line in result.stdout.splitlines():
        query, neighbour, _ = line.split("\t")
        found.setdefault(query, []).append(neighbour)
    missed = [typo for typo, word in typos.items() if word not in found[typo]]
    assert not missed, missed


def test_interrupted_subword_run_resumes_to_the_same_files(tmp_path):
    from word2vec.errors import Interrupted
    from word2vec.training import checkpoint

    training, corpus, config, quiet = _small_subword_run(tmp_path)  # 70,000 buckets: two blocks to write
    training.train([str(corpus)], config, str(tmp_path / "whole"), quiet)
    for split in ("split", "full"):
        seen = []

        def stop_after_three(trainer, state):
            seen.append(1)
            if len(seen) == 3:
                trainer.stop_signal = 2

        with pytest.raises(Interrupted):
            training.train([str(corpus)], config, str(tmp_path / split), quiet,
                           hooks=training.Hooks(on_job=stop_after_three))
        assert not (tmp_path / split / "ngrams.npy").exists()
        arrays, meta = checkpoint.load_checkpoint(str(tmp_path / split))
        n_words = len(meta["words"])
        assert len(arrays["w_in"]) < n_words + 70000  # the checkpoint holds the used buckets only
        if split == "full":  # as checkpoints were written before: all buckets, used or not
            offsets, rows = subwords.word_rows(meta["words"], 3, 5, 70000)
            full = np.full((n_words + 70000, 8), 7.0, np.float32)
            full[np.r_[:n_words, np.unique(rows[rows >= n_words])]] = arrays["w_in"]
            checkpoint.save_checkpoint(str(tmp_path / split), dict(arrays, w_in=full), meta)
        training.resume(str(tmp_path / split), reporter=quiet)
        for name in ("vectors.npy", "word_rows.npy", "ngrams.npy", "ngram_buckets.npy", "vectors.fasttext.bin"):
            assert (tmp_path / split / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_export_fasttext_bin_of_a_model_directory(trained, tmp_path):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    model, _ = trained
    out = tmp_path / "exported.bin"
    result = run(["export", "-m", model, "--format", "fasttext-bin", "-o", out])
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"wrote {len(load(model))} words and 5,000 n-gram buckets of {DIM} dimensions to {out} (fasttext-bin)\n"
    assert out.read_bytes() == (model / "vectors.fasttext.bin").read_bytes()
    theirs, ours = fasttext.load_facebook_model(str(out)).wv, load(model)
    for word in ours.words + OOV_WORDS:
        assert_allclose(theirs[word], ours[word], atol=1e-6)
    again = tmp_path / "again.bin"
    assert run(["export", "-m", out, "--format", "fasttext-bin", "-o", again, "-q"]).stderr == ""
    assert again.read_bytes() == out.read_bytes()


def test_export_fasttext_bin_of_a_word_model(tmp_path):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    _topic_corpus(tmp_path / "corpus.txt", sentences=500)
    result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "model", "--dim", 8, "--epochs", 1,
                  "--min-count", 1, "--threads", 1, "-q"])
    assert result.exit_code == 0, result.output
    assert run(["export", "-m", tmp_path / "model", "--format", "fasttext-bin", "-o", tmp_path / "w.bin", "-q"]).exit_code == 0
    theirs, ours = fasttext.load_facebook_model(str(tmp_path / "w.bin")).wv, load(tmp_path / "model")
    assert theirs.index_to_key == ours.words and np.array_equal(theirs.vectors, ours.vectors)


def test_export_fasttext_bin_refusals(trained, tmp_path):
    model, _ = trained
    out = tmp_path / "out.bin"
    assert _one_error(["export", "-m", model, "--format", "fasttext-bin", "-o", out, "--limit", 10]) == (
        "Error: fasttext-bin writes the whole model (its n-gram rows and output weights too); leave out --limit")
    words = tmp_path / "words.txt"
    assert run(["export", "-m", model, "--format", "word2vec-txt", "-o", words, "-q"]).exit_code == 0
    assert _one_error(["export", "-m", words, "--format", "fasttext-bin", "-o", out]) == (
        f"Error: {words} is a file of word vectors only; fasttext-bin needs a model directory that w2v trained "
        "(it holds the output weights and, with subwords, the n-gram rows) or a fastText .bin")
    older = tmp_path / "older"
    older.mkdir()
    for name in ("vectors.npy", "vocab.tsv", "config.yaml", "ngrams.npy", "w_out.npy"):
        (older / name).write_bytes((model / name).read_bytes())
    assert _one_error(["export", "-m", older, "--format", "fasttext-bin", "-o", out]) == (
        f"Error: {older} has no word_rows.npy, which fastText's format needs; it holds the vectors only (a model "
        "w2v exported, or saved by an older version): train it again")
    assert not out.exists()


def test_python_api_keeps_the_subwords_in_memory_and_saves_them(tmp_path):
    import word2vec

    rng = np.random.default_rng(2)
    words = _pseudo_words(rng, 40)
    sentences = [list(rng.choice(words, size=8)) for _ in range(300)]
    model = word2vec.train(sentences=sentences, vector_size=8, epochs=1, min_count=1, threads=1, maxn=5, buckets=900)
    assert model.source is None and model.wv.subwords is not None and model.word_rows.shape == (len(model.wv), 8)
    built = model["unseenword"]
    model.save(tmp_path / "saved")
    again = word2vec.load(tmp_path / "saved")
    assert_allclose(again["unseenword"], built) and np.array_equal(again.vectors, model.wv.vectors)
    assert np.array_equal(np.load(tmp_path / "saved" / "word_rows.npy"), model.word_rows)
