"""w2v in the shell: corpus input (files, stdin, compressed), broken pipes, exit statuses, quiet/progress, completion."""

import bz2
import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner

from word2vec.cli import common as cli_common
from word2vec.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_corpus.txt"
W2V = [sys.executable, "-m", "word2vec"]
SMALL = ["--set", "train.threads=1", "--set", "model.vector_size=8", "--set", "train.epochs=1"]


def run(args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def spawn(args, **kwargs):
    """A real `w2v` process (its stdin, stdout and stderr as given), started from the project folder."""
    return subprocess.Popen([*W2V, *map(str, args)], cwd=ROOT, **kwargs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A slice of the demo corpus: whole, in two halves, and bzip2-compressed."""
    folder = tmp_path_factory.mktemp("pipes")
    lines = DEMO.read_text().splitlines()[:3000]
    whole, first, second = folder / "whole.txt", folder / "first.txt", folder / "second.txt"
    whole.write_text("\n".join(lines) + "\n")
    first.write_text("\n".join(lines[:1500]) + "\n")
    second.write_text("\n".join(lines[1500:]) + "\n")
    (folder / "whole.txt.bz2").write_bytes(bz2.compress(whole.read_bytes()))
    return folder


@pytest.fixture(scope="module")
def model(corpus):
    out = corpus / "model"
    result = run(["train", corpus / "whole.txt", "--output", out, "--quiet", *SMALL])
    assert result.exit_code == 0, result.output
    return out


# --- corpus input -----------------------------------------------------------------------

@pytest.mark.parametrize("source", ["two files", "bz2", "stdin"])
def test_train_input_gives_the_same_model(corpus, model, tmp_path, source):
    args = {"two files": [corpus / "first.txt", corpus / "second.txt"], "bz2": [corpus / "whole.txt.bz2"],
            "stdin": ["-"]}[source]
    text = (corpus / "whole.txt").read_text() if source == "stdin" else None
    result = run(["train", *args, "--output", tmp_path / "m", "--quiet", *SMALL], input=text)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    for name in ("vocab.tsv", "vectors.npy"):
        assert (tmp_path / "m" / name).read_bytes() == (model / name).read_bytes()


def test_train_counts_every_file(corpus, model):
    expected = run(["vocab", corpus / "first.txt", corpus / "second.txt", "--min-count", "5"]).stdout
    assert (model / "vocab.tsv").read_text() == expected


def test_invalid_utf8_in_the_corpus_gives_exactly_one_warning(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a b c \xff d\n" * 20)
    (tmp_path / "b.txt").write_bytes(b"a b c\n" * 20 + b"caf\xe9 \xc3\n")
    result = run(["train", tmp_path / "a.txt", tmp_path / "b.txt", "--output", tmp_path / "m", *SMALL,
                  "--set", "vocab.min_count=1"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "UTF-8" in line]
    assert warnings == ["replaced 22 invalid UTF-8 bytes in the corpus with U+FFFD"]
    assert "\ufffd\t21" in (tmp_path / "m" / "vocab.tsv").read_text().splitlines()


# --- broken pipes -----------------------------------------------------------------------

def test_similar_piped_into_head(model):
    """The acceptance example, as a shell runs it: one row, status 0, nothing on stderr."""
    command = f"set -o pipefail; {' '.join(W2V)} similar --model {model} paris | head -1"
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
    assert len(result.stdout.splitlines()) == 1 and result.stdout.startswith("paris\t")


@pytest.mark.parametrize("command", ["similar", "vectors", "vocab"])
def test_a_reader_that_goes_away_ends_w2v_quietly(model, corpus, tmp_path, command):
    """Far more output than a pipe holds, and the reader closes after one line."""
    words = (model / "vocab.tsv").read_text().replace("\t", " ").split()[::2]
    if command == "vocab":
        (tmp_path / "many.txt").write_text(" ".join(f"w{i}" for i in range(30_000)))
        args, stdin = ["vocab", tmp_path / "many.txt"], None
    else:
        args = [command, "--model", model] + (["-k", "50"] if command == "similar" else [])
        (tmp_path / "words.txt").write_text("\n".join(words * 5) + "\n")
        stdin = open(tmp_path / "words.txt", "rb")
    with stdin or open(os.devnull, "rb") as source:
        proc = spawn(args, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout.readline()
        proc.stdout.close()
        stderr = proc.stderr.read()
        assert proc.wait(timeout=60) == 0
    assert stderr == b""


# --- exit statuses ----------------------------------------------------------------------

@pytest.mark.parametrize("args, status", [
    (["similar", "--model", "M", "paris"], 0),
    (["similar", "--model", "M", "xyzzy", "paris"], 1),  # unknown word
    (["similar", "--model", "BAD", "paris"], 1),  # bad data
    (["vocab", "--merge", "-"], 1),  # bad data on stdin
    (["similar", "--bogus"], 2),  # bad usage
    (["export", "--model", "M"], 2),  # a required option is missing
    (["similar", "--model", "M", "-k", "0", "paris"], 2),
    (["train", "-", "--set", "train.epochs=none"], 2),  # a config error is bad usage too
    (["nosuchcommand"], 2),
])
def test_exit_statuses(model, tmp_path, args, status):
    (tmp_path / "bad.bin").write_bytes(b"2 3\nnot really a model\n")
    paths = {"M": model, "BAD": tmp_path / "bad.bin"}
    result = run([paths.get(a, a) for a in args], input="a\tb\n")
    assert result.exit_code == status, result.output
    if status:  # one `Error: …` line, after click's usage lines for bad usage
        assert any(line.startswith("Error: ") for line in result.stderr.splitlines())
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, status", [(["vocab", "--min-count", "1"], 0), (["vocab", "--min-count", "0"], 2),
                                          (["vocab", "--min-count", "99999"], 1)])
def test_a_real_process_delivers_all_its_output_and_its_status(args, status):
    # main() ends a finished command with os._exit: the whole output must still arrive (far more
    # than a pipe holds), with the command's own exit status
    words = [f"w{i}" for i in range(30000)]
    proc = spawn(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(" ".join(words).encode() + b"\n", timeout=120)
    assert proc.returncode == status, err
    if status == 0:
        assert out.decode().splitlines() == [f"{w}\t1" for w in sorted(words)] and err == b""
    else:
        assert out == b"" and err.decode().splitlines()[-1].startswith("Error: ")


def _ctrl_c_as_on_a_terminal():
    """SIGINT back to its default in the child: a shell without job control starts background jobs (this
    suite, say) with SIGINT ignored, children inherit that, and Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_without_a_traceback(model):
    proc = spawn(["similar", "--model", model, "-k", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, preexec_fn=_ctrl_c_as_on_a_terminal)
    proc.stdin.write(b"paris\n")
    proc.stdin.flush()
    assert proc.stdout.readline().startswith(b"paris\t")  # it is now waiting for the next query
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert proc.stderr.read() == b"Interrupted.\n"
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()


# --- progress and --quiet ---------------------------------------------------------------

def _train_on_a_terminal(corpus, tmp_path, *extra):
    """Run `w2v train` with stderr on a pseudo-terminal; return what it wrote there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a new pty is 0 columns wide
    proc = spawn(["train", corpus / "whole.txt", "--output", tmp_path / "m", *SMALL, *extra],
                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    assert proc.stdout.read() == b""
    proc.stdout.close()
    return b"".join(chunks).decode()


def test_progress_bar_on_a_terminal_only(corpus, tmp_path):
    assert "training: " in _train_on_a_terminal(corpus, tmp_path)
    assert _train_on_a_terminal(corpus, tmp_path, "--quiet") == ""
    piped = run(["train", corpus / "whole.txt", "--output", tmp_path / "m", *SMALL])
    assert "training: " not in piped.stderr and "vocabulary: " in piped.stderr
    epoch_line = re.compile(r"epoch 1/1: loss \d+\.\d{4}, [\d,]+ words/s, \d+\.\ds elapsed")
    assert len([line for line in piped.stderr.splitlines() if epoch_line.fullmatch(line)]) == 1
    forced = run(["train", corpus / "whole.txt", "--output", tmp_path / "m", *SMALL, "--progress"])
    assert re.search(r"^training: \d+% \([\d,]+ of [\d,]+ words\), epoch 1/1, alpha ", forced.stderr, re.M)
    assert "\r" not in forced.stderr and epoch_line.search(forced.stderr)


def test_plain_progress_writes_a_line_every_few_seconds(monkeypatch):
    lines, now = [], [100.0]
    monkeypatch.setattr(cli_common.time, "monotonic", lambda: now[0])
    bar = cli_common.PlainProgress(2000, 0, lines.append, every=5)
    for step in range(10):  # one update a second, as the loop does: the words, then the figures
        bar.update(100)
        bar.set_postfix_str("epoch 1/2")
        now[0] += 1
    assert lines == ["training: 5% (100 of 2,000 words), epoch 1/2", "training: 30% (600 of 2,000 words), epoch 1/2"]


def test_quiet_leaves_only_errors(model, corpus, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 au lait\n")
    commands = [
        ["train", corpus / "whole.txt", "--output", tmp_path / "m", *SMALL, "--progress"],
        ["vocab", tmp_path / "bad.txt"],
        ["export", "--model", model, "--format", "word2vec-txt", "--output", tmp_path / "v.txt"],
    ]
    for args in commands:
        assert run(args).stderr != ""
        result = run([*args, "--quiet"])
        assert (result.exit_code, result.stderr) == (0, "")
    result = run(["vocab", "--quiet", "--min-count", "9"], input="a a\n")
    assert (result.exit_code, result.stderr) == (
        1, "Error: no word occurs at least 9 times (the most frequent occurs 2 times); lower --min-count\n")


def test_vocab_writes_data_only():
    """`w2v vocab` writes data only: nothing on stderr when all is well."""
    result = run(["vocab"], input="a b\n")
    assert (result.stdout, result.stderr) == ("a\t1\nb\t1\n", "")


# --- shell completion -------------------------------------------------------------------

def test_shell_completion(tmp_path):
    env = dict(os.environ, _W2V_COMPLETE="bash_source")
    script = subprocess.run(W2V, env=env, capture_output=True, text=True).stdout
    assert "complete -o nosort -F _w2v_completion w2v" in script
    env.update(_W2V_COMPLETE="bash_complete", COMP_WORDS="w2v export m --format ", COMP_CWORD="4")
    completions = subprocess.run(W2V, env=env, capture_output=True, text=True).stdout.split()
    assert completions == ["plain,word2vec-bin", "plain,word2vec-txt", "plain,npy", "plain,projector",
                           "plain,fasttext-bin"]
