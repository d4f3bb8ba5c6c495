"""The training loop: determinism, exact resume after an interruption, loss, every arch x loss."""

import json
import signal
from pathlib import Path

import numpy as np
import pytest

from word2vec import config as config_mod
from word2vec.store import modeldir
from word2vec.training import checkpoint, kernels
from word2vec.training.jobs import job_layout, make_jobs
from word2vec.training import loop as training
from word2vec.errors import DataError, DivergenceError, Interrupted, W2VError
from word2vec.query.vectors import load

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_corpus.txt"


def _capitals():
    """The capitals of the bundled world, from its analogy questions (country capital ...)."""
    capitals, section = set(), None
    for line in (DEMO.parent / "demo_questions.txt").read_text().splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif section == "capital-world":
            capitals.update(line.split()[1::2])
    return capitals


CAPITALS = _capitals()
QUIET = training.Reporter(progress=False, log=lambda message: None)


def _config(*assignments):
    return config_mod.resolve(None, ["train.threads=1", "model.vector_size=24", "train.epochs=2",
                                     "train.checkpoint_every=0", *assignments])


@pytest.fixture(scope="module")
def demo_slice(tmp_path_factory):
    """The first 20,000 lines of the bundled corpus: quick to train on."""
    path = tmp_path_factory.mktemp("corpus") / "demo.txt"
    lines = DEMO.read_text().splitlines()[:20000]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _train(paths, config, output, hooks=None):
    return training.train(paths, config, str(output), QUIET, hooks=hooks)


def test_seeded_single_thread_runs_are_byte_identical(demo_slice, tmp_path):
    _train([demo_slice], _config(), tmp_path / "a")
    _train([demo_slice], _config(), tmp_path / "b")
    _train([demo_slice], _config("train.seed=2"), tmp_path / "c")
    a, b, c = ((tmp_path / name / "vectors.npy").read_bytes() for name in "abc")
    assert a == b
    assert a != c


def _stop_after(n_jobs, signum=signal.SIGINT):
    seen = [0]

    def on_job(trainer, state):
        seen[0] += 1
        if seen[0] == n_jobs:
            trainer.stop_signal = signum

    return training.Hooks(on_job=on_job)


@pytest.mark.parametrize("stop_at", [1, 9, 14])
def test_interrupted_and_resumed_run_is_byte_identical(demo_slice, tmp_path, stop_at):
    # the slice has 9 jobs an epoch: stop in the first epoch, at the epoch boundary, and in the second
    config = _config("corpus.max_sentence_length=50")
    _train([demo_slice], config, tmp_path / "whole")
    with pytest.raises(Interrupted) as caught:
        _train([demo_slice], config, tmp_path / "split", hooks=_stop_after(stop_at))
    assert caught.value.exit_code == 130
    assert f"w2v train --resume {tmp_path / 'split'}" in str(caught.value)
    assert (tmp_path / "split" / modeldir.CHECKPOINT).exists()
    assert not (tmp_path / "split" / "vectors.npy").exists()
    training.resume(str(tmp_path / "split"), reporter=QUIET)
    whole = (tmp_path / "whole" / "vectors.npy").read_bytes()
    assert (tmp_path / "split" / "vectors.npy").read_bytes() == whole
    assert not (tmp_path / "split" / modeldir.CHECKPOINT).exists()
    metrics = json.loads((tmp_path / "split" / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]


def test_sigterm_exits_143_and_resume_checks_the_corpus(demo_slice, tmp_path):
    config = _config()
    with pytest.raises(Interrupted) as caught:
        _train([demo_slice], config, tmp_path / "m", hooks=_stop_after(3, signal.SIGTERM))
    assert caught.value.exit_code == 143
    other = tmp_path / "other.txt"
    other.write_text("a b c d e\n" * 100)
    with pytest.raises(DataError, match="not the one this checkpoint was trained on"):
        training.resume(str(tmp_path / "m"), [str(other)], reporter=QUIET)


def test_resume_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no checkpoint"):
        training.resume(str(tmp_path), reporter=QUIET)


def test_periodic_checkpoint_is_written(demo_slice, tmp_path, monkeypatch):
    saved = []
    real = checkpoint.save_checkpoint
    monkeypatch.setattr(checkpoint, "save_checkpoint", lambda *a: saved.append(a[2]["job"]) or real(*a))
    _train([demo_slice], _config("train.checkpoint_every=1e-9"), tmp_path / "m")
    assert len(saved) >= 9  # about one per job
    assert not (tmp_path / "m" / modeldir.CHECKPOINT).exists()  # removed once the model is saved


def test_loss_decreases_over_epochs_on_the_bundled_corpus(tmp_path):
    _, _, metrics = _train([str(DEMO)], _config("train.epochs=4", "train.threads=2"), tmp_path / "m")
    losses = [epoch["loss"] for epoch in metrics["epochs"]]
    assert len(losses) == 4
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert all(epoch["words"] == metrics["corpus_tokens"] for epoch in metrics["epochs"])
    saved = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert saved["epochs"] == metrics["epochs"]


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["neg", "hs", "softmax"])
def test_every_arch_and_loss_learns_capitals(demo_slice, tmp_path, arch, loss):
    alpha = "0.05" if arch == "cbow" else "0.025"
    epochs = 2 if loss == "softmax" else 5  # the exact softmax costs the vocabulary a pair; 2 epochs find 5 of 5
    config = _config(f"model.arch={arch}", f"model.loss={loss}", f"train.epochs={epochs}", "train.threads=2",
                     f"train.alpha={alpha}", "model.vector_size=32")
    kernel = kernels.KERNELS[(arch, loss)]
    training.preload(config)
    preloaded = list(kernel.signatures)
    _train([demo_slice], config, tmp_path / "m")
    assert kernel.signatures == preloaded  # the stand-in call was typed like the real ones
    vectors = load(str(tmp_path / "m"))
    neighbours = [word for word, _ in vectors.most_similar("paris", topn=5)]
    assert len(CAPITALS.intersection(neighbours)) >= 3, neighbours


