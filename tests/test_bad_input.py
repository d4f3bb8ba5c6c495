"""The bad-input catalogue: each case through the CLI gets its exit status, one `Error: …` line on
stderr and no traceback, and writes nothing (no new directory, the earlier model intact byte for byte).
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from word2vec import store
from word2vec.training import checkpoint
from word2vec.training import loop as training
from word2vec import config as config_mod
from word2vec.cli import cli
from word2vec.errors import Interrupted

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--set", "train.threads=1", "--set", "model.vector_size=8", "--set", "train.epochs=1",
         "--set", "train.checkpoint_every=0"]


def _corpus_text(n_words=40, lines=120, seed=0):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(n_words)]
    return "".join(" ".join(rng.choices(words, k=10)) + "\n" for _ in range(lines))


def run(args, input=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def fails(args, status, match=None):
    """Run the CLI, expect exit `status` and exactly one stderr line `Error: …` (containing `match`)."""
    result = run(args)
    assert result.exit_code == status, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""
    if match is not None:
        assert match in lines[0], lines[0]
    return lines[0]


def snapshot(folder):
    """Every path under `folder` with the bytes of each file, to compare before and after."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A corpus and a model trained on it through the CLI (all three output formats)."""
    folder = tmp_path_factory.mktemp("base")
    corpus = folder / "corpus.txt"
    corpus.write_text(_corpus_text())
    result = run(["train", corpus, "-o", folder / "model", "-q", *SMALL,
                  "--set", "output.formats=[npy, word2vec-bin, word2vec-txt]"])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def out(tmp_path, base):
    """An output area holding a copy of the base model, at out/model."""
    folder = tmp_path / "out"
    folder.mkdir()
    shutil.copytree(base / "model", folder / "model")
    return folder


def train_fails(out, args, status, match):
    """`w2v train ARGS` fails into a new directory and over the existing model, writing nothing."""
    before = snapshot(out)
    for target in (out / "new", out / "model"):
        fails(["train", *args, "-o", target], status, match)
    assert snapshot(out) == before


# ----------------------------------------------------------------------- corpus contents


def test_empty_corpus(out, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"\n \n\t\n")
    train_fails(out, [tmp_path / "empty.txt"], 1, "the corpus is empty")
    train_fails(out, [tmp_path / "blank.txt"], 1, "the corpus is empty")


def test_every_word_below_min_count(out, tmp_path):
    (tmp_path / "rare.txt").write_text("a b c d\ne f g a\n")
    train_fails(out, [tmp_path / "rare.txt"], 1, "no word occurs at least 5 times (vocab.min_count)")


def test_binary_garbage(out, tmp_path):
    data = bytearray(random.Random(1).randbytes(20000))
    data[100] = 0  # make sure of a NUL byte
    (tmp_path / "garbage.bin").write_bytes(bytes(data))
    train_fails(out, [tmp_path / "garbage.bin"], 1, "looks like a binary file (it holds NUL bytes)")


def test_invalid_utf8_trains_with_one_warning(tmp_path):
    text = _corpus_text().encode() + b"caf\xe9 caf\xe9 caf\xe9 caf\xe9 caf\xe9 \xff\xfe\n"
    (tmp_path / "latin1.txt").write_bytes(text)
    result = run(["train", tmp_path / "latin1.txt", "-o", tmp_path / "m", *SMALL])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert [line for line in lines if "UTF-8" in line] == [
        "replaced 7 invalid UTF-8 bytes in the corpus with U+FFFD"]
    assert not [line for line in lines if "Error" in line or "Traceback" in line]
    assert "caf\ufffd\t5" in (tmp_path / "m" / "vocab.tsv").read_text(encoding="utf-8")


