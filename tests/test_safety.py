"""w2v never touches what is not its own: model directories, single-file outputs, the lock,
and finished training that is saved whatever happens after it (issue 10, sections 1 and 2)."""

import bz2
import contextlib
import gzip
import json
import lzma
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from word2vec import api, config as config_mod, fileio
from word2vec import store
from word2vec.store import modeldir
from word2vec.query import plot
from word2vec.training import loop as training
from word2vec.cli import cli

ROOT = Path(__file__).resolve().parents[1]
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mknod, mount)")
FAST = ["-q", "--set", "train.threads=1", "--set", "model.vector_size=8", "--set", "train.epochs=1"]
WORDS = ["the", "cat", "sat", "on", "mat"]
MODEL = ["config.yaml", "metrics.json", "vectors.bin", "vectors.npy", "vocab.tsv", "w_out.npy"]  # with the default formats
VECTORS = np.arange(40, dtype=np.float32).reshape(5, 8) / 7


def run(args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def snapshot(folder):
    """Every file under `folder` (links not followed) with its bytes, or its link target."""
    found = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_symlink():
            found[str(path)] = ("link", os.readlink(path))
        elif path.is_file():
            found[str(path)] = path.read_bytes()
    return found


def corpus(path, lines=60, seed=0):
    rng = random.Random(seed)
    path.write_text("".join(" ".join(rng.choices(WORDS, k=8)) + "\n" for _ in range(lines)))
    return path


@pytest.fixture
def txt_model(tmp_path):
    path = tmp_path / "model.txt"
    store.write_word2vec(path, WORDS, VECTORS, binary=False)
    return path


# --- 1. model directories ----------------------------------------------------------------

def test_train_refuses_a_folder_holding_the_corpus_and_notes(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    corpus(folder / "corpus.txt")
    (folder / "notes.txt").write_text("keep")
    before = snapshot(tmp_path)
    result = run(["train", folder / "corpus.txt", "-o", folder, *FAST])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: output directory {folder} holds the input {folder / 'corpus.txt'}, and a save "
                             "replaces the whole folder; choose another --output\n")
    assert snapshot(tmp_path) == before


def test_train_refuses_a_folder_of_the_users_files_before_reading_the_corpus(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "notes.txt").write_text("keep")
    before = snapshot(tmp_path)
    result = run(["train", tmp_path / "no-such-corpus.txt", "-o", tmp_path / "p", *FAST])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'p'} holds 'notes.txt', so it is not a w2v model directory, "
                             "and a save replaces the whole folder; choose another --output\n")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("output", [".", "..", "work/.."])
def test_train_refuses_the_working_directory_and_its_parents(tmp_path, monkeypatch, output):
    (tmp_path / "work").mkdir()
    corpus(tmp_path / "corpus.txt")
    monkeypatch.chdir(tmp_path / "work")
    before = snapshot(tmp_path)
    result = run(["train", tmp_path / "corpus.txt", "-o", output, *FAST])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: output directory {output} is the working directory or holds it, and a save "
                             "replaces the whole folder; choose another --output, such as a new folder\n")
    assert snapshot(tmp_path) == before and os.getcwd() == str(tmp_path / "work")


@pytest.mark.parametrize("option", ["--vocab", "--config", "eval.analogy", "eval.similarity"])
def test_train_refuses_a_model_folder_holding_another_input(tmp_path, option):
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.yaml").write_text("train:\n  epochs: 1\n")  # a w2v model folder…
    name = {"--vocab": "vocab.tsv", "--config": "config.yaml"}.get(option, "questions.txt")
    inputs = {"--vocab": "the\t9\ncat\t3\n", "--config": "train:\n  epochs: 1\n",
              "eval.analogy": ": s\nthe cat sat on\n", "eval.similarity": "the\tcat\t1\nsat\ton\t2\n"}
    (model / name).write_text(inputs[option])  # …that also holds this run's input
    args = [option, model / name] if option.startswith("--") else \
        ["--set", f"{option}={model / name}" if option == "eval.analogy" else f"{option}=[{model / name}]"]
    corpus(tmp_path / "corpus.txt")
    before = snapshot(tmp_path)
    result = run(["train", tmp_path / "corpus.txt", "-o", model, *FAST, *args])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: output directory {model} holds the input {model / name}, and a save "
                             "replaces the whole folder; choose another --output\n")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("files", [{"config.yaml": "not: [a w2v config"}, {"vectors.txt": "my own vectors\n"},
                                   {"config.yaml": "train:\n  epochs: 1\n", "data": None}])
