"""The Dask cluster: addresses, corpora by URL, counting on the workers, training in synchronous rounds."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from word2vec.cli import cli

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")
pytest.importorskip("fsspec", reason="the dask extra is not installed (pip install -e '.[dask]')")

from word2vec.distributed import connect, vocab as cluster_vocab  # noqa: E402


def run(args, env=None):
    return CliRunner().invoke(cli, args, env=env)


@pytest.fixture(scope="module")
def scheduler():
    """The address of one LocalCluster of 2 single-threaded worker processes, shared by the module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster:
        yield cluster.scheduler_address


MIXED = ("the cat sat on the mat\n  the dog\tsat\r\n\n\u00c9cole \u00e9cole x\xa0y\u2028z\n" * 7
         + "a " * 1200 + "\nlast line without newline").encode() + b" \xff\xfe bad\n"


def test_nothing_of_dask_is_imported_without_a_cluster(tmp_path):
    code = textwrap.dedent("""
        import sys
        import word2vec, word2vec.api
        from word2vec.cli import cli
        from click.testing import CliRunner
        result = CliRunner().invoke(cli, ["vocab", sys.argv[1]])
        assert result.exit_code == 0, result.output
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed", "fsspec"))
        print(loaded)
    """)
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    out = subprocess.run([sys.executable, "-c", code, str(corpus)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["vocab", "phrases", "train"])
def test_a_missing_extra_gets_one_line_with_the_fix(tmp_path, command):
    code = textwrap.dedent("""
        import sys
        sys.modules["distributed"] = None  # as if it were not installed
        from word2vec.cli import main
        sys.argv = ["w2v", *sys.argv[1:], "--cluster", "local:1"]
        main()
    """)
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    output = ["-o", str(tmp_path / "model")] if command == "train" else []
    out = subprocess.run([sys.executable, "-c", code, command, str(corpus), *output], capture_output=True, text=True)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == ("Error: --cluster needs the dask extra (distributed is not installed); "
                          "install it with: pip install dask distributed fsspec\n")
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("argv,env,preload", [
    (["train", "c.txt", "--cluster", "local:2"], {}, connect._PRELOAD + connect.TRAINING),
    (["vocab", "c.txt", "--cluster=local:2x2"], {}, connect._PRELOAD),
    (["phrases", "c.txt"], {"W2V_CLUSTER": "local:1"}, connect._PRELOAD),
    (["train", "c.txt", "--cluster", "tcp://host:8786"], {}, None),
    (["train", "c.txt", "--cluster", "local:2", "--cluster", "tcp://host:8786"], {}, None),  # the last one counts
    (["train", "c.txt", "--cluster"], {}, None),
    (["similar", "king", "--cluster", "local:2"], {}, None),
    ([], {"W2V_CLUSTER": "local:2"}, None),
])
def test_the_forkserver_starts_early_only_for_a_local_cluster(monkeypatch, argv, env, preload):
    started = []
    monkeypatch.setattr(connect, "_start_forkserver", started.append)
    monkeypatch.setattr(connect, "_start_method", lambda: "forkserver")
    connect.start_early(argv, env)
    assert started == ([preload] if preload else [])


def test_a_local_cluster_sends_each_message_at_once():
    """Dask batches the messages that follow each other within 2-10 ms; a round waits on each, so the streams
    of a LocalCluster started here (client, scheduler, workers) send at once."""
    with connect.connect("local:2") as client:
        assert client.scheduler_comm.interval == 0
        assert set(client.run(lambda dask_worker=None: dask_worker.batched_stream.interval).values()) == {0}
        assert set(client.run_on_scheduler(
            lambda dask_scheduler=None: [s.interval for s in dask_scheduler.stream_comms.values()])) == {0}


def test_the_command_line_starts_the_forkserver_before_its_own_imports(tmp_path):
    code = textwrap.dedent("""
        import sys
        from word2vec.distributed import connect
        def started(preload):
            print("click" in sys.modules, "word2vec.api" in sys.modules, "numba" in preload)
            sys.exit(0)
        connect._start_forkserver, connect._start_method = started, lambda: "forkserver"
        sys.argv = ["w2v", "train", "c.txt", "--cluster", "local:2"]
        from word2vec.__main__ import main
        main()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert (out.returncode, out.stdout) == (0, "False False True\n"), out.stderr


COMMANDS = {"vocab": ["vocab"], "phrases": ["phrases"], "train": ["train", "--epochs", "1", "--min-count", "1"]}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("address", ["bogus", "local:", "local:0", "local:2x0", "local:2y3", "tcp:/x"])
def test_a_bad_address_is_one_line_and_exit_2(write_corpus, tmp_path, command, address):
    output = ["-o", str(tmp_path / "model")] if command == "train" else []
    result = run([*COMMANDS[command], str(write_corpus("a b\n")), *output, "--cluster", address])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --cluster ")
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("command", ["phrases", "train"])
def test_an_unreachable_scheduler_is_one_line_for_every_command(write_corpus, tmp_path, monkeypatch, command):
    monkeypatch.setattr(connect, "CONNECT_TIMEOUT", "0.5s")
    output = ["-o", str(tmp_path / "model")] if command == "train" else []
    result = run([command, str(write_corpus("a b\n")), *output, "--cluster", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def test_the_address_can_come_from_the_environment(write_corpus):
    result = run(["vocab", str(write_corpus("a b\n"))], env={"W2V_CLUSTER": "nonsense"})
    assert result.exit_code == 2 and "'nonsense' is not a cluster address" in result.output


def test_an_unreachable_scheduler_is_one_line_quickly(write_corpus):
    result = run(["vocab", str(write_corpus("a b\n")), "--cluster", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9 (Timed out trying to connect to "
        "tcp://127.0.0.1:9 after 5 s); start it with `dask scheduler` and workers with "
        "`dask worker tcp://127.0.0.1:9`, or check the address"]


def test_parse_address():
    assert connect.parse_address("local:3") == ("local", 3, 1)
    assert connect.parse_address("local:2x4") == ("local", 2, 4)
    assert connect.parse_address("tcp://10.0.0.1:8786") == ("remote", "tcp://10.0.0.1:8786", None)


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".xz"])
def test_cluster_counts_print_exactly_what_a_local_count_prints(scheduler, write_corpus, suffix):
    path = str(write_corpus(MIXED, suffix))
    local = run(["vocab", path, "--lowercase"])
    assert local.exit_code == 0
    on_cluster = run(["vocab", path, "--lowercase", "--cluster", scheduler])
    assert on_cluster.exit_code == 0, on_cluster.output
    assert on_cluster.output == local.output


def test_small_blocks_count_as_one_pass_does(scheduler, write_corpus):
    from word2vec.text import corpus

    path = write_corpus(MIXED)
    with distributed.Client(scheduler) as client:
        words, counts, table = cluster_vocab.count_words(client, [str(path)], block_bytes=97)
    scan = corpus.scan([str(path)], str(path.parent))
    assert dict(zip(words, counts.tolist())) == dict(zip(scan.words, scan.counts.tolist()))
    assert table.bad_bytes == scan.bad_bytes == 2 and table.pruned_words == 0


def test_pruning_keeps_the_table_bounded_and_is_reported(scheduler, write_corpus):
    text = "".join(f"common rare{i}\n" for i in range(300))
    path = write_corpus(text)
    with distributed.Client(scheduler) as client:
        words, counts, table = cluster_vocab.count_words(client, [str(path)], max_words=50, block_bytes=200)
    assert dict(zip(words, counts.tolist())) == {"common": 300}
    assert table.pruned_words > 0
    assert "rare word entries were pruned" in cluster_vocab.pruning_note(table)


def test_file_urls_and_globs_and_memory_urls(scheduler, tmp_path, write_corpus):
    import fsspec

    write_corpus("a b b\n", name="part1.txt")
    write_corpus("b c\n", name="part2.txt")
    expected = "b\t3\na\t1\nc\t1\n"
    result = run(["vocab", f"file://{tmp_path}/part*.txt", "--cluster", scheduler])
    assert (result.exit_code, result.output) == (0, expected)
    # memory:// lives in one process, so the workers must share it: a cluster of threads in this process
    with fsspec.open("memory://w2v-test/corpus.txt", "wb") as handle:
        handle.write(b"a b b\nb c\n")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        result = run(["vocab", "memory://w2v-test/corpus.txt", "--cluster", cluster.scheduler_address])
    assert (result.exit_code, result.output) == (0, expected)


def test_a_missing_file_and_stdin_are_one_line(scheduler, tmp_path):
    result = run(["vocab", str(tmp_path / "nope*.txt"), "--cluster", scheduler])
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope*.txt'}: no such file (or no file matches the pattern)\n"
    result = run(["vocab", "-", "--cluster", scheduler])
    assert result.exit_code == 1 and result.output.startswith("Error: a cluster's workers read the corpus")


DEMO = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "demo_corpus.txt")
DEMO_CONFIG = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "configs" / "demo.yaml")


@pytest.mark.parametrize("arch,loss,extra", [
    ("skipgram", "neg", ["--set", "train.sync_words=100000"]),
    ("cbow", "hs", ["--epochs", "2"]),
    ("skipgram", "softmax", ["--epochs", "1", "--dim", "10"]),  # the exact softmax: a small model
])
def test_training_on_the_cluster_saves_a_model_as_a_local_run_does(scheduler, tmp_path, arch, loss, extra):
    output = tmp_path / "model"
    result = run(["train", DEMO, "--config", DEMO_CONFIG, "-o", str(output), "--cluster", scheduler,
                  "--arch", arch, "--loss", loss, *extra])
    assert result.exit_code == 0, result.output
    assert {p.name for p in output.iterdir()} >= {"vectors.npy", "vocab.tsv", "config.yaml", "metrics.json",
                                                  "vectors.bin", "vectors.txt", "w_out.npy"}
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["workers"] == 2
    epoch = metrics["epochs"][-1]
    assert epoch["rounds"] >= 1 and epoch["bytes_per_round"] > 0 and epoch["sync_seconds"] >= 0
    if arch == "skipgram" and loss == "neg":
        assert epoch["rounds"] == 10  # 430k tokens, 100k words a full sync over both workers, each after a partial
        total = metrics["analogy"]["sections"][-1]
        assert total["section"] == "total" and total["accuracy"] > 0.8, total


def test_topic_words_find_their_neighbours_reading_a_file_url(scheduler, tmp_path, write_corpus):
    from word2vec import api

    rng = np.random.default_rng(0)
    topics = [[f"t{t}w{i}" for i in range(8)] for t in range(4)]
    lines = [" ".join(rng.choice(topics[rng.integers(4)], 12)) for _ in range(3000)]
    path = write_corpus("\n".join(lines) + "\n")
    output = tmp_path / "model"
    result = run(["train", f"file://{path}", "-o", str(output), "--cluster", scheduler, "--dim", "20",
                  "--epochs", "3", "--min-count", "1", "--sample", "0", "--set", "train.sync_words=10000"])
    assert result.exit_code == 0, result.output
    model = api.load_model(str(output))
    for topic in topics:
        neighbours = [word for word, _ in model.most_similar(topic[0], topn=5)]
        assert all(word in topic for word in neighbours), (topic[0], neighbours)


def test_cut_pieces_add_up_and_end_at_newlines_or_else_spaces():
    from word2vec.distributed import blocks

    lines = b"".join(b"w%d x y\n" % i for i in range(100))
    pieces = [blocks.cut(lines, k, 3) for k in range(3)]
    assert b"".join(pieces) == lines
    assert all(piece.endswith(b"\n") for piece in pieces) and all(200 < len(piece) < 350 for piece in pieces)
    one_line = b" ".join(b"w%d" % i for i in range(300))
    pieces = [blocks.cut(one_line, k, 4) for k in range(4)]
    assert b"".join(pieces) == one_line and all(piece.endswith(b" ") for piece in pieces[:3])
    assert max(map(len, pieces)) - min(map(len, pieces)) < 10
    assert [blocks.cut(b"abc", k, 2) for k in range(2)] == [b"abc", b""]  # nowhere to cut
    assert [blocks.cut(b"", k, 2) for k in range(2)] == [b"", b""]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_a_one_line_corpus_spreads_over_the_workers_and_counts_as_one_pass_does(scheduler, write_corpus, suffix):
    """text8 is one line: a plain file without newlines is cut on spaces, a compressed file in pieces once read,
    so each worker counts and trains its share; the counts are those of a local count."""
    from word2vec.distributed import blocks
    from word2vec.text import corpus

    rng = np.random.default_rng(1)
    path = write_corpus(" " + " ".join(f"w{i}" for i in rng.zipf(1.5, 40_000) % 5000), suffix)
    units = blocks.units(blocks.expand([str(path)]), 4096, 2)
    assert len(units) == 2 if suffix else len(units) > 10
    with distributed.Client(scheduler) as client:
        sizes = [len(data) for data in client.gather(client.compute(units))]
        words, counts, _ = cluster_vocab.count_words(client, [str(path)], block_bytes=4096)
    assert min(sizes) > 0.4 * max(sizes)
    scan = corpus.scan([str(path)], str(path.parent))
    assert dict(zip(words, counts.tolist())) == dict(zip(scan.words, scan.counts.tolist()))


def test_a_one_line_compressed_corpus_trains_on_every_worker(scheduler, tmp_path, write_corpus):
    path = write_corpus(Path(DEMO).read_text().replace("\n", " "), ".gz")
    output = tmp_path / "model"
    result = run(["train", str(path), "--config", DEMO_CONFIG, "-o", str(output), "--cluster", scheduler,
                  "--set", "train.sync_words=100000"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((output / "metrics.json").read_text())
    assert len(metrics["shard_words"]) == 2 and min(metrics["shard_words"]) > 0.45 * sum(metrics["shard_words"])
    total = metrics["analogy"]["sections"][-1]
    assert total["section"] == "total" and total["accuracy"] > 0.8, total


def test_resume_on_a_cluster_without_a_checkpoint_is_one_line(scheduler, tmp_path):
    result = run(["train", "--resume", str(tmp_path / "m"), "--cluster", scheduler])
    assert result.exit_code == 1 and result.output == f"Error: no checkpoint to resume from in {tmp_path / 'm'} " \
                                                      "(looked for checkpoint.npz)\n"
    assert not (tmp_path / "m").exists()


def test_merge_adds_up_the_deltas_of_a_row_two_workers_touched():
    from word2vec.distributed.deltas import merge

    a = (np.array([3, 1], np.int32), np.array([[1.0, 1.0], [2.0, 2.0]], np.float32))
    b = (np.array([1, 5], np.int32), np.array([[4.0, 0.0], [3.0, 3.0]], np.float32))
    rows, deltas = merge([a, b])
    assert rows.tolist() == [1, 3, 5] and deltas.dtype == np.float16  # as it travels: see deltas.WIRE
    np.testing.assert_allclose(deltas, [[6.0, 2.0], [1.0, 1.0], [3.0, 3.0]])
    empty = (np.zeros(0, np.int32), np.zeros((0, 2), np.float32))
    assert [len(part) for part in merge([empty, empty])] == [0, 0]


def test_deltas_travel_in_half_precision_and_apply_exactly():
    from word2vec.distributed.deltas import take

    base = np.zeros((6, 4), np.float32)
    current = base.copy()
    deltas = np.array([[1e-3, -0.25, 3.0001, 1e-9]], np.float32)
    current[4] = deltas[0]
    rows, wire = take(current, base)
    assert rows.tolist() == [4] and wire.dtype == np.float16 and wire.nbytes == deltas.nbytes // 2
    np.testing.assert_allclose(wire, deltas, rtol=2.0 ** -11, atol=6e-8)  # 11 bits kept; below 6e-8 is 0
    assert np.array_equal(wire.astype(np.float32).astype(np.float16), wire)  # exact again in float32


def test_merge_moves_a_row_at_most_twice_its_mean_delta():
    from word2vec.distributed.deltas import merge

    parts = [(np.array([0, 1], np.int32), np.array([[3.0], [1.0]], np.float32)) for _ in range(3)]
    parts.append((np.array([0], np.int32), np.array([[7.0]], np.float32)))
    rows, deltas = merge(parts)
    assert rows.tolist() == [0, 1]
    np.testing.assert_allclose(deltas, [[2 * 16.0 / 4], [2 * 3.0 / 3]])  # 2 × the mean of 4 and of 3 workers


PHRASED = MIXED + ("new york is big\nin new york now\nnew  york\tnew york\n" * 6).encode() + b"york new\n"


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_cluster_phrases_write_exactly_what_a_local_run_writes(scheduler, write_corpus, tmp_path, suffix):
    path = str(write_corpus(PHRASED, suffix))
    args = ["phrases", path, "--lowercase", "--min-count", "2", "--threshold", "1"]
    local = run([*args, "--save-phrases", str(tmp_path / "local.tsv")])
    assert local.exit_code == 0
    on_cluster = run([*args, "--save-phrases", str(tmp_path / "cluster.tsv"), "--cluster", scheduler])
    assert on_cluster.exit_code == 0, on_cluster.output
    assert on_cluster.stdout_bytes == local.stdout_bytes
    assert (tmp_path / "cluster.tsv").read_bytes() == (tmp_path / "local.tsv").read_bytes()
    assert "new_york" in (tmp_path / "local.tsv").read_text()


def test_small_blocks_find_and_join_the_phrases_of_one_pass(scheduler, write_corpus):
    import io

    from word2vec.distributed import phrases as cluster_phrases
    from word2vec.text import phrases

    first, second = write_corpus(PHRASED), write_corpus(b"new york\nyork new york\n" * 9)
    options = phrases.PhraseOptions(min_count=2, threshold=0.5)
    local_out, cluster_out = io.BytesIO(), io.BytesIO()
    local_counts, local_found = phrases.run([str(first), str(second)], local_out, options)
    with distributed.Client(scheduler) as client:
        counts, found = cluster_phrases.run(client, [str(first), str(second)], cluster_out, options,
                                            block_bytes=97, window=3)
    assert cluster_out.getvalue() == local_out.getvalue()
    assert counts.n_tokens == local_counts.n_tokens
    assert phrases.phrase_rows(counts, found) == phrases.phrase_rows(local_counts, local_found)
    local_pairs = {(a, b): n for (a, b), n in zip(_pairs(local_counts), local_counts.pair_counts.tolist())}
    assert dict(zip(_pairs(counts), counts.pair_counts.tolist())) == local_pairs


def _pairs(counts):
    words = list(counts.index)
    return [(words[k >> 32], words[k & 0xFFFFFFFF]) for k in counts.pair_keys.tolist()]


def test_phrase_counts_are_pruned_in_bounded_tables_and_reported(scheduler, write_corpus):
    from word2vec.distributed import phrases as cluster_phrases
    from word2vec.text import phrases

    path = write_corpus("".join(f"new york rare{i} pair{i}\n" for i in range(300)))
    options = phrases.PhraseOptions(min_count=2, max_pairs=40)
    with distributed.Client(scheduler) as client:
        table = cluster_phrases.count(client, [str(path)], options, max_words=60, block_bytes=300)
    counts = dict(zip(table.words, table.word_counts.tolist()))
    assert len(table.words) <= 60 and len(table.pair_keys) <= 40
    assert counts["new"] == counts["york"] == 300 and table.words_pruned > 0 and table.pairs_pruned
    words = table.words
    assert {(words[k >> 32], words[k & 0xFFFFFFFF]) for k in table.pair_keys.tolist()} == {("new", "york")}
    note = cluster_phrases.pruning_note(table, 40)
    assert "more than 40 distinct pairs" in note and "rare word entries were pruned" in note


def test_phrases_read_file_and_memory_urls(scheduler, tmp_path, write_corpus):
    import fsspec

    text = b"new york is big\nin new york\nnew york\n" * 3
    write_corpus(text[:40], name="part1.txt")
    write_corpus(text[40:], name="part2.txt")
    args = ["--min-count", "2", "--threshold", "1"]
    local = run(["phrases", str(tmp_path / "part1.txt"), str(tmp_path / "part2.txt"), *args])
    assert local.exit_code == 0 and "new_york" in local.stdout
    result = run(["phrases", f"file://{tmp_path}/part*.txt", *args, "--cluster", scheduler])
    assert (result.exit_code, result.stdout) == (0, local.stdout)
    with fsspec.open("memory://w2v-test/phrases.txt", "wb") as handle:
        handle.write(text)
    whole = run(["phrases", str(write_corpus(text)), *args])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        result = run(["phrases", "memory://w2v-test/phrases.txt", *args, "--cluster", cluster.scheduler_address])
    assert (result.exit_code, result.stdout) == (0, whole.stdout)


def test_cluster_phrases_refuse_stdin_and_binary_files_in_one_line(scheduler, write_corpus):
    result = run(["phrases", "-", "--cluster", scheduler])
    assert result.exit_code == 1 and result.output.startswith("Error: a cluster's workers read the corpus")
    result = run(["phrases", str(write_corpus(b"a b\0c\n")), "--cluster", scheduler])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].endswith("looks like a binary file (it holds NUL bytes), not text")


def test_the_compiled_float16_rounding_is_numpys():
    """`delta_kernels.half_bits` rounds as numpy's astype(float16): random bit patterns (NaN, inf, subnormals
    and all), the halfway ties, and the edges of the half's range."""
    from numba import njit

    from word2vec.distributed.delta_kernels import half_bits

    @njit
    def rounded(bits, out):
        for i in range(bits.shape[0]):
            out[i] = half_bits(bits[i])

    rng = np.random.default_rng(7)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, 65519.0, 65520.0, 2.0 ** -25, 2.0 ** -24,
                      3 * 2.0 ** -25, 2.0 ** -14, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11], np.float32)
    values = np.concatenate([rng.integers(0, 2 ** 32, 300_000, dtype=np.uint64).astype(np.uint32).view(np.float32),
                             (rng.standard_normal(100_000) * 1e-5).astype(np.float32), edges, -edges])
    out = np.empty(len(values), np.uint16)
    rounded(values.view(np.uint32), out)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = values.astype(np.float16).view(np.uint16)
    assert np.array_equal(out, expected)


