"""A cluster run that loses worker processes mid-round: their shards move, their rounds run again, nothing is lost."""

import gzip
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")

from word2vec import config as config_mod  # noqa: E402
from word2vec.distributed import faults, rounds  # noqa: E402
from word2vec.training import loop  # noqa: E402


def nearest(vectors, words, word, topn=5):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    order = np.argsort(-(unit @ unit[words.index(word)]))
    return [words[i] for i in order[1:topn + 1]]


CONFIG = ["model.vector_size=20", "train.epochs=2", "vocab.min_count=1", "vocab.sample=0",
          "train.sync_words=10000", "train.checkpoint_every=0", "train.sync_lag=0",
          "train.sync_frequent=8"]  # partial and full rounds in turn: a shard lost in a full one replays the partial


def _unbroken_then_killed(corpus, config, tmp_path, capsys, kill, before=None):
    """Train twice on one 3-worker LocalCluster: unbroken, then with `kill` as the round hook (stderr of the
    second run left in capsys). Returns (vocab, unbroken vectors, its metrics, vectors, metrics)."""
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster:
        address = cluster.scheduler_address
        vocab, unbroken, reference = rounds.train([corpus], config, str(tmp_path / "unbroken"), address)
        capsys.readouterr()
        _, vectors, metrics = rounds.train([corpus], config, str(tmp_path / "killed"), address,
                                           hooks=loop.Hooks(on_round=kill, before_round=before))
    return vocab, unbroken, reference, vectors, metrics


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_killed_worker_processes_lose_nothing(topic_corpus, tmp_path, capsys, suffix):
    """Kill the worker of shard 1 just before round 2 of epoch 1 is sent: a survivor takes the shard over.
    Once the nanny has restarted the worker, a shard moves to it (it is idle; or the first shard went to it
    at once); kill shard 1's worker again as round 4 of epoch 2 is sent (in it, or just after it: a round
    runs at once on its worker). Rounds 2 and 4 follow partial ones (the frequency tiers of CONFIG), so a
    shard that moves there first trains that partial round again.

    Each shard's round runs again elsewhere from the same weights and RNG states, so the run ends
    with the same weights, to the bit, as one that lost nothing (one thread per shard). A compressed
    corpus is one block cut in a piece a shard: a moved shard reads the file again and cuts its piece.
    """
    corpus, topics = topic_corpus
    if suffix:
        corpus = str(tmp_path / "corpus.txt.gz")
        with gzip.open(corpus, "wb") as handle:
            handle.write(Path(topic_corpus[0]).read_bytes())
    config = config_mod.resolve(None, CONFIG)
    pids, killed, original = {}, [], set()

    def victim(driver):
        worker = driver.shards[1].worker
        if worker not in pids:  # the restarted worker took shard 1
            pids.update(driver.client.run(os.getpid, workers=[worker]))
        os.kill(pids[worker], signal.SIGKILL)
        killed.append(worker)

    def kill(driver, epoch, index):
        if (epoch, index) == (0, 0):
            pids.update(driver.client.run(os.getpid))
            original.update(pids)
        if (epoch, index) == (1, 0):
            driver.client.wait_for_workers(3, timeout=60)
            time.sleep(5 * faults.POLL_SECONDS)  # the watch sees it: the next full round moves a shard to it
        if (epoch, index) == (1, 3):
            victim(driver)

    def before(driver, epoch, index):
        if (epoch, index) == (0, 1):
            victim(driver)

    vocab, unbroken, reference, vectors, metrics = _unbroken_then_killed(corpus, config, tmp_path, capsys, kill,
                                                                         before)
    stderr = capsys.readouterr().err
    assert len(killed) == 2 and killed[0] != killed[1]
    losses = [(loss["worker"], loss["epoch"], loss["round"]) for loss in metrics["lost_workers"]]
    assert losses[0] == (killed[0], 1, 2) and losses[1] in ((killed[1], 2, 4), (killed[1], 2, 5))
    for worker in killed:
        assert f"lost worker {worker} in epoch " in stderr
    assert "its round is run again" in stderr
    # the restarted worker takes a shard once idle, or at once when it is up before the loss is seen
    assert " is idle: shard " in stderr or metrics["lost_workers"][0]["moved_to"] not in original
    assert np.array_equal(vectors, unbroken)
    assert [epoch["words"] for epoch in metrics["epochs"]] == [epoch["words"] for epoch in reference["epochs"]]
    assert [epoch["loss"] for epoch in metrics["epochs"]] == [epoch["loss"] for epoch in reference["epochs"]]
    for topic in topics:
        assert set(nearest(vectors, vocab.words, topic[0])) <= set(topic)


def test_a_worker_killed_with_a_round_sent_ahead_loses_nothing(topic_corpus, tmp_path, capsys):
    """sync_lag 1: kill the worker of shard 1 once round 2 is sent ahead, while round 1 runs. Both its rounds
    run again elsewhere, round 1 from the driver's weights, round 2 from the weights before the last merge
    plus the shard's own deltas of round 1: the same weights, to the bit, as a run that lost nothing."""
    corpus, topics = topic_corpus
    config = config_mod.resolve(None, CONFIG[:-1] + ["train.sync_lag=1", "train.sync_words=30000"])
    killed = []

    def kill(driver, epoch, index):
        if (epoch, index) == (0, 1):
            victim = driver.shards[1].worker
            os.kill(driver.client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
            killed.append(victim)

    vocab, unbroken, reference, vectors, metrics = _unbroken_then_killed(corpus, config, tmp_path, capsys, kill)
    assert reference["epochs"][0]["rounds"] == 2 and len(killed) == 1
    assert [(loss["worker"], loss["epoch"], loss["round"]) for loss in metrics["lost_workers"]] == [(killed[0], 1, 1)]
    assert f"lost worker {killed[0]} in epoch 1, round 1" in capsys.readouterr().err
    assert np.array_equal(vectors, unbroken)
    assert [epoch["loss"] for epoch in metrics["epochs"]] == [epoch["loss"] for epoch in reference["epochs"]]
    for topic in topics:
        assert set(nearest(vectors, vocab.words, topic[0])) <= set(topic)
