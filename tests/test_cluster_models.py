"""Every arch × loss, and subword models, trained on a cluster; the rows a replica sends and the updates it applies."""

import itertools

import numpy as np
import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")

from word2vec import api  # noqa: E402
from word2vec import config as config_mod  # noqa: E402
from word2vec.cli import cli  # noqa: E402
from word2vec.distributed import blocks, replica  # noqa: E402
from word2vec.text import vocab as vocab_mod  # noqa: E402
from word2vec.training import loop  # noqa: E402

COMMON = ["--dim", "20", "--min-count", "1", "--sample", "0", "--set", "train.sync_words=10000", "-q"]
RNGS = np.stack([loop.thread_seed(1, 0)])  # one thread's
SUBWORDS = ["--set", "model.minn=3", "--set", "model.maxn=4", "--set", "model.buckets=3000"]


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster:
        yield cluster.scheduler_address


def train(scheduler, corpus, output, *args):
    result = CliRunner().invoke(cli, ["train", corpus, "-o", str(output), "--cluster", scheduler, *COMMON, *args])
    assert result.exit_code == 0, result.output
    return api.load_model(str(output))


def assert_topics_learned(model, topics):
    for topic in topics:
        neighbours = [word for word, _ in model.most_similar(topic[0], topn=5)]
        assert set(neighbours) <= set(topic), (topic[0], neighbours)


@pytest.mark.parametrize("arch,loss", list(itertools.product(["skipgram", "cbow"], ["neg", "hs", "softmax"])))
def test_every_arch_and_loss_learns_on_a_cluster(scheduler, topic_corpus, tmp_path, arch, loss):
    corpus, topics = topic_corpus
    model = train(scheduler, corpus, tmp_path / "model", "--arch", arch, "--loss", loss, "--epochs", "3")
    assert model.metrics["workers"] == 2 and model.metrics["epochs"][-1]["rounds"] >= 2
    assert_topics_learned(model, topics)


@pytest.mark.parametrize("arch,loss", [("skipgram", "neg"), ("cbow", "hs")])
def test_subword_models_train_on_a_cluster(scheduler, topic_corpus, tmp_path, arch, loss):
    from word2vec.training import subword_model

    corpus, topics = topic_corpus
    output = tmp_path / "model"
    model = train(scheduler, corpus, output, "--arch", arch, "--loss", loss, "--epochs", "2", *SUBWORDS,
                  "--set", "output.formats=[npy, fasttext-bin]")
    assert_topics_learned(model, topics)
    ngrams, buckets = np.load(output / "ngrams.npy"), np.load(output / "ngram_buckets.npy")
    vocab = vocab_mod.Vocab(list(model.wv.words), np.asarray(model.wv.counts))
    layout = subword_model.make_layout(vocab, model.config)
    np.testing.assert_array_equal(buckets, layout.used)  # the buckets the 32 words' n-grams use, of 3000
    assert 0 < len(buckets) < 3000
    start = subword_model.init_input(layout, model.config)[len(vocab):]
    assert ngrams.shape == start.shape == (len(buckets), 20)
    assert (ngrams != start).any(axis=1).mean() > 0.5  # trained on the cluster
    assert (output / "vectors.fasttext.bin").exists()


def a_replica(config, text, threads=1):
    """A Replica with one shard of `text`, built here without Dask, and its vocabulary."""
    words = sorted(set(text.split()))
    vocab = vocab_mod.from_counts(words, [text.split().count(w) for w in words])
    part = blocks.encode(text.encode(), vocab.index, False, config.corpus.max_sentence_length)
    rngs = np.stack([loop.thread_seed(config.train.seed, t) for t in range(threads)])
    built = replica.Replica(vocab, config)
    assert built.add_shard(0, [part], rngs)[0] == len(text.split())
    return built


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_a_subword_replica_sends_every_row_it_changed(topic_corpus, monkeypatch, arch):
    """Only the rows of the round's words are compared for the subword matrix: the same deltas as comparing all."""
    config = config_mod.Config().with_overrides({"model.vector_size": 8, "model.maxn": 4, "model.minn": 3,
                                                 "model.buckets": 500, "model.arch": arch, "vocab.sample": 0,
                                                 "train.sync_frequent": 0})
    text = open(topic_corpus[0]).read()[:20000]
    sent = [a_replica(config, text).train(0, RNGS, 0, 0, 1, (0.05, 0.04)) for _ in range(2)]
    monkeypatch.setattr(replica.Shard, "input_rows", lambda self, lo, hi: None)
    whole = a_replica(config, text)
    compared = whole.train(0, RNGS, 0, 0, 1, (0.05, 0.04))
    for ours in sent:
        for (rows, deltas), (all_rows, all_deltas) in zip(ours[0], compared[0]):
            assert np.array_equal(rows, all_rows) and np.array_equal(deltas, all_deltas)
    rows_in, n_words = sent[0][0][0][0], len(whole.vocab)
    assert (rows_in >= n_words).any() and len(rows_in) < n_words + 500  # bucket rows, not every row
    assert all(np.array_equal(work, base) for work, base in zip(whole.work, whole.base))


