"""Atomic files: a write that fails partway, a save that fails midway and SIGKILL at random
moments all leave the previous file or model exactly as it was (or the whole new one)."""

import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from word2vec import config as config_mod
from word2vec import fileio
from word2vec import store
from word2vec.store import modeldir
from word2vec.training import checkpoint
from word2vec.training import loop as training
from word2vec.cli import cli
from word2vec.errors import Interrupted, W2VError

ROOT = Path(__file__).resolve().parents[1]
QUIET = training.Reporter(progress=False, log=lambda message: None)


class _FullDisk:
    """A file object that raises ENOSPC once more than `room` bytes (or characters) were written."""

    def __init__(self, handle, room):
        self._handle, self._room = handle, room

    def write(self, data):
        if len(data) > self._room:
            self._handle.write(data[: self._room])  # what fits is written, as on a real disk
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def __enter__(self):
        self._handle.__enter__()
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._handle, name)


@pytest.fixture
def disk_full_after(monkeypatch):
    """`disk_full_after(n)`: from now on, every file atomic_write opens takes only n bytes."""
    real = os.fdopen

    def limit(room):
        monkeypatch.setattr(fileio.os, "fdopen", lambda *a, **k: _FullDisk(real(*a, **k), room))

    return limit


def _leftovers(folder):
    return [p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp")]


WORDS, VECTORS = ["a", "bé", "c"], np.arange(300, dtype=np.float32).reshape(3, 100)
WRITERS = {
    "vectors.bin": lambda p: store.write_word2vec(p, WORDS, VECTORS, binary=True),
    "vectors.txt": lambda p: store.write_word2vec(p, WORDS, VECTORS, binary=False),
    "vectors.npy": lambda p: store.save_npy(p, VECTORS),
    "vocab.tsv": lambda p: store.write_vocab(p, WORDS * 50, list(range(150, 0, -1))),
    "metrics.json": lambda p: modeldir.write_json(p, {"loss": list(range(100))}),
    "config.yaml": lambda p: modeldir.write_config(p, config_mod.Config()),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
@pytest.mark.parametrize("room", [0, 1, 100])
def test_a_write_that_fails_partway_keeps_the_previous_file(tmp_path, disk_full_after, name, room):
    path = tmp_path / name
    path.write_bytes(b"the previous file\n")
    disk_full_after(room)
    with pytest.raises(W2VError) as caught:
        WRITERS[name](path)
    assert str(caught.value) == f"cannot write {path}: no space left on device"
    assert path.read_bytes() == b"the previous file\n"
    assert _leftovers(tmp_path) == []


def test_any_other_failure_inside_the_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with fileio.atomic_write(path, "w") as handle:
            handle.write("new, half written")
            raise KeyboardInterrupt
    assert path.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.name != modeldir.LOCK}


def test_a_model_save_that_fails_midway_keeps_the_old_model(tmp_path):
    folder = tmp_path / "model"
    modeldir.save_model(folder, {"vectors.npy": WRITERS["vectors.npy"], "vocab.tsv": WRITERS["vocab.tsv"]})
    old = _snapshot(folder)

    def full_disk(path):
        with open(path, "wb") as handle:
            handle.write(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    with pytest.raises(W2VError) as caught:
        modeldir.save_model(folder, {"vectors.npy": WRITERS["vectors.npy"], "vectors.bin": full_disk,
                                     "vocab.tsv": WRITERS["vocab.tsv"]})
    assert str(caught.value) == f"cannot write {folder / 'vectors.bin'}: no space left on device"
    assert _snapshot(folder) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging folder left


def _tiny_corpus(path, n_words=40, lines=150, seed=0):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(n_words)]
    path.write_text("".join(" ".join(rng.choices(words, k=10)) + "\n" for _ in range(lines)))
    return path


@pytest.mark.parametrize("room,failing", [(None, "vectors.npy"), ("vectors.npy", "vectors.bin"),
                                          ("vectors.bin", "vectors.txt")])
def test_train_on_a_full_disk_names_the_file_and_keeps_the_old_model(tmp_path, disk_full_after, room, failing):
    # the files are written in the order npy, vocab, config, metrics, bin, txt; each is larger than the
    # ones before it except the small vocab, config and metrics: room for one file fails the next
    corpus = _tiny_corpus(tmp_path / "corpus.txt")
    args = ["train", str(corpus), "-o", str(tmp_path / "model"), "-q", "--set", "train.threads=1",
            "--set", "model.vector_size=50", "--set", "train.epochs=1",
            "--set", "output.formats=[npy, word2vec-bin, word2vec-txt]"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    old = _snapshot(tmp_path / "model")
    disk_full_after(len(old[room]) if room else 0)
    result = CliRunner().invoke(cli, args + ["--set", "train.seed=2"])
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: cannot write {tmp_path / 'model' / failing}: no space left on device\n"
    assert _snapshot(tmp_path / "model") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "model"]


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_save_removes_staging_folders_of_crashed_runs_only(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    stale = [f".model.{dead}.abc_123.tmp", f".model.{dead}.x9.tmp.old"]
    kept = [f".model.{live}.def456.tmp", ".model.12.tmp", f".other.{dead}.abc.tmp", f".model.v2.{dead}.abc.tmp"]
    for name in stale + kept:
        (tmp_path / name).mkdir()
        (tmp_path / name / "vectors.npy").write_bytes(b"partial")
    modeldir.save_model(tmp_path / "model", {"vocab.tsv": WRITERS["vocab.tsv"]})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept + ["model"])


def test_save_puts_back_the_old_model_a_crash_left_aside(tmp_path):
    # without an atomic exchange the old model is renamed aside before the new one is renamed in;
    # a crash between the two leaves only `.model.PID.*.tmp.old`
    aside = tmp_path / f".model.{_dead_pid()}.abc.tmp.old"
    aside.mkdir()
    (aside / "vocab.tsv").write_text("old\t1\n")

    def full_disk(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    with pytest.raises(W2VError, match="no space left on device"):
        modeldir.save_model(tmp_path / "model", {"vocab.tsv": full_disk})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert (tmp_path / "model" / "vocab.tsv").read_text() == "old\t1\n"


def test_a_stop_in_the_last_job_of_an_epoch_is_honoured_at_its_end(tmp_path):
    corpus = str(_tiny_corpus(tmp_path / "corpus.txt"))  # one job an epoch
    config = config_mod.resolve(None, ["train.threads=1", "model.vector_size=8", "train.epochs=3",
                                       "train.checkpoint_every=0"])

    def stop(trainer, state):
        trainer.stop_signal = signal.SIGTERM

    training.train([corpus], config, str(tmp_path / "whole"), QUIET)
    with pytest.raises(Interrupted) as caught:
        training.train([corpus], config, str(tmp_path / "split"), QUIET, hooks=training.Hooks(on_job=stop))
    assert caught.value.exit_code == 143
    _, meta = checkpoint.load_checkpoint(str(tmp_path / "split"))
    assert (meta["epoch"], meta["job"]) == (1, 0)
    training.resume(str(tmp_path / "split"), reporter=QUIET)
    assert (tmp_path / "split" / "vectors.npy").read_bytes() == (tmp_path / "whole" / "vectors.npy").read_bytes()


# ----------------------------------------------------------------------- SIGKILL at random moments


def _train_process(corpus, output, seed, formats_):
    args = [sys.executable, "-m", "word2vec", "train", str(corpus), "-o", str(output), "-q",
            "--set", "train.threads=1", "--set", f"train.seed={seed}", "--set", "model.vector_size=60",
            "--set", "train.epochs=1", "--set", "train.checkpoint_every=0", "--set", f"output.formats=[{formats_}]"]
    return subprocess.Popen(args, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stage_of(proc, parent, name):
    prefix = f".{name}.{proc.pid}."
    return any(entry.startswith(prefix) for entry in os.listdir(parent))


def _wait_for_stage(proc, parent, name, holding="", timeout=30):
    """Seconds until `proc`'s staging folder holds a file whose name starts with `holding` (None if
    `proc` ended first); with the default "" until the folder appears."""
    start = time.monotonic()
    while time.monotonic() - start < timeout and proc.poll() is None:
        for entry in os.listdir(parent):
            if entry.startswith(f".{name}.{proc.pid}."):
                try:
                    if not holding or any(e.startswith(holding) for e in os.listdir(parent / entry)):
                        return time.monotonic() - start
                except FileNotFoundError:  # swapped in and removed meanwhile
                    pass
        time.sleep(0.001)
    assert proc.poll() is not None, "the save did not come"
    return None


# the moments of a save to kill at: while a file is written (its temporary name) or once it is complete;
# the last one ("w_out.npy" complete) comes just before the swap and the removal of the old model
SAVE_POINTS = [".vectors.npy.", "vectors.npy", "vocab.tsv", ".vectors.bin.", "vectors.bin", ".vectors.txt.",
               "vectors.txt", ".w_out.npy.", "w_out.npy"]


def _restore(folder, files):
    for path in Path(folder).iterdir():
        path.unlink()
    for name, data in files.items():
        (Path(folder) / name).write_bytes(data)


def _which(folder, old, new):
    """'old' or 'new' when `folder` holds exactly one of the two models; fails on anything else."""
    files = _snapshot(folder)
    if files == old:
        return "old"
    assert sorted(files) == sorted(new), f"neither the old nor the new model: {sorted(files)}"
    for name in files:
        if name != "metrics.json":
            assert files[name] == new[name], f"{name} is not the new model's"
    metrics, expected = json.loads(files["metrics.json"]), json.loads(new["metrics.json"])
    assert [e["loss"] for e in metrics["epochs"]] == [e["loss"] for e in expected["epochs"]]
    assert metrics["vocab_size"] == expected["vocab_size"]
    return "new"


def test_sigkill_at_random_moments_leaves_the_old_model_or_the_new_one(tmp_path):
    rng = random.Random(6)
    words = [f"w{i}" for i in range(12000)] * 5
    rng.shuffle(words)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(" ".join(words[i : i + 12]) + "\n" for i in range(0, len(words), 12)))
    parent = tmp_path / "out"
    parent.mkdir()
    model, new_formats = parent / "model", "npy, word2vec-bin, word2vec-txt"

    proc = _train_process(corpus, model, 1, "npy, word2vec-bin")  # also fills numba's kernel cache
    assert proc.wait() == 0, proc.stderr.read()
    old = _snapshot(model)

    proc = _train_process(corpus, parent / "ref", 2, new_formats)  # the new model, and how long until its save
    until_save = _wait_for_stage(proc, parent, "ref")
    assert proc.wait() == 0, proc.stderr.read()
    new = _snapshot(parent / "ref")
    words, vectors = store.read_word2vec(parent / "ref" / "vectors.bin")
    assert np.array_equal(vectors, np.load(parent / "ref" / "vectors.npy"))
    assert words == [line.split("\t")[0] for line in (parent / "ref" / "vocab.tsv").read_text().splitlines()]

    seen, killed_while_saving = [], 0
    points = iter(SAVE_POINTS * 2)
    for run in range(12):
        _restore(model, old)  # every run replaces the old model, so every kill can tell old from new
        proc = _train_process(corpus, model, 2, new_formats)
        if run % 3:  # during the save
            _wait_for_stage(proc, parent, "model", holding=next(points))
            time.sleep(rng.uniform(0, 0.03))
        else:  # any time before the save: starting up, reading, training
            time.sleep(rng.uniform(0, until_save))
        killed_while_saving += proc.poll() is None and _stage_of(proc, parent, "model")
        proc.kill()
        proc.wait()
        proc.stderr.close()
        seen.append(_which(model, old, new))
        stray = [e for e in os.listdir(parent) if e not in ("model", "ref")]
        assert all(re.fullmatch(r"\.model\.\d+\.\w+\.tmp(\.old)?", e) for e in stray), stray
    assert killed_while_saving >= 4, f"outcomes {seen}, {killed_while_saving} killed while saving"

    assert stray, "the last run was killed while writing: its staging folder is left"
    proc = _train_process(corpus, model, 2, new_formats)  # a run that finishes clears what the killed ones left
    assert proc.wait() == 0, proc.stderr.read()
    assert _which(model, old, new) == "new"
    assert sorted(os.listdir(parent)) == ["model", "ref"]