def _write_big(path, block, megabytes):
    """A file of `megabytes` MB made of `block` repeated, written in 1 MB pieces (never whole in memory)."""
    piece = block * (2**20 // len(block))
    with open(path, "wb") as handle:
        for _ in range(megabytes):
            handle.write(piece)


def _run_measured(args, cwd, timeout=60):
    """Run `python -m word2vec ARGS`; returns (exit status, stderr text, peak RSS in MB)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    err = cwd / "stderr.txt"
    with open(err, "wb") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "word2vec", *map(str, args)], cwd=cwd, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=handle)
    timer = threading.Timer(timeout, os.kill, (proc.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err.read_text(), usage.ru_maxrss / 1024


def test_200mb_single_token_line_is_read_in_bounded_memory(tmp_path):
    # one 200 MB line without whitespace: the token is cut at corpus.MAX_TOKEN_CHARS, so it is one
    # rare word. Holding the line would take > 400 MB (its bytes and its str); reading it must not.
    corpus = tmp_path / "line.txt"
    _write_big(corpus, b"x", 200)
    try:
        status, stderr, peak = _run_measured(["train", corpus, "-o", tmp_path / "m"], tmp_path)
    finally:
        corpus.unlink()
    assert status == 1, stderr
    assert stderr.splitlines() == ["Error: no word occurs at least 5 times (vocab.min_count); the most frequent "
                                   "occurs 1 times — lower vocab.min_count or give a larger corpus"]
    baseline = _baseline_rss(tmp_path)
    assert peak < baseline + 150, f"peak RSS {peak:.0f} MB, {baseline:.0f} MB for an empty corpus"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stderr.txt"]


def _baseline_rss(tmp_path):
    """Peak RSS of the same command on an empty corpus: the interpreter and its libraries."""
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    try:
        status, _, peak = _run_measured(["train", empty, "-o", tmp_path / "m"], tmp_path)
    finally:
        empty.unlink()
    assert status == 1
    return peak


def test_50mb_single_line_of_words_trains_in_bounded_memory(tmp_path):
    # 50 MB rather than 200 to keep the suite quick (training on 200 MB takes ~10 s); the line is cut
    # into sentences of corpus.max_sentence_length words as it streams in.
    corpus = tmp_path / "line.txt"
    _write_big(corpus, b"alpha beta gamma delta ", 50)
    try:
        status, stderr, peak = _run_measured(["train", corpus, "-o", tmp_path / "m", "-q", *SMALL,
                                              "--set", "vocab.sample=1e-6"], tmp_path)
    finally:
        corpus.unlink()
    assert status == 0, stderr
    assert stderr == ""
    each = 50 * (2**20 // len(b"alpha beta gamma delta "))
    assert (tmp_path / "m" / "vocab.tsv").read_text() == "".join(
        f"{word}\t{each}\n" for word in ["alpha", "beta", "delta", "gamma"])
    baseline = _baseline_rss(tmp_path)
    # holding the line's 9 M words as str would take > 600 MB
    assert peak < baseline + 300, f"peak RSS {peak:.0f} MB, {baseline:.0f} MB for an empty corpus"


# ----------------------------------------------------------------------- corpus files


def test_missing_file(out, tmp_path):
    train_fails(out, [tmp_path / "nope.txt"], 1, f"{tmp_path / 'nope.txt'}: no such file")


def test_directory_given_as_a_file(out, tmp_path):
    train_fails(out, [tmp_path], 1, f"{tmp_path} is a directory, not a file")


def test_unreadable_file(out, tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(_corpus_text())
    path.chmod(0)
    try:
        with open(path, "rb"):
            pytest.skip("running as root: chmod 000 does not stop this process from reading")
    except PermissionError:
        pass
    try:
        train_fails(out, [path], 1, f"{path}: permission denied")
    finally:
        path.chmod(0o644)


# ----------------------------------------------------------------------- config


@pytest.mark.parametrize("assignment,message", [
    ("train.epoch=3", "unknown config key 'train.epoch' (did you mean 'train.epochs'?)"),
    ("foo.bar=1", "unknown config key 'foo.bar'"),
    ("train.epochs=three", "config key 'train.epochs' must be an integer, got 'three'"),
    ("model.arch=1", "config key 'model.arch' must be a string, got 1"),
    ("model.vector_size=-100", "config key 'model.vector_size' must be at least 1; got -100"),
    ("vocab.max_size=-5", "config key 'vocab.max_size' must be at least 1; got -5"),
    ("model.negative=-1", "config key 'model.negative' must be at least 1; got -1"),
    ("model.window=0", "config key 'model.window' must be at least 1; got 0"),
    ("train.epochs=0", "config key 'train.epochs' must be at least 1; got 0"),
    ("train.min_alpha=0.5", "config key 'train.min_alpha' (0.5) must not exceed 'train.alpha' (0.025)"),
    ("output.formats=[foo]", "config key 'output.formats' must be one of npy, word2vec-bin, word2vec-txt, fasttext-bin; got 'foo'"),
    ("model.arch=transformer", "config key 'model.arch' must be one of skipgram, cbow; got 'transformer'"),
    ("train.alpha=" + "9" * 400, "config key 'train.alpha' must be a finite number"),
    ("train.seed=99999999999999999999", "config key 'train.seed' must be at most 4294967295"),
    ("train.seed=2001-13-45", "--set train.seed: cannot parse value '2001-13-45'"),
    ("train.epochs=!!int x", "--set train.epochs: cannot parse value '!!int x'"),
])
def test_bad_config_value(out, base, assignment, message):
    train_fails(out, [base / "corpus.txt", "--set", assignment], 2, message)


@pytest.mark.parametrize("text,message", [
    ("train:\n  epoch: 3\n", "unknown config key 'train.epoch' (did you mean 'train.epochs'?)"),
    ("train:\n  alpha: fast\n", "config key 'train.alpha' must be a number, got 'fast'"),
    ("model:\n  window: 0\n", "config key 'model.window' must be at least 1; got 0"),
    ("train:\n  seed: 2001-13-45\n", "is not valid YAML: ValueError: month must be in 1..12"),
    ("[" * 1200, ": nested deeper than 10 levels"),
])
def test_bad_config_file(out, base, tmp_path, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    train_fails(out, [base / "corpus.txt", "--config", tmp_path / "bad.yaml"], 2, message)


def test_missing_config_file(out, base, tmp_path):
    train_fails(out, [base / "corpus.txt", "--config", tmp_path / "none.yaml"], 2, "no such file")


# ----------------------------------------------------------------------- queries and outputs


def test_unknown_word(out):
    fails(["similar", "zzz", "--model", out / "model"], 1, "'zzz' is not in the vocabulary")
    fails(["similar", "zzz", "--model", out / "model" / "vectors.bin"], 1, "'zzz' is not in the vocabulary")


def test_output_under_a_regular_file(out, base):
    (out / "afile").write_text("not a directory\n")
    before = snapshot(out)
    fails(["train", base / "corpus.txt", "-o", out / "afile" / "model"], 1, "cannot create output directory")
    fails(["train", base / "corpus.txt", "-o", out / "afile"], 1,
          "afile is a file, not a model directory; choose another --output")
    assert snapshot(out) == before


def test_read_only_output_directory(out, base):
    folder = out / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: a read-only directory is still writable")
        before = snapshot(out)
        fails(["train", base / "corpus.txt", "-o", folder / "model"], 1, "cannot create output directory")
        assert snapshot(out) == before
    finally:
        folder.chmod(0o755)


def test_vectors_too_large_for_memory(out, base):
    train_fails(out, [base / "corpus.txt", "-q", *SMALL, "--set", "model.vector_size=10000000000000"], 2,
                "config key 'model.vector_size' must be at most 10000; got 10000000000000")


def test_divergence_names_train_alpha_and_writes_nothing(out, base):
    # the largest rate allowed, with 1000 shared noise words over windows of up to 2000 words
    big_steps = ["--set", "train.alpha=1", "--set", "model.window=1000", "--set", "model.negative=1000"]
    train_fails(out, [base / "corpus.txt", "-q", *SMALL, *big_steps], 1, "try a lower train.alpha")


# ----------------------------------------------------------------------- truncated model files


@pytest.fixture(scope="module")
def model_files(tmp_path_factory, base):
    """Small valid model files of every kind: {name: (path, bytes, CLI args that load it)}.

    The last value of the vectors is 0, written as `0`, so that only the final newline can be cut
    and leave a file that is still whole.
    """
    folder = tmp_path_factory.mktemp("models")
    words, counts = ["the", "of", "and"], [30, 20, 5]
    vectors = np.array([[0.25, -1.5], [3.0, 1e-7], [0.5, 0.0]], np.float32)
    store.write_word2vec(folder / "v.bin", words, vectors, binary=True)
    store.write_word2vec(folder / "v.txt", words, vectors, binary=False)
    (folder / "dir").mkdir()
    store.save_npy(folder / "dir" / "vectors.npy", vectors)
    store.write_vocab(folder / "dir" / "vocab.tsv", words, counts)
    config = config_mod.resolve(None, ["train.threads=1", "model.vector_size=8", "train.checkpoint_every=0"])

    def stop(trainer, state):
        trainer.stop_signal = signal.SIGINT

    quiet = training.Reporter(progress=False, log=lambda message: None)
    with pytest.raises(Interrupted):
        training.train([str(base / "corpus.txt")], config, str(folder / "run"), quiet,
                       hooks=training.Hooks(on_job=stop))
    files = {
        "vectors.bin": (folder / "v.bin", ["similar", "the", "--model", folder / "v.bin"]),
        "vectors.txt": (folder / "v.txt", ["similar", "the", "--model", folder / "v.txt"]),
        "vectors.npy": (folder / "dir" / "vectors.npy", ["similar", "the", "--model", folder / "dir"]),
        "vocab.tsv": (folder / "dir" / "vocab.tsv", ["similar", "the", "--model", folder / "dir"]),
        "checkpoint.npz": (folder / "run" / "checkpoint.npz", ["train", "--resume", folder / "run", "-q"]),
    }
    return {name: (path, path.read_bytes(), args) for name, (path, args) in files.items()}


@pytest.mark.parametrize("name", ["vectors.bin", "vectors.txt", "vectors.npy", "vocab.tsv", "checkpoint.npz"])
def test_model_file_truncated_anywhere(model_files, name):
    path, whole, args = model_files[name]
    whole_result = run(args)
    assert whole_result.exit_code == 0, whole_result.output
    path.write_bytes(whole)  # a successful resume removed the checkpoint
    folder_before = sorted(p.name for p in path.parent.iterdir()) if name == "checkpoint.npz" else None
    last_newline_optional = name in ("vectors.bin", "vectors.txt", "vocab.tsv")

    @settings(max_examples=150 if len(whole) > 150 else len(whole) * 2, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(cut=st.integers(0, len(whole) - 1))
    def check(cut):
        path.write_bytes(whole[:cut])
        if last_newline_optional and cut == len(whole) - 1:
            assert run(args).exit_code == 0  # only the final newline is gone: still a whole file
            return
        line = fails(args, 1)
        assert name in line or path.name in line, line
        if folder_before is not None:
            assert sorted(p.name for p in path.parent.iterdir()) == folder_before  # no model, no lock left

    try:
        check()
    finally:
        path.write_bytes(whole)


@pytest.mark.parametrize("change,problem", [
    (lambda arrays, meta: arrays.update(w_in=arrays["w_in"][:, :3]),
     "w_in should be float32 (40, 8), found float32 (40, 3)"),
    (lambda arrays, meta: arrays.update(rngs=arrays["rngs"].astype(np.int64)), "rngs should be uint64"),
    (lambda arrays, meta: arrays.pop("w_out"), "w_out should be float32 (40, 8), found nothing"),
    (lambda arrays, meta: meta.update(words=meta["words"][:-1]), "w_in should be float32 (39, 8)"),
    (lambda arrays, meta: meta.pop("digest"), "'digest' is missing or of the wrong type"),
    (lambda arrays, meta: meta.update(job=-1), "bad words, paths, threads, epoch or job"),
    (lambda arrays, meta: meta["config"]["train"].update(epochs=0), "its config: config key 'train.epochs'"),
])
def test_checkpoint_whose_parts_disagree(model_files, tmp_path, change, problem):
    path, whole, _ = model_files["checkpoint.npz"]
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoint.npz").write_bytes(whole)
    arrays, meta = checkpoint.load_checkpoint(str(folder))
    change(arrays, meta)
    checkpoint.save_checkpoint(str(folder), arrays, meta)
    before = snapshot(tmp_path)
    line = fails(["train", "--resume", folder, "-q"], 1, problem)
    assert line.startswith(f"Error: {folder / 'checkpoint.npz'}: corrupt checkpoint (")
    assert snapshot(tmp_path) == before