def test_taking_and_applying_deltas_match_numpy():
    """`deltas.take` sends exactly the changed rows, rounded to float16, and puts them back; `deltas.apply` adds
    them in float32 and copies them to the working weights, as numpy's fancy indexing does."""
    from word2vec.distributed import deltas as deltas_mod
    from word2vec.training import padding

    rng = np.random.default_rng(3)
    base = rng.standard_normal((50, 13)).astype(np.float32)
    current = padding.copy(base)
    changed = np.array([2, 7, 8, 31, 49])
    current[changed] += rng.standard_normal((5, 13)).astype(np.float32) * 1e-3
    current[20, 4] = np.nan  # a diverged value still travels
    expected = current[sorted([*changed, 20])] - base[sorted([*changed, 20])]
    rows, deltas = deltas_mod.take(current, base)
    assert rows.tolist() == sorted([*changed, 20]) and deltas.dtype == np.float16
    np.testing.assert_array_equal(deltas, expected.astype(np.float16))
    np.testing.assert_array_equal(current, base)
    only = deltas_mod.take(current, base, np.array([2, 3], np.int64))  # nothing changed any more
    assert len(only[0]) == 0 and only[1].shape == (0, 13)
    current[[3, 9]] += 1.0
    assert deltas_mod.take(current, base, np.array([3, 4]))[0].tolist() == [3]  # only candidates are compared
    weights, work = base.copy(), padding.copy(base)
    deltas_mod.apply(weights, (rows, deltas), work)
    reference = base.copy()
    reference[rows] += deltas.astype(np.float32)
    np.testing.assert_array_equal(weights, reference)
    np.testing.assert_array_equal(work, reference)


