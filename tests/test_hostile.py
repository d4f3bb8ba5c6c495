"""Hostile input through the command line: each case ends in one `Error: …` line, fast, leaving the user's files as they were."""

import time

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from word2vec import config
from word2vec.cli import cli

ROOT = config.__file__.rsplit("/", 2)[0]
FAST = 5.0  # seconds; the cases that hang or grow without bound would take minutes


def run(args, input=None):
    started = time.perf_counter()
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    result.seconds = time.perf_counter() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def fails(args, status, message, input=None):
    """`w2v ARGS` exits with `status` and the one stderr line `Error: <message>` (or one containing it), fast."""
    result = run(args, input)
    assert result.exit_code == status, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert message in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0]
    assert result.seconds < FAST, result.seconds
    return lines[0]


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 30)
    return path


def train_fails(tmp_path, args, status, message):
    """`w2v train` fails as `fails` says and leaves the folder as it was (no model, no lock)."""
    before = snapshot(tmp_path)
    line = fails(["train", *args, "-o", tmp_path / "model", "-q"], status, message)
    assert snapshot(tmp_path) == before
    return line


# --- config values: every key has a range a real run could use --------------------------

@pytest.mark.parametrize("assignment, message", [
    ("model.window=100000000", "config key 'model.window' must be at most 1000; got 100000000"),
    ("model.negative=1000000000", "config key 'model.negative' must be at most 1000; got 1000000000"),
    ("train.threads=100000000", "config key 'train.threads' must be at most 1024; got 100000000"),
    ("model.ns_exponent=1000", "config key 'model.ns_exponent' must be at most 2.0; got 1000.0"),
    ("model.vector_size=1000000", "config key 'model.vector_size' must be at most 10000"),
    ("train.epochs=1000000000", "config key 'train.epochs' must be at most 1000"),
    ("vocab.sample=5", "config key 'vocab.sample' must be at most 1.0"),
    ("train.alpha=1e30", "config key 'train.alpha' must be at most 1.0"),
    ("corpus.max_sentence_length=10000000000", "config key 'corpus.max_sentence_length' must be at most 1000000"),
    ("vocab.max_size=10000000000", "config key 'vocab.max_size' must be at most 100000000"),
    ("train.checkpoint_every=1e12", "config key 'train.checkpoint_every' must be at most 31536000"),
    ("eval.restrict=10000000000", "config key 'eval.restrict' must be at most 100000000"),
])
def test_out_of_range_values_are_refused_before_anything_runs(tmp_path, corpus, assignment, message):
    train_fails(tmp_path, [corpus, "--set", assignment], 2, message)


def test_every_number_key_has_a_range():
    for section in config.SECTIONS.values():
        for f in config.dataclasses.fields(section):
            if f.metadata["min"] is not None:
                assert f.metadata["max"] is not None, f.name


def test_a_long_value_is_cut_in_the_message(tmp_path, corpus):
    line = train_fails(tmp_path, [corpus, "--set", "train.seed=" + "x" * 4000], 2, "must be an integer, got 'xxx")
    assert len(line) < 160


def test_a_long_unknown_key_is_cut_in_the_message(tmp_path, corpus):
    line = train_fails(tmp_path, [corpus, "--set", "train." + "e" * 5000 + "=1"], 2, "unknown config key 'train.eee")
    assert len(line) < 300  # the key cut to 80 characters, then the list of the section's keys


def test_unknown_key_lists_the_keys_of_its_section(tmp_path, corpus):
    train_fails(tmp_path, [corpus, "--set", "model.windw=3"], 2,
                "unknown config key 'model.windw' (did you mean 'model.window'?); the keys of model are arch, "
                "loss, vector_size, window, negative, ns_exponent, cbow_mean")


# --- YAML: alias bombs, nesting, duplicate keys --------------------------------------------

BOMB = "[&a [1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b], " \
       "&d [*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]]"


def test_alias_bomb_in_set_is_refused_fast(tmp_path, corpus):
    line = train_fails(tmp_path, [corpus, "--set", "eval.similarity=" + BOMB], 2,
                       "more than 10000 values once its aliases are expanded")
    assert line.startswith("Error: --set eval.similarity: cannot parse value '[&a [1,")


def test_alias_bomb_in_a_config_file_is_refused_fast(tmp_path, corpus):
    (tmp_path / "bomb.yaml").write_text(f"eval:\n  similarity: {BOMB}\n")
    train_fails(tmp_path, [corpus, "--config", tmp_path / "bomb.yaml"], 2,
                f"config file {tmp_path / 'bomb.yaml'}: more than 10000 values once its aliases are expanded")


