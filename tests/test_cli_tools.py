"""The file tools: `w2v vocab`, `export`, `vectors`, `info`, `plot`, `plot-loss`, and the loading options."""

import collections
import json
import os
import random
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from word2vec import api
from word2vec import store
from word2vec.cli import cli
from word2vec.query.vectors import load

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_corpus.txt"
QUESTIONS = ROOT / "data" / "demo_questions.txt"


def run(args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A model directory (npy, bin, txt, config, metrics with analogy scores) from a slice of the demo corpus."""
    folder = tmp_path_factory.mktemp("tools")
    corpus = folder / "demo.txt"
    corpus.write_text("\n".join(DEMO.read_text().splitlines()[:8000]) + "\n")
    config = {"train": {"threads": 1, "epochs": 2}, "model": {"vector_size": 16},
              "output": {"formats": ["npy", "word2vec-bin", "word2vec-txt"]}, "eval": {"analogy": str(QUESTIONS)}}
    api.train(str(corpus), config, folder / "model")
    return folder / "model"


def _table(seed=0, n=40, dim=7):
    """Words (some non-ASCII) and random float32 vectors."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n - 4)] + ["café", "naïve", "東京", "ß"]
    return words, rng.standard_normal((n, dim)).astype(np.float32)


# --- vocab ------------------------------------------------------------------------------

def _expected_vocab(text, min_count=1, max_size=None):
    rows = sorted(collections.Counter(text.split()).items(), key=lambda item: (-item[1], item[0]))
    rows = [(w, c) for w, c in rows if c >= min_count][:max_size]
    return "".join(f"{w}\t{c}\n" for w, c in rows)


@pytest.fixture(scope="module")
def big_text():
    """About 1.6 MB, so the reader crosses block boundaries; odd whitespace and non-ASCII words."""
    rng = random.Random(5)
    words = [f"word{i}" for i in range(3000)] + ["Éclair", "éclair", "日本", "naïve"]
    seps = [" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\r\n", "\n"]
    weights = [1 / (i + 1) for i in range(len(words))]
    return "".join(w + rng.choice(seps) for w in rng.choices(words, weights, k=200_000))


def test_vocab_counts_equal_a_plain_python_count(tmp_path, big_text):
    path = tmp_path / "corpus.txt"
    path.write_text(big_text, encoding="utf-8")
    result = run(["vocab", path])
    assert result.exit_code == 0, result.output
    assert result.stdout == _expected_vocab(big_text)
    assert result.stderr == ""


def test_vocab_merge_of_two_halves_equals_the_whole(tmp_path, big_text):
    lines = big_text.split("\n")
    halves = ["\n".join(lines[: len(lines) // 2]) + "\n", "\n".join(lines[len(lines) // 2 :])]
    shards = []
    for i, half in enumerate(halves):
        (tmp_path / f"part{i}.txt").write_text(half, encoding="utf-8")
        shard = tmp_path / f"part{i}.tsv"
        shard.write_text(run(["vocab", tmp_path / f"part{i}.txt"]).stdout, encoding="utf-8")
        shards.append(shard)
    assert run(["vocab", "--merge", *shards]).stdout == _expected_vocab(big_text)
    options = ["--min-count", "40", "--max-size", "100"]
    merged = run(["vocab", "--merge", *shards, *options]).stdout
    assert merged == _expected_vocab(big_text, 40, 100)
    assert len(merged.splitlines()) == 100


def test_vocab_options_stdin_and_exact_layout():
    text = "b a B c a b\nd\ta b\n"
    assert run(["vocab"], input=text).stdout == "a\t3\nb\t3\nB\t1\nc\t1\nd\t1\n"
    assert run(["vocab", "-", "--min-count", "2"], input=text).stdout == "a\t3\nb\t3\n"
    assert run(["vocab", "--lowercase", "--max-size", "1"], input=text).stdout == "b\t4\n"


def test_vocab_reads_several_and_compressed_files(write_corpus):
    paths = [write_corpus("x y\n", suffix) for suffix in ("", ".gz", ".bz2", ".xz")]
    assert run(["vocab", *paths]).stdout == "x\t4\ny\t4\n"


def test_vocab_invalid_utf8_gives_one_warning(write_corpus):
    path = write_corpus(b"caf\xe9 ok \xff\xfe ok\n")
    result = run(["vocab", path])
    assert result.exit_code == 0
    assert result.stdout == "ok\t2\ncaf\ufffd\t1\n\ufffd\ufffd\t1\n"
    assert result.stderr == "replaced 3 invalid UTF-8 bytes in the corpus with U+FFFD\n"
    assert run(["vocab", path, "--quiet"]).stderr == ""


@pytest.mark.parametrize("args, input, status, message", [
    (["vocab"], "  \n\n", 1, "Error: the corpus is empty: no tokens were found\n"),
    (["vocab", "--min-count", "3"], "a a b\n", 1,
     "Error: no word occurs at least 3 times (the most frequent occurs 2 times); lower --min-count\n"),
    (["vocab", "--merge", "-"], "a\t1\nb\n", 1, "Error: -: line 2: expected 'word<TAB>count', got b'b'\n"),
    (["vocab", "--merge", "-"], "a\t1\na\t2\n", 1, "Error: -: line 2: duplicate word 'a'\n"),
])
def test_vocab_errors(args, input, status, message):
    result = run(args, input=input)
    assert (result.exit_code, result.stderr) == (status, message)
    assert result.stdout == ""


def test_vocab_usage_errors_exit_2():
    assert run(["vocab", "--min-count", "0"], input="a\n").exit_code == 2
    assert run(["vocab", "--max-size", "x"], input="a\n").exit_code == 2


def test_train_with_a_merged_vocabulary(tmp_path):
    (tmp_path / "a.txt").write_text("a b c d\n" * 30 + "rare\n")
    (tmp_path / "b.txt").write_text("a b e\n" * 30)
    shards = []
    for name in ("a", "b"):
        shards.append(tmp_path / f"{name}.tsv")
        shards[-1].write_text(run(["vocab", tmp_path / f"{name}.txt"]).stdout)
    (tmp_path / "vocab.tsv").write_text(run(["vocab", "--merge", *shards, "--min-count", "2"]).stdout)
    assert (tmp_path / "vocab.tsv").read_text() == "a\t60\nb\t60\nc\t30\nd\t30\ne\t30\n"
    result = run(["train", tmp_path / "a.txt", tmp_path / "b.txt", "--vocab", tmp_path / "vocab.tsv", "--quiet",
                  "--output", tmp_path / "m", "--set", "train.epochs=1", "--set", "model.vector_size=8"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / "vocab.tsv").read_text() == (tmp_path / "vocab.tsv").read_text()


# --- export -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["word2vec-bin", "word2vec-txt"])
@pytest.mark.parametrize("source", ["", "vectors.bin", "vectors.txt"])
def test_export_c_formats_round_trip(model, tmp_path, fmt, source):
    out = tmp_path / ("out.bin" if fmt == "word2vec-bin" else "out.txt")
    result = run(["export", "--model", model / source, "--format", fmt, "--output", out])
    assert result.exit_code == 0, result.output
    original, exported = load(model), load(out)
    assert exported.words == original.words
    assert np.array_equal(exported.vectors, original.vectors)
    assert out.read_bytes() == (model / out.name.replace("out", "vectors")).read_bytes()
    assert result.stdout == ""
    assert result.stderr == f"wrote {len(original)} vectors of 16 dimensions to {out} ({fmt})\n"


def test_export_npy_keeps_counts_when_the_source_has_them(model, tmp_path):
    assert run(["export", "--model", model, "--format", "npy", "--output", tmp_path / "a", "-q"]).exit_code == 0
    assert sorted(os.listdir(tmp_path / "a")) == ["vectors.npy", "vocab.tsv"]
    assert (tmp_path / "a" / "vocab.tsv").read_bytes() == (model / "vocab.tsv").read_bytes()
    assert (tmp_path / "a" / "vectors.npy").read_bytes() == (model / "vectors.npy").read_bytes()
    assert run(["export", "--model", model / "vectors.bin", "--format", "npy", "--output", tmp_path / "b", "-q"]).exit_code == 0
    words = [line.split("\t") for line in (tmp_path / "b" / "vocab.tsv").read_text().splitlines()]
    assert [w for w, _ in words] == load(model).words and {c for _, c in words} == {"0"}
    assert np.array_equal(load(tmp_path / "b").vectors, load(model).vectors)


def test_export_npy_replaces_a_model_but_nothing_else(model, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.yaml").write_text("train:\n  epochs: 2\n")  # a config w2v can read: its model
    assert run(["export", "--model", model, "--format", "npy", "--output", tmp_path / "m", "--limit", "3", "-q"]).exit_code == 0
    assert sorted(os.listdir(tmp_path / "m")) == ["vectors.npy", "vocab.tsv"]
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("keep me")
    result = run(["export", "--model", model, "--format", "npy", "--output", tmp_path / "home"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'home'} holds 'notes.txt', so it is not a w2v model directory, "
                             "and a save replaces the whole folder; choose another --output\n")
    assert os.listdir(tmp_path / "home") == ["notes.txt"]
    assert run(["export", "--model", model, "--format", "npy", "--output", model]).exit_code == 1


def test_export_projector(model, tmp_path):
    result = run(["export", "--model", model, "--format", "projector", "--output", tmp_path / "p", "--limit", "50"])
    assert result.exit_code == 0
    original = load(model, limit=50)
    assert (tmp_path / "p" / "metadata.tsv").read_text().splitlines() == original.words
    table = np.loadtxt(tmp_path / "p" / "vectors.tsv", delimiter="\t", dtype=np.float32)
    assert np.array_equal(table, original.vectors)


def test_export_limit_and_no_header(model, tmp_path):
    assert run(["export", "--model", model, "--format", "word2vec-txt", "--output", tmp_path / "top.txt", "--limit", "5"]).exit_code == 0
    lines = (tmp_path / "top.txt").read_text().splitlines()
    assert lines[0] == "5 16" and len(lines) == 6
    (tmp_path / "bare.txt").write_text("\n".join(lines[1:]) + "\n")
    result = run(["export", "--model", tmp_path / "bare.txt", "--no-header", "--format", "word2vec-bin", "--output", tmp_path / "b.bin"])
    assert result.exit_code == 0
    assert load(tmp_path / "b.bin").words == load(model).words[:5]
    result = run(["export", "--model", tmp_path / "bare.txt", "--format", "word2vec-bin", "--output", tmp_path / "c.bin"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'bare.txt'}: first line should be '<count> <dimension>'")
    assert not (tmp_path / "c.bin").exists()


def test_export_non_ascii_words_round_trip(tmp_path):
    words, vectors = _table()
    store.write_word2vec(tmp_path / "in.bin", words, vectors, binary=True)
    for fmt, name in (("word2vec-txt", "out.txt"), ("word2vec-bin", "out.bin")):
        assert run(["export", "--model", tmp_path / "in.bin", "--format", fmt, "--output", tmp_path / name, "-q"]).exit_code == 0
        back = load(tmp_path / name)
        assert back.words == words and np.array_equal(back.vectors, vectors)


def test_invalid_utf8_words_warn_once(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"3 2\nab\xffc 1 2\nd\xfe 3 4\nok 5 6\n")
    result = run(["export", "--model", tmp_path / "bad.txt", "--format", "word2vec-txt", "--output", tmp_path / "out.txt"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"warning: {tmp_path / 'bad.txt'}: 2 word(s) had invalid UTF-8 bytes, replaced by U+FFFD",
        f"wrote 3 vectors of 2 dimensions to {tmp_path / 'out.txt'} (word2vec-txt)"]
    assert (tmp_path / "out.txt").read_text().splitlines()[1:] == ["ab\ufffdc 1e+00 2e+00", "d\ufffd 3e+00 4e+00", "ok 5e+00 6e+00"]
    assert run(["vectors", "--model", tmp_path / "bad.txt", "ok", "-q"]).stderr == ""


def test_export_usage_errors():
    assert run(["export", "--model", "m", "--format", "csv", "--output", "x"]).exit_code == 2
    assert run(["export", "--model", "m", "--format", "npy"]).exit_code == 2
    result = run(["export", "--model", "no/such/model.bin", "--format", "npy", "--output", "x"])
    assert (result.exit_code, result.stderr) == (1, "Error: no/such/model.bin: no such file\n")


# --- vectors ----------------------------------------------------------------------------

def test_vectors_lines_equal_the_text_format(model):
    lines = {line.split(" ", 1)[0]: line for line in (model / "vectors.txt").read_text().splitlines()[1:]}
    result = run(["vectors", "--model", model, "paris", "king"])
    assert result.exit_code == 0
    assert result.stdout == lines["paris"] + "\n" + lines["king"] + "\n"
    values = np.array(result.stdout.split("\n")[0].split()[1:], dtype=np.float32)
    assert np.array_equal(values, load(model)["paris"])


def test_vectors_stdin_unknown_words_and_c_files(model):
    result = run(["vectors", "--model", model / "vectors.bin"], input="paris\n\nxyzzy\nking\n")
    assert result.exit_code == 1
    assert result.stderr == "Error: 'xyzzy' is not in the vocabulary\n"
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["paris", "king"]
    assert result.stdout == run(["vectors", "--model", model, "paris", "king"]).stdout


# --- similar: loading options ------------------------------------------------------------

def test_similar_limit_restricts_the_candidates(model):
    words = load(model).words
    result = run(["similar", "--model", model / "vectors.txt", "--limit", "20", "-k", "50", words[3]])
    assert result.exit_code == 0
    found = [line.split("\t")[1] for line in result.stdout.splitlines()]
    assert len(found) == 19 and set(found) == set(words[:20]) - {words[3]}
    result = run(["similar", "--model", model, "--limit", "20", words[25]])
    assert (result.exit_code, result.stderr) == (1, f"Error: '{words[25]}' is not in the vocabulary\n")


def test_similar_no_header(model, tmp_path):
    lines = (model / "vectors.txt").read_text().splitlines()
    (tmp_path / "bare.vec").write_text("\n".join(lines[1:]) + "\n")
    expected = run(["similar", "--model", model, "-k", "3", "paris"]).stdout
    assert run(["similar", "--model", tmp_path / "bare.vec", "--no-header", "-k", "3", "paris"]).stdout == expected
    result = run(["similar", "--model", tmp_path / "bare.vec", "paris"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert run(["similar", "--model", model, "--limit", "0", "paris"]).exit_code == 2


# --- info -------------------------------------------------------------------------------

def test_info_json_of_a_model_directory(model):
    result = run(["info", "--model", model, "--format", "json"])
    assert result.exit_code == 0
    facts = json.loads(result.stdout)
    metrics = json.loads((model / "metrics.json").read_text())
    assert (facts["kind"], facts["words"], facts["dimensions"]) == ("model directory", len(load(model)), 16)
    assert facts["config"]["model"]["vector_size"] == 16 and facts["config"]["train"]["epochs"] == 2
    assert facts["training"]["epochs"] == 2
    assert facts["training"]["last_loss"] == metrics["epochs"][-1]["loss"]
    assert facts["training"]["corpus_tokens"] == metrics["corpus_tokens"]
    assert facts["evaluation"]["analogy"]["accuracy"] == metrics["analogy"]["sections"][-1]["accuracy"]
    assert facts["files"] == {p.name: p.stat().st_size for p in sorted(model.iterdir())}


def test_info_text_of_a_model_directory(model):
    result = run(["info", "--model", model])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"{model}: model directory", f"  words       {len(load(model)):,}", "  dimensions  16"]
    for section in ("config", "training", "evaluation", "files"):
        assert section in lines
    assert "  model.vector_size           16" in lines
    assert any(line.startswith("  last loss ") for line in lines)
    assert f"  vocab.tsv     {(model / 'vocab.tsv').stat().st_size / 1024:.1f} KiB" in lines


def test_info_of_c_files(model, tmp_path):
    n = len(load(model))
    for name, kind in (("vectors.bin", "word2vec-bin"), ("vectors.txt", "word2vec-txt")):
        size = (model / name).stat().st_size
        result = run(["info", "--model", model / name])
        assert result.stdout == (f"{model / name}: {kind}\n  words       {n:,}\n  dimensions  16\n"
                                 f"files\n  {name}  {size / 1024:.1f} KiB\n")
        facts = json.loads(run(["info", "--model", model / name, "--format", "json"]).stdout)
        assert facts == {"path": str(model / name), "kind": kind, "words": n, "dimensions": 16, "files": {name: size}}
    (tmp_path / "bare.txt").write_text("a 1 2\nb 3 4\n")
    assert json.loads(run(["info", "--model", tmp_path / "bare.txt", "--no-header", "--format", "json"]).stdout)["words"] == 2
    assert run(["info", "--model", tmp_path / "bare.txt"]).exit_code == 1


def test_info_errors(model, tmp_path):
    result = run(["info", "--model", tmp_path])
    assert (result.exit_code, result.stderr) == (1, f"Error: {tmp_path}: no vectors.npy; is this a model directory?\n")
    copy = tmp_path / "copy"
    assert run(["export", "--model", model, "--format", "npy", "--output", copy, "-q"]).exit_code == 0
    (copy / "metrics.json").write_text('{"epochs": [')
    result = run(["info", "--model", copy])
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {copy / 'metrics.json'}: cannot read it (")
    assert run(["info", "--model", tmp_path / "nothing.bin"]).exit_code == 1
    assert run(["info", "--model", tmp_path, "--format", "yaml"]).exit_code == 2


def test_info_notices_a_truncated_binary_file(model, tmp_path):
    data = (model / "vectors.bin").read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[: len(data) // 2])
    result = run(["info", "--model", cut])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {cut}: truncated: {len(data) // 2} bytes cannot hold the ")
    assert result.stdout == ""


# --- plots ------------------------------------------------------------------------------

MISSING = "Error: plotting needs matplotlib: pip install matplotlib\n"


@pytest.mark.parametrize("command", [["plot", "--model", "M", "paris"], ["plot-loss", "--model", "M"]])
def test_plots_without_matplotlib_say_how_to_install_it(model, tmp_path, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib…` fail
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    args = [model if a == "M" else a for a in command]
    result = run([*args, "--output", tmp_path / "x.png"])
    assert (result.exit_code, result.stderr, result.stdout) == (1, MISSING, "")
    assert not (tmp_path / "x.png").exists()


def _png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_png(model, tmp_path):
    pytest.importorskip("matplotlib", reason="plots need matplotlib, an optional extra: pip install matplotlib")
    result = run(["plot", "--model", model, "paris", "king", "-k", "4", "--output", tmp_path / "map.png"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {tmp_path / 'map.png'}\n"
    assert _png_size(tmp_path / "map.png") == (800, 600)
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # no temporary file left behind


def test_plot_unknown_words_and_formats(model, tmp_path):
    pytest.importorskip("matplotlib", reason="plots need matplotlib, an optional extra: pip install matplotlib")
    result = run(["plot", "--model", model, "--output", tmp_path / "map.svg", "-q"], input="paris\nxyzzy\n")
    assert (result.exit_code, result.stderr) == (1, "Error: 'xyzzy' is not in the vocabulary\n")
    assert (tmp_path / "map.svg").read_text().lstrip().startswith("<?xml")
    result = run(["plot", "--model", model, "xyzzy", "--output", tmp_path / "none.png"])
    assert result.exit_code == 1 and not (tmp_path / "none.png").exists()
    result = run(["plot", "--model", model, "paris", "--output", tmp_path / "map.jpg"])
    assert (result.exit_code, result.stderr) == (
        2, f"Error: cannot draw a .jpg file ({tmp_path / 'map.jpg'}); name it .png, .svg or .pdf\n")


def test_plot_loss(model, tmp_path):
    pytest.importorskip("matplotlib", reason="plots need matplotlib, an optional extra: pip install matplotlib")
    result = run(["plot-loss", "--model", model, "--output", tmp_path / "loss.png", "--quiet"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert _png_size(tmp_path / "loss.png") == (800, 600)
    result = run(["plot-loss", "--model", model / "vectors.bin", "--output", tmp_path / "x.png"])
    assert (result.exit_code, result.stderr) == (
        1, f"Error: {model / 'vectors.bin'}: no metrics.json; plot-loss needs a model directory written by w2v train\n")


def test_pca_2d_is_exact_on_a_plane():
    from word2vec.query import plot

    rng = np.random.default_rng(1)
    plane = rng.standard_normal((2, 6))
    coords = rng.standard_normal((30, 2)) * [3.0, 1.0]
    points, explained = plot.pca_2d(coords @ plane + 5.0)
    assert explained.sum() == pytest.approx(1.0)
    centred = coords @ plane - (coords @ plane).mean(axis=0)
    gram = centred @ centred.T  # a rotation of the plane keeps all pairwise inner products
    assert np.allclose(points @ points.T, gram)
    again, _ = plot.pca_2d(coords @ plane + 5.0)
    assert np.array_equal(points, again)


# --- naming the model -------------------------------------------------------------------

@pytest.mark.parametrize("command", [["info"], ["info", "--format", "json"], ["vectors", "paris"],
                                     ["export", "--format", "word2vec-txt", "-o", "OUT"], ["plot-loss", "-o", "OUT"],
                                     ["cluster", "-n", "2"], ["similar", "paris"], ["eval", "similarity", "PAIRS"]])
def test_every_command_finds_the_model_by_m_env_or_cwd(model, tmp_path, monkeypatch, command):
    """-m PATH, --model PATH, $W2V_MODEL and ./model name the same model, in that order of precedence."""
    if command[0] == "plot-loss":
        pytest.importorskip("matplotlib", reason="plots need matplotlib, an optional extra: pip install matplotlib")
    (tmp_path / "pairs.txt").write_text("paris france 9\nking queen 8\ndog cat 5\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("W2V_MODEL", raising=False)
    outputs = []
    for way, (args, env) in enumerate([(["-m", model], {}), (["--model", model], {}), ([], {"W2V_MODEL": str(model)}),
                                       ([], {"W2V_MODEL": ""})]):
        if way == 3:
            os.symlink(model, tmp_path / "model")
        paths = {"OUT": tmp_path / f"out{way}.{'png' if command[0] == 'plot-loss' else 'txt'}",
                 "PAIRS": tmp_path / "pairs.txt"}
        args = [paths.get(a, a) for a in command] + args
        result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
        assert result.exit_code == 0, result.output
        shown = "model" if way == 3 else str(model)  # info names the model as it was given
        outputs.append(result.stdout.replace(f'"path": "{shown}"', '"path": "M"').replace(f"{shown}: ", "M: "))
    assert outputs[1:] == outputs[:1] * 3
    result = CliRunner().invoke(cli, [*[str(a) for a in command], "-m", str(tmp_path / "nothing")])
    assert result.exit_code in (1, 2) and result.stderr.startswith(("Error: ", "Usage: "))


def test_info_export_plot_no_longer_take_the_model_as_an_argument(model, tmp_path):
    result = run(["info", model])
    assert result.exit_code == 2 and "Error: Got unexpected extra argument" in result.stderr
    result = run(["plot-loss", model, "-o", tmp_path / "x.png"])
    assert result.exit_code == 2 and not (tmp_path / "x.png").exists()


def test_cluster_classes_and_json(model):
    tsv = run(["cluster", "-m", model, "--classes", "3", "--seed", "4"])
    assert tsv.exit_code == 0 and tsv.stderr == ""
    rows = [line.split("\t") for line in tsv.stdout.splitlines()]
    assert len(rows) == len(load(model)) and {label for _, label in rows} == {"0", "1", "2"}
    result = run(["cluster", "-m", model, "-n", "3", "--seed", "4", "--format", "json"])
    assert [json.loads(line) for line in result.stdout.splitlines()] == [{"word": w, "class": int(c)} for w, c in rows]
    result = run(["cluster", "-m", model, "-k", "3"])
    assert result.exit_code == 2 and "Error: No such option '-k'." in result.stderr