def test_a_block_counted_to_keep_is_encoded_from_its_tokens_as_from_its_bytes():
    """Training counts each block on the worker that will train it and keeps its tokens (`count_block(keep=)`),
    so encoding it reads nothing again: the same counts, ids, ends, tokens and invalid bytes either way."""
    from word2vec.distributed import blocks, replica
    from word2vec.distributed import vocab as cluster_vocab

    data = "a b c\n\n  d a b\nx \udcff y a b c d e f g\nb\n".encode("utf-8", "surrogateescape")
    kept = cluster_vocab.count_block(data, False, 100, keep=("run-k", "block-1"))
    plain = cluster_vocab.count_block(data, False, 100)
    assert kept.counts == plain.counts and kept.bad_bytes == plain.bad_bytes == 1
    words = replica.join_words(["a", "b", "c", "d", "e"])
    from dask import delayed

    def unread():
        raise AssertionError("a block counted here was read again")

    try:
        from_tokens = replica.encode_block(blocks.Lazy(delayed(unread)()), "block-1", "run-k", words, False, 3)
        assert blocks.kept("run-k", "block-1") is None  # given up once encoded
        from_bytes = replica.encode_block(blocks.Lazy(delayed(lambda: data)()), "block-1", "run-k", words, False, 3)
    finally:
        replica.stop("run-k")
    assert [np.asarray(x).tolist() for x in from_tokens] == [np.asarray(x).tolist() for x in from_bytes]
    assert from_bytes[2:] == (17, 1)
    cluster_vocab.count_block(data, False, 100, keep=("run-k", "block-2"))
    replica.stop("run-k")  # a run that ends (or fails) before encoding leaves nothing behind
    assert blocks.kept("run-k", "block-2") is None
    long = ("z" * 1003 + " " + "z" * 1001 + "q a\n").encode()  # tokens are cut to MAX_TOKEN_CHARS either way
    kept = cluster_vocab.count_block(long, False, 100, keep=("run-k", "long"))
    replica.stop("run-k")
    assert kept.counts == cluster_vocab.count_block(long, False, 100).counts == {"z" * 1000: 2, "a": 1}