def test_a_worker_loads_the_subword_kernel_its_replica_trains_with():
    """`load_kernel`, which every worker runs while the corpus is counted, loads the skip-gram neg kernel of
    fastText's order that replicas train with, not the local run's window kernel (in a fresh process, so
    no other test has loaded either)."""
    import subprocess
    import sys

    script = """
from word2vec import config as config_mod
from word2vec.distributed import replica
from word2vec.training import kernels_subword as k
config = config_mod.Config().with_overrides({"model.maxn": 4, "model.minn": 3, "model.buckets": 100,
                                             "model.vector_size": 8})
replica.load_kernel(config)
print(len(k.train_subword_skipgram_neg_by_pair.signatures), len(k.train_subword_skipgram_neg.signatures))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "0"]


@pytest.mark.parametrize("loss,maxn", [("neg", 0), ("hs", 0), ("neg", 4)])
def test_a_partial_round_sends_the_frequent_rows_and_holds_the_others_over(topic_corpus, loss, maxn):
    """With frequency tiers a partial round sends the rows of the most frequent words (under hs, the tree
    nodes nearest the root) and holds over, exactly, the others it changed: together, what a round that syncs
    every row sends; `work` is `base` again. The next round trains from the rows held over.

    The replica's only shard leaves those rows in `work` instead (`Replica.held`) until something else needs
    `work` (`set_aside`): its next round is the same to the bit either way."""
    settings = {"model.vector_size": 8, "model.loss": loss, "model.maxn": maxn, "model.minn": 3,
                "model.buckets": 500, "vocab.sample": 0}
    text = open(topic_corpus[0]).read()[:20000]
    tiers_on = config_mod.Config().with_overrides(dict(settings, **{"train.sync_frequent": 8}))
    tiered, kept = a_replica(tiers_on, text), a_replica(tiers_on, text)
    whole = a_replica(config_mod.Config().with_overrides(dict(settings, **{"train.sync_frequent": 0})), text)
    sent = tiered.train(0, RNGS, 0, 0, 2, (0.05, 0.04))[0]
    expected = whole.train(0, RNGS, 0, 0, 2, (0.05, 0.04))[0]
    assert tiered.held is not None and tiered.shards[0].carry is None
    assert not all(np.array_equal(work, base) for work, base in zip(tiered.work, tiered.base))
    tiered.set_aside()
    assert tiered.held is None
    carry = tiered.shards[0].carry
    for m, ((rows, deltas), (all_rows, all_deltas), (held, values)) in enumerate(zip(sent, expected, carry)):
        top = tiered.frequent[m]
        assert len(top) == 8 and (loss == "neg" or m == 0 or top[-1] == len(tiered.base[1]) - 1)
        assert set(rows) <= set(top) and len(held) > 0 and not set(held) & set(top)
        assert np.array_equal(np.sort(np.concatenate([rows, held])), all_rows)
        in_top = np.isin(all_rows, top)
        assert np.array_equal(deltas, all_deltas[in_top])
        assert np.array_equal((values - tiered.base[m][held]).astype(np.float16), all_deltas[~in_top])
    assert all(np.array_equal(work, base) for work, base in zip(tiered.work, tiered.base))
    after = tiered.train(0, None, 0, 1, 2, (0.04, 0.03))[0]  # the full round: what was held over goes too
    assert tiered.shards[0].carry is None and set(carry[0][0]) <= set(after[0][0])
    kept.train(0, RNGS, 0, 0, 2, (0.05, 0.04))
    again = kept.train(0, None, 0, 1, 2, (0.04, 0.03))[0]  # from the rows left in `work`
    assert kept.held is None and all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                                     for a, b in zip(after, again))
    assert all(np.array_equal(work, base) for work, base in zip(kept.work, kept.base))


def test_a_second_shard_or_a_moved_one_sets_the_rows_left_in_work_aside(topic_corpus):
    """Rows a partial round left in `work` (`Replica.held`) go to their shard's `carry` as soon as `work` is
    shared (a second shard) or its shard leaves; then the next full round is the same as if they had stayed."""
    config = config_mod.Config().with_overrides({"model.vector_size": 8, "vocab.sample": 0,
                                                 "train.sync_frequent": 8})
    text = open(topic_corpus[0]).read()[:20000]
    shared, alone, gone = a_replica(config, text), a_replica(config, text), a_replica(config, text)
    for built in (shared, alone, gone):
        built.train(0, RNGS, 0, 0, 2, (0.05, 0.04))
        assert built.held is not None
    words = shared.vocab.words
    part = blocks.encode(" ".join(words).encode(), shared.vocab.index, False, config.corpus.max_sentence_length)
    shared.add_shard(1, [part], RNGS[:1])
    assert shared.held is None and shared.shards[0].carry is not None
    assert all(np.array_equal(work, base) for work, base in zip(shared.work, shared.base))
    first = shared.train(0, None, 0, 1, 2, (0.04, 0.03))[0]
    expected = alone.train(0, None, 0, 1, 2, (0.04, 0.03))[0]
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, expected))
    gone.shards.pop(0)
    gone.set_aside()
    assert gone.held is None and all(np.array_equal(work, base) for work, base in zip(gone.work, gone.base))


def test_a_replica_applies_each_merged_update_once(topic_corpus):
    config = config_mod.Config().with_overrides({"model.vector_size": 4, "vocab.sample": 0})
    built = a_replica(config, open(topic_corpus[0]).read()[:5000])
    start = built.base[0].copy()
    update = ((np.array([1, 3], np.int32), np.ones((2, 4), np.float32)),
              (np.zeros(0, np.int32), np.zeros((0, 4), np.float32)))
    for _ in range(2):  # a task run again after its worker's replica applied the update already
        built.apply(update, 1)
    assert built.applied == 1
    np.testing.assert_array_equal(built.base[0][[1, 3]], start[[1, 3]] + 1)
    np.testing.assert_array_equal(built.work[0], built.base[0])
    with pytest.raises(replica.MissingReplica, match="holds 1 updates and was sent update 3"):
        built.apply(update, 3)  # it missed one: treated as lost


def test_a_replica_trains_from_its_pending_deltas_and_from_before_the_last_update(topic_corpus):
    """sync_lag 1: a shard trains from the merged weights plus its own deltas not merged yet, exactly as from
    weights that hold them; a shard moved to a replica one update ahead trains from before that update."""
    config = config_mod.Config().with_overrides({"model.vector_size": 8, "vocab.sample": 0, "train.sync_lag": 1})
    text = open(topic_corpus[0]).read()[:8000]
    rows = np.array([0, 2, 5], np.int32)
    mine = tuple((rows, np.full((3, 8), 0.01 * (m + 1), np.float32)) for m in (0, 1))
    holding, pending = a_replica(config, text), a_replica(config, text)
    holding.apply(mine, 1)  # weights holding the deltas, as update 1
    pending.shards[0].pending = [(1, mine)]  # the same deltas, sent but not merged
    start = [w.copy() for w in pending.base]
    expected = holding.train(0, RNGS, 0, 0, 2, (0.05, 0.04), seq=2)
    got = pending.train(0, RNGS, 0, 0, 2, (0.05, 0.04), seq=2)
    for (rows_a, deltas_a), (rows_b, deltas_b) in zip(expected[0], got[0]):
        assert np.array_equal(rows_a, rows_b) and np.array_equal(deltas_a, deltas_b)
    assert all(np.array_equal(w, s) for w, s in zip(pending.base, start))  # its base is left as it was
    assert all(np.array_equal(w, b) for w, b in zip(pending.work, pending.base))
    assert [s for s, _ in pending.shards[0].pending] == [1, 2]

    behind, ahead = a_replica(config, text), a_replica(config, text)
    ahead.apply(mine, 1)
    expected = behind.train(0, RNGS, 0, 0, 2, (0.05, 0.04), seq=1, base_seq=0)
    got = ahead.train(0, RNGS, 0, 0, 2, (0.05, 0.04), seq=1, base_seq=0)  # rolls update 1 back for the round
    for (rows_a, deltas_a), (rows_b, deltas_b) in zip(expected[0], got[0]):
        assert np.array_equal(rows_a, rows_b) and np.array_equal(deltas_a, deltas_b)
    assert np.array_equal(ahead.base[0][rows], behind.base[0][rows] + mine[0][1])