def test_train_refuses_a_folder_w2v_did_not_make(tmp_path, files):
    folder = tmp_path / "m"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).mkdir() if text is None else (folder / name).write_text(text)
    corpus(tmp_path / "corpus.txt")
    before = snapshot(tmp_path)
    result = run(["train", tmp_path / "corpus.txt", "-o", folder, *FAST])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {folder} holds ") and result.stderr.count("\n") == 1
    assert "choose another --output" in result.stderr
    assert snapshot(tmp_path) == before


def test_train_replaces_its_own_model(tmp_path):
    corpus(tmp_path / "corpus.txt")
    assert run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "m", *FAST]).exit_code == 0
    result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "m", *FAST, "--set", "train.seed=3"])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path / "m")) == MODEL
    assert "seed: 3" in (tmp_path / "m" / "config.yaml").read_text()


def test_a_symlinked_output_directory_is_followed_and_stays_a_link(tmp_path):
    corpus(tmp_path / "corpus.txt")
    (tmp_path / "store").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "store" / "model")
    for seed in (1, 2):  # a new model through the link, then a model replaced through it
        result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "link", *FAST, "--set", f"train.seed={seed}"])
        assert result.exit_code == 0, result.output
    assert os.readlink(tmp_path / "link") == str(tmp_path / "store" / "model")
    assert "seed: 2" in (tmp_path / "store" / "model" / "config.yaml").read_text()
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "link", "store"]
    assert os.listdir(tmp_path / "store") == ["model"]  # no hidden stage or .current.* left behind


def test_export_npy_refuses_a_folder_holding_the_model_file(tmp_path, txt_model):
    before = snapshot(tmp_path)
    result = run(["export", "-m", txt_model, "--format", "npy", "-o", tmp_path])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: output directory {tmp_path} ")
    assert snapshot(tmp_path) == before


# --- 1. single-file outputs --------------------------------------------------------------

def test_export_through_a_symlink_writes_its_target(tmp_path, txt_model):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "vectors.vec").write_text("old")
    (tmp_path / "out.vec").symlink_to(tmp_path / "data" / "vectors.vec")
    assert run(["export", "-m", txt_model, "--format", "word2vec-txt", "-o", tmp_path / "out.vec", "-q"]).exit_code == 0
    assert (tmp_path / "out.vec").is_symlink()
    assert (tmp_path / "data" / "vectors.vec").read_bytes() == txt_model.read_bytes()
    assert sorted(os.listdir(tmp_path / "data")) == ["vectors.vec"]