def test_merging_into_the_weights_is_merging_then_applying():
    """The driver merges a round and applies it in one pass (`merge(parts, weights)`): the same update, and the
    same weights to the bit, as merging and then applying it; the rows come out ascending."""
    from word2vec.distributed import deltas as deltas_mod

    rng = np.random.default_rng(11)
    parts = []
    for _ in range(3):
        rows = np.sort(rng.choice(40, 25, replace=False)).astype(np.int32)[::-1].copy()  # any order
        parts.append((rows, (rng.standard_normal((25, 6)) * 1e-2).astype(np.float16)))
    weights = rng.standard_normal((40, 6)).astype(np.float32)
    fused = weights.copy()
    rows, merged = deltas_mod.merge(parts, fused)
    again_rows, again = deltas_mod.merge(parts)
    assert np.array_equal(rows, again_rows) and np.array_equal(merged, again) and (np.diff(rows) > 0).all()
    applied = weights.copy()
    deltas_mod.apply(applied, (rows, merged))
    assert np.array_equal(fused, applied)
    untouched = np.setdiff1d(np.arange(40), rows)
    assert np.array_equal(fused[untouched], weights[untouched])


def test_merge_is_numpys_sum_of_the_parts_capped():
    """The compiled merge, which sweeps the parts side by side, gives numpy's result to the bit: each row's
    float16 deltas summed in float32 in part order, capped at MAX_SUMMED times their mean, rounded once; parts
    in any order of rows; a part that lists a row twice is refused."""
    from word2vec.distributed import deltas as deltas_mod

    rng = np.random.default_rng(5)
    parts = []
    for size in (30, 45, 0, 12, 45):
        rows = rng.choice(50, size, replace=False).astype(np.int32)
        parts.append((rows, (rng.standard_normal((size, 7)) * 10.0 ** rng.integers(-7, 0)).astype(np.float16)))
    total, listed = np.zeros((50, 7), np.float32), np.zeros(50)
    for rows, deltas in parts:
        for row, delta in zip(rows, deltas):
            total[row] += delta.astype(np.float32)
            listed[row] += 1
    crowded = listed > deltas_mod.MAX_SUMMED
    total[crowded] *= (np.float32(deltas_mod.MAX_SUMMED) / listed[crowded].astype(np.float32))[:, None]
    rows, merged = deltas_mod.merge(parts)
    assert rows.tolist() == np.nonzero(listed)[0].tolist()
    assert np.array_equal(merged.view(np.uint16), total[rows].astype(np.float16).view(np.uint16))
    twice = (np.array([4, 2, 4], np.int32), np.ones((3, 7), np.float16))
    with pytest.raises(ValueError, match="row 4 twice"):
        deltas_mod.merge([twice])