def test_recursive_alias_is_refused(tmp_path, corpus):
    train_fails(tmp_path, [corpus, "--set", "eval.similarity=&a [*a]"], 2, "an alias refers to the value that holds it")


def test_deep_nesting_is_refused(tmp_path, corpus):
    train_fails(tmp_path, [corpus, "--set", "eval.similarity=" + "[" * 100000], 2, "is longer than 4096 characters")
    train_fails(tmp_path, [corpus, "--set", "eval.similarity=" + "[" * 50], 2, "nested deeper than 10 levels")


def test_huge_config_file_is_refused_unread(tmp_path, corpus):
    (tmp_path / "big.yaml").write_text("# padding\n" * 200_000)
    train_fails(tmp_path, [corpus, "--config", tmp_path / "big.yaml"], 2, "is larger than 1 MiB")


@pytest.mark.parametrize("text, message", [
    ("model:\n  window: 3\ntrain:\n  epochs: 2\nmodel:\n  negative: 4\n", "'model' appears twice (lines 1 and 5)"),
    ("train:\n  epochs: 2\n  epochs: 3\n", "'epochs' appears twice (lines 2 and 3)"),
])
def test_duplicate_sections_and_keys_are_refused(tmp_path, corpus, text, message):
    (tmp_path / "dup.yaml").write_text(text)
    train_fails(tmp_path, [corpus, "--config", tmp_path / "dup.yaml"], 2, message)


# --- paths in a config file, and `w2v config` ---------------------------------------------

