"""The core CLI: `w2v train`, `w2v similar`, `w2v gradcheck`: exit statuses and exact output."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
import pytest
from click.testing import CliRunner

from word2vec.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_corpus.txt"


def run(args, input=None, env=None):
    return CliRunner().invoke(cli, args, input=input, env=env)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A model trained through the CLI on a slice of the bundled corpus."""
    folder = tmp_path_factory.mktemp("cli")
    corpus = folder / "demo.txt"
    corpus.write_text("\n".join(DEMO.read_text().splitlines()[:15000]) + "\n")
    out = folder / "model"
    result = run(["train", str(corpus), "--output", str(out), "--quiet", "--set", "train.threads=1",
                  "--set", "model.vector_size=24", "--set", "output.formats=[npy, word2vec-bin, word2vec-txt]"])
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_the_model_directory(model):
    names = sorted(p.name for p in model.iterdir())
    assert names == ["config.yaml", "metrics.json", "vectors.bin", "vectors.npy", "vectors.txt", "vocab.tsv", "w_out.npy"]
    vectors = np.load(model / "vectors.npy", allow_pickle=False)
    vocab = (model / "vocab.tsv").read_text().splitlines()
    assert vectors.dtype == np.float32 and vectors.shape == (len(vocab), 24)
    counts = [int(line.split("\t")[1]) for line in vocab]
    assert counts == sorted(counts, reverse=True)
    metrics = json.loads((model / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3, 4, 5]
    assert set(metrics["epochs"][0]) >= {"loss", "words", "seconds", "words_per_sec"}
    assert "vector_size: 24" in (model / "config.yaml").read_text()


def test_c_formats_hold_the_same_numbers(model):
    vectors = np.load(model / "vectors.npy")
    words = [line.split("\t")[0] for line in (model / "vocab.tsv").read_text().splitlines()]
    raw = (model / "vectors.bin").read_bytes()
    header, _, body = raw.partition(b"\n")
    assert header == f"{len(words)} 24".encode()
    record = len(words[0].encode()) + 1 + 24 * 4 + 1
    assert body[: len(words[0]) + 1] == (words[0] + " ").encode()
    first = np.frombuffer(body[len(words[0]) + 1: record - 1], dtype="<f4")
    assert np.array_equal(first, vectors[0])
    text = (model / "vectors.txt").read_text().splitlines()
    assert text[0] == f"{len(words)} 24"
    row = text[1].split()
    assert row[0] == words[0]
    assert np.array_equal(np.array(row[1:], dtype=np.float32), vectors[0])


def test_similar_tsv_is_exact_and_excludes_the_query(model):
    result = run(["similar", "--model", str(model), "-k", "3", "paris", "king"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    assert all(len(line.split("\t")) == 3 for line in lines)
    assert [line.split("\t")[0] for line in lines] == ["paris"] * 3 + ["king"] * 3
    assert "paris" not in [line.split("\t")[1] for line in lines[:3]]
    scores = [float(line.split("\t")[2]) for line in lines[:3]]
    assert scores == sorted(scores, reverse=True)
    assert all(len(line.split("\t")[2].split(".")[1]) == 4 for line in lines)
    assert result.stderr == ""


def test_similar_json_and_stdin(model):
    result = run(["similar", "--model", str(model), "-k", "2", "--format", "json"], input="paris\n\nking\n")
    assert result.exit_code == 0
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["query"] for o in objects] == ["paris", "king"]
    assert all(len(o["similar"]) == 2 and set(o["similar"][0]) == {"word", "score"} for o in objects)


def test_similar_unknown_word_is_skipped_with_exit_1(model):
    result = run(["similar", "--model", str(model), "-k", "1", "xyzzy", "paris"])
    assert result.exit_code == 1
    assert result.stderr == "Error: 'xyzzy' is not in the vocabulary\n"
    assert result.stdout.startswith("paris\t")


def test_similar_reads_the_c_formats_and_the_model_env(model):
    direct = run(["similar", "--model", str(model), "-k", "3", "paris"]).stdout
    for name in ("vectors.bin", "vectors.txt"):
        assert run(["similar", "--model", str(model / name), "-k", "3", "paris"]).stdout == direct
    assert run(["similar", "-k", "3", "paris"], env={"W2V_MODEL": str(model)}).stdout == direct


def test_similar_without_a_model_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("W2V_MODEL", raising=False)
    result = run(["similar", "paris"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_train_from_stdin_and_config_file(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("vocab:\n  min_count: 1\ntrain:\n  epochs: 1\n  threads: 1\nmodel:\n  vector_size: 8\n")
    text = "a b c d e f g\n" * 50
    result = run(["train", "-", "--config", str(config), "--output", str(tmp_path / "m"), "--quiet"], input=text)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert (tmp_path / "m" / "vocab.tsv").read_text().splitlines()[0] == "a\t50"
    assert "epochs: 1" in (tmp_path / "m" / "config.yaml").read_text()


def test_train_reports_on_stderr_only(tmp_path):
    result = run(["train", "-", "--set", "vocab.min_count=1", "--set", "train.epochs=1",
                  "--output", str(tmp_path / "m")], input="x y z\n" * 20)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "vocabulary: 3 words" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--set", "train.epoch=3"], "Error: unknown config key 'train.epoch' (did you mean 'train.epochs'?); the keys of train are "
                                       "epochs, alpha, min_alpha, threads, seed, checkpoint_every, alpha_schedule, sync_words, "
                                       "sync_frequent, sync_lag, continue_merge\n"),
    (["--set", "model.loss=nce"], "Error: config key 'model.loss' must be one of neg, hs, softmax; got 'nce'\n"),
])
def test_train_config_errors_exit_2(tmp_path, args, message):
    result = run(["train", "-", "--output", str(tmp_path / "m"), *args], input="a b\n")
    assert result.exit_code == 2
    assert result.stderr == message
    assert not (tmp_path / "m").exists()


def test_gradcheck_command():
    result = run(["gradcheck"])
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert {"naive_softmax_loss_and_gradient", "neg_sampling_loss_and_gradient", "sigmoid"} <= {r[0] for r in rows}
    assert all(float(r[1]) < 1e-6 and r[2] == "ok" for r in rows)


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "word2vec", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("w2v, version ")


def test_train_flags_are_shorthands_for_set(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("model:\n  vector_size: 8\n  window: 3\ntrain:\n  epochs: 3\n")
    args = ["train", "-", "--config", str(config), "--output", str(tmp_path / "m"), "-q", "--dim", "6",
            "--epochs", "1", "--min-count", "1", "--negative", "3", "--sample", "0", "--alpha", "0.05",
            "--threads", "1", "--seed", "7", "--arch", "cbow", "--loss", "hs", "--set", "train.min_alpha=0.001"]
    result = run(args, input="a b c d e f g\n" * 20)
    assert (result.exit_code, result.stderr) == (0, "")
    saved = yaml.safe_load((tmp_path / "m" / "config.yaml").read_text())
    assert saved["model"] == {**saved["model"], "vector_size": 6, "window": 3, "negative": 3, "arch": "cbow", "loss": "hs"}
    assert saved["train"] == {**saved["train"], "epochs": 1, "alpha": 0.05, "min_alpha": 0.001, "threads": 1, "seed": 7}
    assert (saved["vocab"]["min_count"], saved["vocab"]["sample"]) == (1, 0)


@pytest.mark.parametrize("args, status, message", [
    (["--dim", "8", "--set", "model.vector_size=16"], 2,
     "Error: --set model.vector_size=… and --dim both set model.vector_size; give only one of them\n"),
    (["--loss", "nce"], 2, "Error: config key 'model.loss' must be one of neg, hs, softmax; got 'nce'\n"),
])
def test_train_flag_clashes_and_bad_values_are_one_line(tmp_path, args, status, message):
    result = run(["train", "-", "--output", str(tmp_path / "m"), *args], input="a b\n")
    assert (result.exit_code, result.stderr) == (status, message)
    assert not (tmp_path / "m").exists()