def test_a_worker_keeps_counted_tokens_only_up_to_its_budget(monkeypatch):
    """Past blocks.KEEP_BYTES a block's tokens are not kept: it is read again to be encoded, so a worker never
    holds its whole shard twice (as tokens and as ids)."""
    from word2vec.distributed import blocks, replica
    from word2vec.distributed import vocab as cluster_vocab

    data = ("a b c d\n" * 50).encode()
    size = blocks._size(blocks.tokenize(data.decode()))
    monkeypatch.setattr(blocks, "KEEP_BYTES", 2 * size)
    try:
        for key in ("b1", "b2", "b3"):
            cluster_vocab.count_block(data, False, 100, keep=("run-budget", key))
        assert [blocks.kept("run-budget", key) is not None for key in ("b1", "b2", "b3")] == [True, True, False]
        cluster_vocab.count_block(data, False, 100, keep=("run-budget", "b4"))  # room again once encoded
        assert blocks.kept("run-budget", "b4") is not None
    finally:
        replica.stop("run-budget")


def test_a_freed_round_buffer_stays_in_the_process():
    """memory.keep_freed_buffers: a 48 MB buffer freed and allocated again (as every round does) comes back
    without page faults, instead of being unmapped and faulted in anew (glibc maps every block past 32 MB,
    and trims the heap's free top, unless told otherwise)."""
    import resource

    from word2vec.distributed import memory

    if not memory.keep_freed_buffers():
        pytest.skip("not glibc: mallopt is not there")

    def faults_of_a_buffer():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        buffer = np.ones(12 << 20, np.float32)  # 48 MB, every page touched
        del buffer
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults_of_a_buffer()  # the heap grows to hold it once
    again = [faults_of_a_buffer() for _ in range(3)]
    assert min(again) <= 2, again  # a fresh mapping faults hundreds of pages (536 here without mallopt)


