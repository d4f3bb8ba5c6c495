"""Checkpoints, --resume and --init of a cluster run, and what its metrics.json records of the rounds."""

import json
import signal

import numpy as np
import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")

from word2vec import config as config_mod  # noqa: E402
from word2vec.cli import cli  # noqa: E402
from word2vec.distributed import rounds  # noqa: E402
from word2vec.errors import Interrupted, W2VError  # noqa: E402
from word2vec.training import checkpoint, loop  # noqa: E402

SETTINGS = {"model.vector_size": 16, "train.epochs": 3, "vocab.min_count": 1, "vocab.sample": 0,
            "train.sync_words": 20000, "train.checkpoint_every": 0,  # 36k words: 2 rounds, a 10k-word job a shard
            "train.sync_frequent": 0}
TIERS = {"train.sync_frequent": 8}  # 4 rounds an epoch, partial and full in turn; 8 of the 32 words sync in both
QUIET = loop.Reporter(log=lambda message: None)


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def corpus(topic_corpus):
    return topic_corpus[0]


@pytest.fixture(scope="module")
def unbroken(scheduler, corpus, tmp_path_factory):
    """A run that nothing stopped: (model folder, metrics)."""
    output = tmp_path_factory.mktemp("unbroken") / "model"
    config = config_mod.Config().with_overrides(SETTINGS)
    _, _, metrics = rounds.train([corpus], config, str(output), scheduler, QUIET)
    return output, metrics


def stopped_run(scheduler, corpus, output, at, stop, extra=None):
    """A run that `stop(driver)` ends before round `at` = (epoch, round) has run."""
    def hook(driver, epoch, index):
        if (epoch, index) == at:
            stop(driver)

    config = config_mod.Config().with_overrides(dict(SETTINGS, **(extra or {})))
    rounds.train([corpus], config, str(output), scheduler, QUIET, hooks=loop.Hooks(on_round=hook))


def resume(output, scheduler):
    result = CliRunner().invoke(cli, ["train", "--resume", str(output), "--cluster", scheduler, "-q"])
    assert result.exit_code == 0, result.output
    return json.loads((output / "metrics.json").read_text())


def same_run(output, unbroken, metrics):
    """The resumed run saved the weights and per-epoch figures of the unbroken one; its checkpoint is gone."""
    reference, reference_metrics = unbroken
    assert np.array_equal(np.load(output / "vectors.npy"), np.load(reference / "vectors.npy"))
    assert np.array_equal(np.load(output / "w_out.npy"), np.load(reference / "w_out.npy"))
    keys = ("epoch", "loss", "predictions", "words", "rounds")
    assert [{k: e[k] for k in keys} for e in metrics["epochs"]] == [
        {k: e[k] for k in keys} for e in reference_metrics["epochs"]]
    rounds_an_epoch = reference_metrics["epochs"][0]["rounds"]
    assert [(r["epoch"], r["round"]) for r in metrics["round_log"]] == [
        (e, r) for e in (1, 2, 3) for r in range(1, rounds_an_epoch + 1)]
    assert [(r["epoch"], r["round"], r["rows_in"], r["rows_out"]) for r in metrics["round_log"]] == [
        (r["epoch"], r["round"], r["rows_in"], r["rows_out"]) for r in reference_metrics["round_log"]]
    assert not (output / "checkpoint.npz").exists()


def test_a_signal_saves_the_round_and_resume_finishes_the_same_run(scheduler, corpus, unbroken, tmp_path):
    output = tmp_path / "model"

    def stop(driver):
        driver.stop_signal = signal.SIGINT  # as the handler of Ctrl-C does

    with pytest.raises(Interrupted) as caught:
        stopped_run(scheduler, corpus, output, (1, 0), stop)
    assert caught.value.exit_code == 130
    assert str(caught.value).endswith(f"Resume with: w2v train --resume {output} --cluster ADDRESS")
    arrays, meta = checkpoint.load_checkpoint(str(output), cluster=True)
    assert (meta["epoch"], meta["job"], len(meta["metrics"]), meta["cluster"]["shards"]) == (1, 1, 1, [1, 1])
    assert "pending_sizes" not in arrays
    same_run(output, unbroken, resume(output, scheduler))