def test_export_into_a_fifo_streams_to_its_reader(tmp_path, txt_model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run(["export", "-m", txt_model, "--format", "word2vec-txt", "-o", fifo, "-q"])
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert received == [txt_model.read_bytes()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@AS_ROOT
def test_export_into_a_null_device_leaves_the_device(tmp_path, txt_model):
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own: the real one is shared
    assert run(["export", "-m", txt_model, "--format", "word2vec-bin", "-o", null, "-q"]).exit_code == 0
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["model.txt", "null"]


@AS_ROOT
def test_export_into_a_full_device_says_no_space(tmp_path, txt_model):
    full = tmp_path / "full"
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # as /dev/full
    result = run(["export", "-m", txt_model, "--format", "word2vec-txt", "-o", full])
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write {full}: no space left on device\n"
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_export_to_an_open_descriptor_streams(tmp_path, txt_model):
    # /dev/fd/1 rather than /dev/stdout: a broken w2v that renames over its -o would replace the machine's
    # /dev/stdout link with a file (it did, running this suite against the old code); /dev/fd is inside /proc
    args = [sys.executable, "-m", "word2vec", "export", "-m", str(txt_model), "--format", "word2vec-txt",
            "-o", "/dev/fd/1", "-q"]
    done = subprocess.run(args, capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == txt_model.read_bytes()
    assert all(fileio._is_stream(path) for path in ("/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/fd/1"))


@pytest.mark.parametrize("fmt", ["word2vec-txt", "word2vec-bin"])
def test_export_dash_writes_stdout(tmp_path, txt_model, fmt):
    result = run(["export", "-m", txt_model, "--format", fmt, "-o", "-", "-q"])
    assert result.exit_code == 0
    store.write_word2vec(tmp_path / "want", WORDS, VECTORS, binary=fmt == "word2vec-bin")
    assert result.stdout_bytes == (tmp_path / "want").read_bytes()


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_export_compresses_by_suffix(tmp_path, txt_model, suffix, opener):
    out = tmp_path / f"out.vec{suffix}"
    assert run(["export", "-m", txt_model, "--format", "word2vec-txt", "-o", out, "-q"]).exit_code == 0
    with opener(out) as handle:
        assert handle.read() == txt_model.read_bytes()
    assert run(["similar", "cat", "--model", out, "-k", "1"]).exit_code == 0  # and it reads back


def test_plot_save_follows_links_and_streams_into_fifos(tmp_path):
    class Figure:  # matplotlib is optional: the output path handling is what is tested here
        def savefig(self, handle, **options):
            handle.write(b"image")

    (tmp_path / "real.png").write_bytes(b"old")
    (tmp_path / "link.png").symlink_to("real.png")
    plot.save(Figure(), tmp_path / "link.png")
    assert (tmp_path / "link.png").is_symlink() and (tmp_path / "real.png").read_bytes() == b"image"
    os.mkfifo(tmp_path / "pipe")
    received = []
    reader = threading.Thread(target=lambda: received.append((tmp_path / "pipe").read_bytes()), daemon=True)
    reader.start()
    plot.save(Figure(), tmp_path / "pipe")
    reader.join(10)
    assert received == [b"image"] and stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)


def test_save_phrases_through_a_symlink(tmp_path):
    corpus(tmp_path / "corpus.txt", lines=200)
    (tmp_path / "kept.tsv").write_text("old")
    (tmp_path / "phrases.tsv").symlink_to("kept.tsv")
    result = run(["phrases", tmp_path / "corpus.txt", "--save-phrases", tmp_path / "phrases.tsv", "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "phrases.tsv").is_symlink() and (tmp_path / "kept.tsv").read_text() != "old"


def test_vocab_output_through_a_symlink_and_compressed(tmp_path):
    corpus(tmp_path / "corpus.txt")
    expected = run(["vocab", tmp_path / "corpus.txt", "-q"]).stdout
    (tmp_path / "kept.tsv").write_text("old")
    (tmp_path / "vocab.tsv").symlink_to("kept.tsv")
    assert run(["vocab", tmp_path / "corpus.txt", "-o", tmp_path / "vocab.tsv", "-q"]).exit_code == 0
    assert (tmp_path / "vocab.tsv").is_symlink() and (tmp_path / "kept.tsv").read_text() == expected
    assert run(["vocab", tmp_path / "corpus.txt", "-o", tmp_path / "v.tsv.gz", "-q"]).exit_code == 0
    assert gzip.decompress((tmp_path / "v.tsv.gz").read_bytes()).decode() == expected


def test_vocab_output_refuses_a_folder(tmp_path):
    corpus(tmp_path / "corpus.txt")
    (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    result = run(["vocab", tmp_path / "corpus.txt", "-o", tmp_path / "out", "-q"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert snapshot(tmp_path) == before


# --- 1. the lock -------------------------------------------------------------------------

def test_a_symlink_planted_as_the_lock_never_truncates_its_target(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    corpus(tmp_path / "corpus.txt")
    assert run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "out", *FAST]).exit_code == 0
    (tmp_path / "out" / modeldir.LOCK).symlink_to(victim)
    before = snapshot(tmp_path)
    result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "out", *FAST])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'out'} holds '.w2v.lock', so it is not a w2v model")
    assert snapshot(tmp_path) == before
    with pytest.raises(Exception, match="it is a symbolic link"):  # and the lock itself never follows one
        with modeldir.locked(str(tmp_path / "out")):
            pass
    assert victim.read_text() == "precious"


def test_a_lock_left_by_a_dead_run_is_taken_over_with_a_line(tmp_path):
    corpus(tmp_path / "corpus.txt")
    assert run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "out", *FAST]).exit_code == 0
    (tmp_path / "out" / modeldir.LOCK).write_text("pid 999999999")
    args = ["train", tmp_path / "corpus.txt", "-o", tmp_path / "out", *FAST[1:]]
    result = run(args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("taking over")]
    assert lines == [f"taking over the lock of an earlier run that is gone (pid 999999999) in {tmp_path / 'out'}"]
    assert not (tmp_path / "out" / modeldir.LOCK).exists()


# --- 2. finished work is never thrown away -----------------------------------------------

@pytest.mark.parametrize("key,text,message", [
    ("eval.analogy", None, "{path}: no such file"),
    ("eval.analogy", "the cat sat on\n", "{path}: line 1: a question before the first ': section' line"),
    ("eval.similarity", "the\tcat\n", "{path}: line 1: expected 'word1 word2 score', found 2 fields"),
])
def test_a_bad_evaluation_file_fails_before_training(tmp_path, key, text, message):
    path = tmp_path / "eval.txt"
    if text is not None:
        path.write_text(text)
    corpus(tmp_path / "corpus.txt")
    value = str(path) if key == "eval.analogy" else f"[{path}]"
    result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "m", *FAST[1:], "--set", f"{key}={value}"])
    assert result.exit_code == 1
    assert result.stderr == "Error: " + message.format(path=path) + "\n"  # alone: no corpus was read
    assert not (tmp_path / "m").exists()