def test_deltas_of_rows_outside_the_matrix_are_refused():
    """The compiled passes write without bounds checks: `merge` and `apply` refuse rows outside the matrix (a
    corrupt checkpoint's pending deltas, say) instead of writing past it."""
    from word2vec.distributed import deltas as deltas_mod

    weights = np.zeros((5, 3), np.float32)
    bad = (np.array([1, 5], np.int32), np.ones((2, 3), np.float16))
    with pytest.raises(ValueError, match="rows 1..5 for a matrix of 5 rows"):
        deltas_mod.merge([bad], weights)
    with pytest.raises(ValueError, match="for a matrix of 5 rows"):
        deltas_mod.apply(weights, bad)
    with pytest.raises(ValueError):
        deltas_mod.merge([(np.array([-1], np.int32), np.ones((1, 3), np.float16))])
    assert not weights.any()


@pytest.mark.parametrize("server", ["parent", "other", None])
def test_the_forkserver_alone_skips_its_teardown(tmp_path, server):
    """connect: in a process started with connect.FORKSERVER_ENV set to its parent's pid (the forkserver the
    driver starts), exit skips the interpreter's teardown (os._exit(0)); a worker forked from it keeps its own
    exit status, and so does any process where the variable is unset or names another pid."""
    from word2vec.distributed import connect

    script = tmp_path / "server.py"
    script.write_text(
        "import os, sys\n"
        "import word2vec.distributed.connect\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    sys.exit(5)  # a worker forked from the server: its status stands\n"
        "_, status = os.waitpid(child, 0)\n"
        "print(os.waitstatus_to_exitcode(status), flush=True)\n"
        "sys.exit(3)\n")
    env = {key: value for key, value in os.environ.items() if key != connect.FORKSERVER_ENV}
    if server:
        env[connect.FORKSERVER_ENV] = str(os.getpid() if server == "parent" else os.getpid() + 1)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "5"
    assert done.returncode == (0 if server == "parent" else 3), done.stderr