def test_with_tiers_a_signal_in_a_partial_round_saves_after_the_next_full_one(scheduler, corpus, tmp_path):
    """With frequency tiers the workers hold rows over a partial round, so a stop asked for in one is honoured
    after the round that syncs every row (job 2, not 1), and the resumed run is the same run."""
    config = config_mod.Config().with_overrides(dict(SETTINGS, **TIERS))
    reference = tmp_path / "unbroken" / "model"
    _, _, reference_metrics = rounds.train([corpus], config, str(reference), scheduler, QUIET)
    assert [epoch["rounds"] for epoch in reference_metrics["epochs"]] == [4, 4, 4]
    output = tmp_path / "model"

    def stop(driver):
        driver.stop_signal = signal.SIGINT

    with pytest.raises(Interrupted):
        stopped_run(scheduler, corpus, output, (1, 0), stop, TIERS)
    arrays, meta = checkpoint.load_checkpoint(str(output), cluster=True)
    assert (meta["epoch"], meta["job"]) == (1, 2)
    same_run(output, (reference, reference_metrics), resume(output, scheduler))


def test_with_sync_lag_a_checkpoint_in_mid_epoch_holds_the_pending_deltas(scheduler, corpus, tmp_path):
    """sync_lag 1: round 2 of an epoch trains from the weights before the merge of round 1 plus each shard's
    own deltas of round 1, so a checkpoint after round 1 holds those, and the resumed run is the same run."""
    config = config_mod.Config().with_overrides(dict(SETTINGS, **{"train.sync_lag": 1}))
    reference = tmp_path / "unbroken" / "model"
    _, _, reference_metrics = rounds.train([corpus], config, str(reference), scheduler, QUIET)
    output = tmp_path / "model"

    def hook(driver, epoch, index):
        if (epoch, index) == (1, 0):
            driver.stop_signal = signal.SIGTERM

    with pytest.raises(Interrupted):
        rounds.train([corpus], config, str(output), scheduler, QUIET, hooks=loop.Hooks(on_round=hook))
    arrays, meta = checkpoint.load_checkpoint(str(output), cluster=True)
    assert (meta["epoch"], meta["job"]) == (1, 1)
    sizes = arrays["pending_sizes"]
    assert sizes.shape == (2, 2) and (sizes > 0).all() and 0 < len(arrays["before_out"]) <= sizes[:, 1].sum()
    same_run(output, (reference, reference_metrics), resume(output, scheduler))


def test_the_checkpoint_of_an_epoch_outlives_a_crash(scheduler, corpus, unbroken, tmp_path):
    output = tmp_path / "model"

    def crash(driver):
        raise RuntimeError("the driver's machine went down")

    with pytest.raises(RuntimeError):
        stopped_run(scheduler, corpus, output, (1, 1), crash)
    _, meta = checkpoint.load_checkpoint(str(output), cluster=True)
    assert (meta["epoch"], meta["job"]) == (1, 0)  # written at the end of epoch 1
    result = CliRunner().invoke(cli, ["train", "--resume", str(output), "-q"])
    assert (result.exit_code, result.output) == (1, f"Error: {output / 'checkpoint.npz'} was written by a run on a "
                                                    "Dask cluster; resume it with --cluster ADDRESS\n")
    same_run(output, unbroken, resume(output, scheduler))


def test_resume_refuses_another_corpus_and_a_local_checkpoint(scheduler, corpus, tmp_path, write_corpus):
    output = tmp_path / "model"
    with pytest.raises(Interrupted):
        stopped_run(scheduler, corpus, output, (0, 1), lambda driver: setattr(driver, "stop_signal", signal.SIGTERM))
    other = str(write_corpus(open(corpus).read().replace("t0w1 ", "t0w2 ")))
    result = CliRunner().invoke(cli, ["train", "--resume", str(output), other, "--cluster", scheduler, "-q"])
    assert (result.exit_code, result.output) == (
        1, f"Error: the corpus ({other}) is not the one this checkpoint was trained on\n")
    local = tmp_path / "local"
    with pytest.raises(Interrupted):
        loop.train([corpus], config_mod.Config().with_overrides(dict(SETTINGS, **{"train.threads": 1})), str(local),
                   QUIET, hooks=loop.Hooks(on_job=lambda trainer, state: setattr(trainer, "stop_signal", 2)))
    result = CliRunner().invoke(cli, ["train", "--resume", str(local), "--cluster", scheduler, "-q"])
    assert (result.exit_code, result.output) == (1, f"Error: {local / 'checkpoint.npz'} was written by a run on "
                                                    "this machine; resume it without --cluster\n")