def test_paths_in_a_config_file_are_relative_to_its_folder(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pairs.tsv").write_text("a\tb\t1\n")
    path = tmp_path / "configs" / "c.yaml"
    path.write_text("eval:\n  analogy: ../data/q.txt\n  similarity: [../data/pairs.tsv, /abs/p.tsv]\n")
    monkeypatch.chdir(tmp_path / "data")
    cfg = config.resolve("../configs/c.yaml", ["eval.analogy=mine.txt"])
    assert cfg.eval.similarity == ["pairs.tsv", "/abs/p.tsv"]
    assert cfg.eval.analogy == "mine.txt"  # --set stays relative to the working directory
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert config.resolve(path).eval.similarity == [str(tmp_path / "data" / "pairs.tsv"), "/abs/p.tsv"]


def test_bundled_demo_config_finds_its_questions_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config.resolve(f"{ROOT}/configs/demo.yaml")
    with open(cfg.eval.analogy) as handle:
        assert handle.readline().startswith(":")


def test_config_command_prints_the_defaults_with_comments():
    result = run(["config"])
    assert result.exit_code == 0 and result.stderr == ""
    assert config.from_dict(yaml.safe_load(result.stdout)) == config.Config()
    keys = [line for line in result.stdout.splitlines() if line.startswith("  ")]
    assert len(keys) == len(config._all_keys())
    assert all(" # " in line for line in keys)
    assert "  window: 5" in result.stdout and "(1 to 1000)" in result.stdout


# --- gradcheck --------------------------------------------------------------------------

def test_gradcheck_negative_seed_is_a_usage_error():
    result = run(["gradcheck", "--seed", "-1"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: Invalid value for '--seed': -1 is not in the range 0<=x<=4294967295."


# --- vocabulary counts --------------------------------------------------------------------

def test_merge_of_counts_past_int64_is_one_error(tmp_path):
    shards = [tmp_path / f"shard{i}.tsv" for i in range(11)]  # each near 10^18, their sum past 2^63
    for shard in shards:
        shard.write_text("the\t900000000000000000\ncat\t3\n")
    before = snapshot(tmp_path)
    fails(["vocab", "--merge", *shards], 1,
          "the merged counts add up to more than 9223372036854775807 (2^63 - 1), more than w2v can count "
          "('the' alone has 9900000000000000000)")
    assert snapshot(tmp_path) == before


def test_vocab_file_whose_counts_sum_past_int64_is_refused(tmp_path, corpus):
    (tmp_path / "v.tsv").write_text("".join(f"w{i}\t900000000000000000\n" for i in range(11)))
    train_fails(tmp_path, [corpus, "--vocab", tmp_path / "v.tsv"], 1,
                f"{tmp_path / 'v.tsv'}: the counts add up to more than 9223372036854775807")


@pytest.mark.parametrize("count", ["-5", "1.5", "1e3", "99999999999999999999", "\x1b[31m"])
def test_vocab_counts_that_are_not_whole_numbers(tmp_path, corpus, count):
    (tmp_path / "v.tsv").write_text(f"the\t{count}\n")
    line = train_fails(tmp_path, [corpus, "--vocab", tmp_path / "v.tsv"], 1, "line 1: count '")
    assert "is not a whole number from 0 to 10^18 - 1" in line and "b'" not in line


def test_vocab_with_all_zero_counts_is_refused_before_training(tmp_path, corpus):
    (tmp_path / "v.tsv").write_text("the\t0\ncat\t0\n")
    train_fails(tmp_path, [corpus, "--vocab", tmp_path / "v.tsv"], 1, "every count in the vocabulary is 0")


@pytest.mark.parametrize("exponent", ["-2", "2"])
def test_zero_counts_and_extreme_exponents_give_finite_tables_and_no_warning(tmp_path, corpus, exponent):
    (tmp_path / "v.tsv").write_text("the\t0\ncat\t7\nsat\t900000000000000000\non\t1\n")
    result = run(["train", corpus, "--vocab", tmp_path / "v.tsv", "-o", tmp_path / "m", "-q",
                  "--set", f"model.ns_exponent={exponent}", "--set", "train.epochs=1", "--set", "model.vector_size=4"])
    assert result.exit_code == 0 and result.stderr == "", result.stderr


# --- model files: non-finite vectors, repeated words, files of other programs --------------

def write_vectors(path, rows, binary):
    """A C-format file of (word, values) rows, written by hand so that NaN and repeats get in."""
    import numpy as np
    out = [f"{len(rows)} {len(rows[0][1])}\n".encode()]
    for word, values in rows:
        if binary:
            out.append(word.encode() + b" " + np.asarray(values, "<f4").tobytes() + b"\n")
        else:
            out.append((word + " " + " ".join(str(v) for v in values) + "\n").encode())
    path.write_bytes(b"".join(out))
    return path


ROWS = [("king", [1.0, 0.0]), ("queen", [0.9, 0.1]), ("man", [0.5, 0.5])]


@pytest.mark.parametrize("suffix", [".txt", ".bin"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_model_file_with_a_non_finite_vector_names_the_word(tmp_path, suffix, value):
    rows = ROWS + [("bad\x1bword", [value, 1.0])]
    path = write_vectors(tmp_path / f"v{suffix}", rows, suffix == ".bin")
    fails(["similar", "king", "--model", path], 1,
          f"{path}: the vector of 'bad\\x1bword' (record 4) holds NaN or infinity; w2v loads finite vectors only")


@pytest.mark.parametrize("suffix", [".txt", ".bin"])
def test_model_file_with_a_repeated_word_is_refused(tmp_path, suffix):
    path = write_vectors(tmp_path / f"v{suffix}", ROWS + [("queen", [0.0, 1.0])], suffix == ".bin")
    fails(["similar", "king", "--model", path], 1,
          f"{path}: 'queen' is listed twice (records 2 and 4); w2v needs each word once")
    fails(["export", "-m", path, "--format", "npy", "-o", tmp_path / "out"], 1, "'queen' is listed twice")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, head, message", [
    ("w.model", b"\x80\x04\x95\x10\x00\x00\x00\x00", "a gensim pickle file: w2v never loads pickles; in gensim run "
                                                     "`kv.save_word2vec_format(path, binary=True)`"),
    ("w.kv", b"\x80\x02cgensim.models", "a gensim pickle file: w2v never loads pickles"),
    ("cc.en.300.bin", (793712314).to_bytes(4, "little") + (12).to_bytes(4, "little"),
     "corrupt fastText .bin header (dim 0, bucket 0, minn 0, maxn 0)"),
    ("vectors.npy", b"\x93NUMPY\x01\x00", "a .npy array without words; give its model directory"),
])
def test_files_of_other_programs_are_named(tmp_path, name, head, message):
    path = tmp_path / name
    path.write_bytes(head + bytes(200))
    fails(["similar", "king", "--model", path], 1, f"{path}: {message}")


def test_no_python_keyword_in_loader_errors(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("king 1 0 0\nqueen 0 1 0\n")
    line = fails(["similar", "king", "--model", path], 1, "needs --no-header")
    assert "header=" not in line
    line = fails(["export", "-m", write_vectors(tmp_path / "v.bin", ROWS, True), "--no-header", "--format", "npy",
                  "-o", tmp_path / "o"], 2, "--no-header is for text files")
    assert "header=" not in line


# --- tampered checkpoints -------------------------------------------------------------------

@pytest.fixture
def interrupted(tmp_path, corpus):
    """A run stopped after its first job: its folder holds checkpoint.npz."""
    import signal

    from word2vec.training import loop as training
    from word2vec.errors import Interrupted

    def stop(trainer, state):
        trainer.stop_signal = signal.SIGINT

    cfg = config.resolve(None, ["train.threads=1", "model.vector_size=4", "train.epochs=3", "vocab.min_count=1",
                                "train.checkpoint_every=0"])
    quiet = training.Reporter(progress=False, log=lambda message: None)
    with pytest.raises(Interrupted):
        training.train([str(corpus)], cfg, str(tmp_path / "run"), quiet, hooks=training.Hooks(on_job=stop))
    return tmp_path / "run"


def tamper(folder, change):
    from word2vec.training import checkpoint

    arrays, meta = checkpoint.load_checkpoint(str(folder))
    change(arrays, meta)
    checkpoint.save_checkpoint(str(folder), arrays, meta)


def resume_fails(folder, problem):
    before = snapshot(folder)
    line = fails(["train", "--resume", folder, "-q"], 1, f"{folder / 'checkpoint.npz'}: corrupt checkpoint ({problem}")
    assert snapshot(folder) == before
    return line


def _set(key, value):
    def change(arrays, meta):
        meta[key] = value
    return change


def _negate_count(arrays, meta):
    arrays["counts"][0] = -5


def _nan_tally(arrays, meta):
    arrays["tallies"][0, 0] = float("nan")


def _nan_weight(arrays, meta):
    arrays["w_in"][1, 0] = float("inf")


def _nan_metric(arrays, meta):
    meta["metrics"][0]["seconds"] = float("nan")


def _prior(rows_short=0, extra_count=0, counts=True):
    """Give the checkpoint the model a continued run starts from, damaged as asked."""
    def change(arrays, meta):
        arrays["prior_w_in"] = np.zeros((len(arrays["w_in"]) - rows_short, arrays["w_in"].shape[1]), np.float32)
        if counts:
            arrays["prior_counts"] = arrays["counts"] + extra_count
    return change


@pytest.mark.parametrize("change, problem", [
    (_negate_count, "negative word counts"),
    (_nan_tally, "tallies that are negative, NaN or infinite"),
    (_nan_weight, "w_in holds NaN or infinity"),
    (_set("epoch_seconds", float("nan")), "epoch_seconds nan is not a finite number of seconds"),
    (_set("epoch_seconds", float("inf")), "epoch_seconds inf is not a finite number of seconds"),
    (_set("epoch_seconds", -3.0), "epoch_seconds -3.0 is not a finite number of seconds"),
    (_nan_metric, "metrics entry {"),
    (_set("metrics", []), "0 epochs of metrics for 1 finished epochs"),
    (_set("threads", 100_000_000), "bad words, paths, threads, epoch or job"),
    (_prior(rows_short=1), "prior_w_in should be float32 ("),
    (_prior(counts=False), "prior_counts should be int64 ("),
    (_prior(extra_count=1), "prior_counts below 0 or above the counts"),
])
def test_tampered_checkpoint_values_are_refused(interrupted, change, problem):
    tamper(interrupted, change)
    resume_fails(interrupted, problem)


def test_checkpoint_job_past_the_end_is_refused(interrupted):
    tamper(interrupted, _set("job", 1_000_000))
    resume_fails(interrupted, "job 1000000, but an epoch of this corpus has 1 jobs")


def test_checkpoint_with_a_huge_zip_member_is_refused_unread(interrupted):
    import zipfile

    path = interrupted / "checkpoint.npz"
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    header = members["w_in.npy"][:128]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, header + bytes(200 << 20) if name == "w_in.npy" else data)
    assert path.stat().st_size < 2 << 20  # 200 MB of zeros deflate to a fraction of a MB
    line = resume_fails(interrupted, "'w_in.npy' claims 2097")
    assert "it was not written by w2v" in line


def test_a_checkpoint_from_before_alpha_schedule_resumes_on_the_linear_schedule(interrupted):
    from word2vec.training import checkpoint

    def drop_the_key(arrays, meta):
        del meta["config"]["train"]["alpha_schedule"]

    assert checkpoint.load_checkpoint(str(interrupted))[1]["config"]["train"]["alpha_schedule"] == "halves"
    tamper(interrupted, drop_the_key)
    assert checkpoint.load_checkpoint(str(interrupted))[1]["config"]["train"]["alpha_schedule"] == "linear"