def test_a_failing_evaluation_after_training_keeps_the_model(tmp_path, monkeypatch):
    corpus(tmp_path / "corpus.txt")
    (tmp_path / "q.txt").write_text(": s\nthe cat sat on\n")

    def fail(*args):
        (tmp_path / "q.txt").unlink()  # the file went away while training ran
        return evaluate_after_training(*args)

    evaluate_after_training = api.evaluate_after_training
    monkeypatch.setattr(api, "evaluate_after_training", fail)
    result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "m", *FAST, "--set",
                  f"eval.analogy={tmp_path / 'q.txt'}"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: evaluation failed: {tmp_path / 'q.txt'}: no such file; the model is saved "
                             f"in {tmp_path / 'm'}, without the scores\n")
    assert sorted(os.listdir(tmp_path / "m")) == MODEL


def test_sigterm_during_evaluation_keeps_the_model(tmp_path, monkeypatch):
    corpus(tmp_path / "corpus.txt")
    (tmp_path / "q.txt").write_text(": s\nthe cat sat on\n")
    monkeypatch.setattr(api, "evaluate_after_training", lambda *a: os.kill(os.getpid(), signal.SIGTERM))
    result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "m", *FAST, "--set",
                  f"eval.analogy={tmp_path / 'q.txt'}"])
    assert result.exit_code == 143
    assert result.stderr == (f"Error: interrupted by SIGTERM while evaluating; the model is saved in "
                             f"{tmp_path / 'm'}, without the scores\n")
    assert (tmp_path / "m" / "vectors.npy").exists() and not (tmp_path / "m" / modeldir.LOCK).exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_reading_the_corpus_removes_what_the_run_made(tmp_path, signum):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "new" / "model"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    proc = subprocess.Popen([sys.executable, "-m", "word2vec", "train", "-", "-o", str(out)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(b"the cat sat on the mat\n" * 100)  # and the pipe stays open: still reading
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while not (out / modeldir.LOCK).exists() or not os.listdir(tmp):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signum
    assert stderr.decode() == f"Error: interrupted by {signum.name} while reading the corpus; nothing was saved\n"
    assert os.listdir(tmp_path) == ["tmp"]  # the lock, the new folders and the id files are gone
    assert os.listdir(tmp) == []


def test_resume_works_from_another_working_directory(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    corpus(tmp_path / "a" / "corpus.txt", lines=400)
    monkeypatch.chdir(tmp_path / "a")
    config = config_mod.from_dict({"train": {"threads": 1, "epochs": 2}, "model": {"vector_size": 8}})
    stop = training.Hooks(on_job=lambda trainer, state: setattr(trainer, "stop_signal", signal.SIGINT))
    quiet = training.Reporter(log=lambda message: None)
    with pytest.raises(training.Interrupted):
        training.train(["corpus.txt"], config, "model", quiet, hooks=stop)
    monkeypatch.chdir(tmp_path / "b")
    result = run(["train", "--resume", tmp_path / "a" / "model", "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "model" / "vectors.npy").exists()


# --- 3. a full disk -------------------------------------------------------------------------

@contextlib.contextmanager
def tiny_disk(path, size="64k"):
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@AS_ROOT
def test_export_on_a_full_disk_says_so_and_keeps_the_old_file(tmp_path):
    big = tmp_path / "big.txt"
    store.write_word2vec(big, [f"w{i}" for i in range(2000)], np.ones((2000, 50), np.float32), binary=False)
    with tiny_disk(tmp_path / "disk") as disk:
        (disk / "vectors.bin").write_bytes(b"the previous file")
        result = run(["export", "-m", big, "--format", "word2vec-bin", "-o", disk / "vectors.bin"])
        assert result.exit_code == 1
        assert result.stderr == f"Error: cannot write {disk / 'vectors.bin'}: no space left on device\n"
        assert os.listdir(disk) == ["vectors.bin"] and (disk / "vectors.bin").read_bytes() == b"the previous file"


@AS_ROOT
def test_train_with_a_full_temporary_folder_names_it(tmp_path, monkeypatch):
    corpus(tmp_path / "corpus.txt", lines=3000)
    with tiny_disk(tmp_path / "disk") as disk:
        monkeypatch.setattr(tempfile, "tempdir", str(disk))  # as TMPDIR=disk
        result = run(["train", tmp_path / "corpus.txt", "-o", tmp_path / "m", *FAST])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: no space left on device in the temporary folder {disk}/w2v-")
        assert result.stderr.endswith(" while encoding the corpus; set TMPDIR to a folder with more room\n")
        assert os.listdir(disk) == []
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "disk"]


def test_numpys_short_write_is_called_a_full_disk(tmp_path):
    def short_write(path):  # what np.save raises on a full disk: no errno, just byte counts
        raise OSError("2254100 requested and 785376 written")

    with pytest.raises(Exception) as caught:
        modeldir.save_model(tmp_path / "m", {"vectors.npy": short_write})
    assert str(caught.value) == f"cannot write {tmp_path / 'm' / 'vectors.npy'}: no space left on device"
    assert os.listdir(tmp_path) == []


# --- cases that only bite a user who is not root: run w2v as `nobody` ------------------------

NOBODY = 65534


def _as_nobody(args, folder):
    """Run `w2v ARGS` in `folder` as the unprivileged user nobody, in a forked child of this process.

    The tests run as root, for whom chmod stops nothing. A fork needs no access to the Python
    executable (root's own install may be out of nobody's reach): the child drops its privileges,
    invokes the CLI in-process and sends back (exit status, stderr) through a pipe.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 99
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.chdir(folder)
            result = CliRunner().invoke(cli, [str(a) for a in args])
            payload = json.dumps([result.exit_code, result.stderr]).encode()
            os.write(write_end, payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0 and payload, "the unprivileged child failed"
    return json.loads(payload)


@pytest.fixture
def open_folder():
    """A folder outside pytest's root-only tmp tree that `nobody` can enter and write in."""
    if os.geteuid() != 0:
        pytest.skip("not root: tests/test_bad_input.py already runs these cases as an ordinary user")
    folder = Path(tempfile.mkdtemp(prefix="w2v-nobody-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_an_unreadable_corpus_as_an_ordinary_user(open_folder):
    secret = corpus(open_folder / "secret.txt")
    secret.chmod(0o600)  # root's file: nobody cannot read it
    status, stderr = _as_nobody(["train", secret, "-o", "m", "-q"], open_folder)
    assert (status, stderr) == (1, f"Error: {secret}: permission denied\n")
    assert not (open_folder / "m").exists()


def test_a_read_only_output_folder_as_an_ordinary_user(open_folder):
    corpus(open_folder / "corpus.txt")
    locked = open_folder / "locked"
    locked.mkdir(mode=0o755)  # root's folder: nobody cannot write in it
    status, stderr = _as_nobody(["train", "corpus.txt", "-o", locked / "model", "-q"], open_folder)
    assert status == 1 and stderr.startswith(f"Error: cannot create output directory {locked / 'model'}"), stderr
    assert stderr.count("\n") == 1 and os.listdir(locked) == []