def test_metrics_record_every_round_its_bytes_and_its_compute_and_sync_time(unbroken):
    _, metrics = unbroken
    n, dim = metrics["workers"], SETTINGS["model.vector_size"]
    assert (n, metrics["shards"], metrics["sync_words"], metrics["lost_workers"]) == (2, 2, 20000, [])
    log = metrics["round_log"]
    assert len(log) == sum(epoch["rounds"] for epoch in metrics["epochs"]) == 3 * metrics["epochs"][0]["rounds"]
    for entry in log:
        merged = (entry["rows_in"] + entry["rows_out"]) * (4 + 2 * dim)  # row ids int32, deltas float16 (on the wire)
        assert 0 < merged and (n + 1) * merged <= entry["bytes"] <= 2 * n * merged
        assert entry["compute_seconds"] > 0 and entry["sync_seconds"] >= 0
        # sync is the part of the round's wall time (since the last merge) the workers' compute did not hide
        assert entry["sync_seconds"] == pytest.approx(max(entry["seconds"] - entry["compute_seconds"], 0.0), abs=2e-4)
    for epoch in metrics["epochs"]:
        mine = [entry for entry in log if entry["epoch"] == epoch["epoch"]]
        assert epoch["bytes_per_round"] == int(sum(entry["bytes"] for entry in mine) / len(mine))
        assert epoch["compute_seconds"] == pytest.approx(sum(entry["compute_seconds"] for entry in mine), abs=1e-3)
        assert epoch["sync_seconds"] == pytest.approx(sum(entry["sync_seconds"] for entry in mine), abs=1e-3)
        assert epoch["seconds"] >= epoch["compute_seconds"]


def test_init_continues_a_model_on_new_text_on_a_cluster(scheduler, unbroken, write_corpus, tmp_path):
    from word2vec import api

    model, _ = unbroken
    rng = np.random.default_rng(5)
    new_topic = [f"t4w{i}" for i in range(6)]
    # 36k words: 2 rounds an epoch of a 10k-word job a shard (a round of 2 workers that all share 6 rows learns
    # less than a local run: 3 epochs)
    more = write_corpus("".join(" ".join(rng.choice(new_topic, 12)) + "\n" for _ in range(3000)))
    output = tmp_path / "more"
    result = CliRunner().invoke(cli, ["train", str(more), "--init", str(model), "-o", str(output), "--cluster",
                                      scheduler, "--epochs", "3"])
    assert result.exit_code == 0, result.output
    assert "vocabulary: 32 words, 6 new" in result.output
    grown = api.load_model(str(output))
    assert len(grown.wv.words) == 38 and grown.metrics["epochs"][-1]["words"] == 36000
    old = api.load_model(str(model))
    assert np.array_equal(grown["t0w1"], old["t0w1"])  # words absent from the new text keep their vectors
    assert {word for word, _ in grown.most_similar("t4w0", topn=4)} <= set(new_topic)


def test_ctrl_c_to_the_process_group_of_a_local_cluster_saves_a_checkpoint(topic_corpus, tmp_path):
    """A terminal's Ctrl-C reaches the workers of `local:N` too: they ignore it, the driver saves and exits 130."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    out = tmp_path / "m"
    command = [sys.executable, "-m", "word2vec", "train", topic_corpus[0], "-o", str(out), "--cluster", "local:2",
               "--epochs", "100", "--dim", "8", "--min-count", "1", "--set", "train.sync_words=10000"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                            start_new_session=True)
    seen, deadline = b"", time.monotonic() + 120
    while b"checkpoint saved" not in seen and time.monotonic() < deadline:  # epoch 1 is over
        seen += os.read(proc.stderr.fileno(), 4096)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    lines = (seen + stderr).decode().splitlines()
    assert proc.returncode == 130, lines
    assert lines[-1] == (f"interrupted; a checkpoint is saved in {out}. Resume with: w2v train --resume {out} "
                         "--cluster ADDRESS")
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in lines), lines
    _, meta = checkpoint.load_checkpoint(str(out), cluster=True)
    assert 1 <= meta["epoch"] < 100 and not (out / "vectors.npy").exists()


def test_checkpoints_are_written_in_the_background_and_a_failed_write_is_raised(tmp_path):
    """checkpoints.Writer: the driver goes on while a checkpoint is written; join() returns once it is on disk,
    and raises what the write raised (a folder gone, a full disk) instead of losing it in the thread."""
    from word2vec.distributed.checkpoints import Writer

    logged = []
    writer = Writer(str(tmp_path), logged.append)
    weights = np.arange(6, dtype=np.float32).reshape(2, 3)
    writer.save({"w_in": weights}, {"epoch": 1})
    writer.join()
    with np.load(tmp_path / "checkpoint.npz") as stored:
        assert np.array_equal(stored["w_in"], weights) and json.loads(stored["meta"].tobytes())["epoch"] == 1
    assert logged == [f"checkpoint saved: {tmp_path / 'checkpoint.npz'}"]
    gone = Writer(str(tmp_path / "no-such-folder"), logged.append)
    gone.save({"w_in": weights}, {"epoch": 2})
    with pytest.raises(W2VError, match="cannot write .*no-such-folder"):
        gone.join()
    gone.join()  # raised once
    with pytest.raises(W2VError):
        gone.save({"w_in": weights}, {"epoch": 3}, wait=True)
    assert len(logged) == 1