def test_divergence_is_reported(tmp_path):
    corpus = tmp_path / "c.txt"  # 2,000 lines of the bundled corpus: a thousand noise words a pair diverge at once
    corpus.write_text("\n".join(DEMO.read_text().splitlines()[:2000]) + "\n")
    with pytest.raises(DivergenceError, match="lower train.alpha"):
        _train([corpus], _config("train.alpha=1", "model.window=1000", "model.negative=1000", "train.epochs=1"),
               tmp_path / "m")
    assert not (tmp_path / "m" / "vectors.npy").exists()


def test_second_run_into_a_locked_directory_is_refused(demo_slice, tmp_path):
    with modeldir.locked(str(tmp_path / "m")):
        with pytest.raises(W2VError, match="in use by another w2v train"):
            _train([demo_slice], _config(), tmp_path / "m")


def test_new_model_replaces_the_old_one_whole(demo_slice, tmp_path):
    _train([demo_slice], _config("output.formats=[npy, word2vec-txt]"), tmp_path / "m")
    _train([demo_slice], _config("output.formats=[npy]", "train.seed=3"), tmp_path / "m")
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["config.yaml", "metrics.json", "vectors.npy", "vocab.tsv", "w_out.npy"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".m.")]  # no staging left behind


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_to_a_real_run_saves_a_checkpoint_that_resumes(tmp_path, signum, status):
    import os
    import subprocess
    import sys
    import time

    out = tmp_path / "m"
    command = [sys.executable, "-m", "word2vec", "train", str(DEMO), "--output", str(out), "--progress",
               "--set", "train.epochs=10", "--set", "train.threads=1", "--set", "model.vector_size=16"]
    env = dict(os.environ, PYTHONPATH=str(DEMO.parents[1]))
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    seen, deadline = b"", time.monotonic() + 120
    while b"training" not in seen and time.monotonic() < deadline:  # the progress bar: training has begun
        seen += os.read(proc.stderr.fileno(), 4096)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, (seen + stderr).decode()
    assert f"w2v train --resume {out}" in (seen + stderr).decode()
    assert stdout == b""
    assert (out / modeldir.CHECKPOINT).exists() and not (out / "vectors.npy").exists()
    resumed = subprocess.run([sys.executable, "-m", "word2vec", "train", "--resume", str(out), "--quiet",
                              "--set", "train.epochs=1"], capture_output=True, env=env)
    assert resumed.returncode == 2  # --resume takes its config from the checkpoint
    resumed = subprocess.run([sys.executable, "-m", "word2vec", "train", "--resume", str(out), "--quiet"],
                             capture_output=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert json.loads((out / "metrics.json").read_text())["epochs"][-1]["epoch"] == 10
    assert not (out / modeldir.CHECKPOINT).exists()


@pytest.mark.parametrize("schedule, expected", [
    # (epoch, words before) -> alpha, with alpha 0.025, min_alpha 0.0001, 5 epochs of 1000 words
    ("linear", {(0, 0): 0.025, (0, 500): 0.02251, (2, 0): 0.01504, (4, 1000): 0.0001}),
    ("sawtooth", {(0, 0): 0.025, (0, 500): 0.023755, (0, 1000): 0.02251, (1, 0): 0.02002,
                  (4, 1000): 0.00259}),
    # halves: words counted within a half (at most 500), so each half falls as the sawtooth's epoch
    ("halves", {(0, 0): 0.025, (0, 250): 0.023755, (0, 500): 0.02251, (1, 0): 0.02002, (4, 500): 0.00259}),
])
def test_learning_rate_schedules(schedule, expected):
    trainer = training.Trainer.__new__(training.Trainer)
    trainer.config, trainer.total_words = _config("train.epochs=5", f"train.alpha_schedule={schedule}"), 1000
    for (epoch, words), alpha in expected.items():
        assert trainer.alpha_at(epoch, words) == pytest.approx(alpha, abs=1e-9)


def test_halves_alternate_the_jobs_of_the_two_halves_and_restart_their_count():
    jobs = make_jobs(np.arange(1, 8) * 100, job_words=100)  # 7 jobs of 100 words
    order, starts = job_layout(jobs, 700, "halves")
    assert order.tolist() == [0, 4, 1, 5, 2, 6, 3]
    assert starts.tolist() == [0, 100, 200, 300, 0, 100, 200]
    for schedule in ("sawtooth", "linear"):
        order, starts = job_layout(jobs, 700, schedule)
        assert order.tolist() == list(range(7)) and starts.tolist() == jobs[:, 2].tolist()
    one = make_jobs(np.array([50]))
    assert job_layout(one, 50, "halves")[0].tolist() == [0]


def test_every_job_runs_once_an_epoch_on_the_halves_schedule():
    ran = []
    trainer = training.Trainer.__new__(training.Trainer)
    trainer.jobs = make_jobs(np.arange(1, 10) * 100, job_words=100)
    trainer.order, trainer.starts = job_layout(trainer.jobs, 900, "halves")
    trainer.run_job = lambda state, job, thread: ran.append(job)
    trainer._halt_due = lambda last: False
    trainer._update_bar = lambda state, bar: None
    state = training.State(None, None, None, None)
    assert trainer._run_serial(state, None, None, 0.0)
    assert ran == [0, 5, 1, 6, 2, 7, 3, 8, 4]


def test_input_vectors_start_in_gensims_range():
    w_in, w_out = training.init_weights(500, _config("model.vector_size=40"))
    assert w_in.dtype == np.float32 and -1 / 40 <= w_in.min() < -0.9 / 40 and 0.9 / 40 < w_in.max() < 1 / 40
    assert not w_out.any()


@pytest.mark.parametrize("arch,loss", [("skipgram", "neg"), ("cbow", "hs")])
def test_padded_rows_train_as_the_unpadded_ones(demo_slice, arch, loss):
    """Training hands the kernels rows padded to 8 floats; the zero columns stay zero and the
    trained weights are those of unpadded arrays (up to the order of float sums)."""
    from word2vec.text import corpus
    from word2vec.training import padding

    config = _config(f"model.arch={arch}", f"model.loss={loss}", "model.vector_size=10")
    workdir = corpus.make_workdir()
    data = training.read_corpus([demo_slice], config, workdir.name)
    trainer = training.Trainer(data, config, QUIET, threads=1)
    padded = trainer.new_state()
    plain = training.State(padded.w_in.copy(), padded.w_out.copy(), padded.rngs.copy(), padded.tallies.copy())
    start = padded.w_in.copy()
    storage = padding.storage(padded.w_in)
    assert storage.shape[1] == 16 and storage.flags.c_contiguous and padding.storage(plain.w_in) is plain.w_in
    for job in range(len(trainer.jobs)):
        trainer.run_job(padded, job, 0)
        trainer.run_job(plain, job, 0)
    assert not storage[:, 10:].any() and not padding.storage(padded.w_out)[:, 10:].any()
    np.testing.assert_allclose(padded.w_in, plain.w_in, rtol=0, atol=1e-5)
    np.testing.assert_allclose(padded.w_out, plain.w_out, rtol=0, atol=1e-5)
    assert np.abs(padded.w_in - start).max() > 1e-3  # it trained
    workdir.cleanup()


def test_padding_storage_only_for_its_own_whole_views():
    from word2vec.training import padding

    view = padding.zeros(5, 12)
    assert padding.storage(view).shape == (5, 16)
    assert padding.storage(view[:3]) is not padding.storage(view) and padding.storage(view[:3]).shape == (3, 12)
    foreign = np.zeros((5, 16), np.float32)[:, :12]
    assert padding.storage(foreign) is foreign
    assert padding.width(100) == 104 and padding.width(96) == 96
