"""Tests for word2vec/formats.py: word2vec text/binary, vocab.tsv, .npy and projector files."""

import gzip
import struct
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from word2vec import store
from word2vec.errors import ConfigError, DataError, W2VError

WORDS = ["the", "straße", "日本", "naïve"]


@pytest.fixture
def table():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((4, 3)).astype(np.float32)
    vectors[0] = [0.0, -1.5e-38, 3.4e38]  # zero, tiny, huge
    vectors[1, 0] = np.float32(1e-45)  # subnormal
    return WORDS, vectors


def _bin_record(word, values):
    return word + b" " + struct.pack("<%df" % len(values), *values)


# ---------------------------------------------------------------- word2vec round trips


@pytest.mark.parametrize("binary,name", [(True, "v.bin"), (False, "v.txt"), (False, "v.vec")])
def test_round_trip_is_exact(tmp_path, table, binary, name):
    words, vectors = table
    store.write_word2vec(tmp_path / name, words, vectors, binary)
    got_words, got = store.read_word2vec(tmp_path / name)
    assert got_words == words
    assert got.dtype == np.float32 and got.shape == (4, 3)
    np.testing.assert_array_equal(got, vectors)


def test_text_layout_is_exact(tmp_path):
    vectors = np.array([[1.0, -0.5, 0.0], [1e-10, 123456789.0, 0.1]], np.float32)
    store.write_word2vec(tmp_path / "v.txt", ["a", "é"], vectors, binary=False)
    expected = "2 3\na 1e+00 -5e-01 0\né 1.00000001e-10 1.23456792e+08 1.00000001e-01\n"
    assert (tmp_path / "v.txt").read_bytes() == expected.encode()


def test_binary_layout_is_exact(tmp_path):
    vectors = np.array([[1.0, -2.0], [0.5, 0.25]], np.float32)
    store.write_word2vec(tmp_path / "v.bin", ["a", "bé"], vectors, binary=True)
    expected = b"2 2\n" + _bin_record(b"a", [1, -2]) + b"\n" + _bin_record("bé".encode(), [0.5, 0.25]) + b"\n"
    assert (tmp_path / "v.bin").read_bytes() == expected


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                  elements=st.floats(width=32, allow_nan=False, allow_infinity=False)))
def test_text_round_trip_any_float32(tmp_path_factory, vectors):
    path = tmp_path_factory.mktemp("h") / "v.txt"
    words = [f"w{i}" for i in range(len(vectors))]
    store.write_word2vec(path, words, vectors, binary=False)
    got_words, got = store.read_word2vec(path)
    assert got_words == words
    np.testing.assert_array_equal(got, vectors)  # -0.0 == 0.0 is the only freedom


def test_nan_and_inf_survive_text(tmp_path):
    vectors = np.array([[np.nan, np.inf], [-np.inf, 2.0]], np.float32)
    store.write_word2vec(tmp_path / "v.txt", ["a", "b"], vectors, binary=False)
    assert (tmp_path / "v.txt").read_text() == "2 2\na nan inf\nb -inf 2\n"  # such rows: %.9g
    np.testing.assert_array_equal(store.read_word2vec(tmp_path / "v.txt")[1], vectors)


def test_limit(tmp_path, table):
    words, vectors = table
    for name, binary in (("v.bin", True), ("v.txt", False)):
        store.write_word2vec(tmp_path / name, words, vectors, binary)
        got_words, got = store.read_word2vec(tmp_path / name, limit=2)
        assert got_words == words[:2]
        np.testing.assert_array_equal(got, vectors[:2])
        assert store.read_word2vec(tmp_path / name, limit=0)[1].shape == (0, 3)


def test_write_rejects_words_the_format_cannot_hold(tmp_path):
    for bad in (["a b", "c"], ["a", ""], ["a\tb", "c"]):
        with pytest.raises(DataError, match="word"):
            store.write_word2vec(tmp_path / "v.bin", bad, np.zeros((2, 2)), True)
    with pytest.raises(DataError, match="shape"):
        store.write_word2vec(tmp_path / "v.bin", ["a"], np.zeros((2, 2)), True)
    assert not (tmp_path / "v.bin").exists()


# ---------------------------------------------------------------- foreign files


def test_reads_c_tool_text_with_trailing_spaces(tmp_path):
    (tmp_path / "c.txt").write_bytes("2 3\n</s> 0.1 0.2 0.3 \nnaïve -1 -2 -3 \n".encode())
    words, vectors = store.read_word2vec(tmp_path / "c.txt")
    assert words == ["</s>", "naïve"]
    np.testing.assert_array_equal(vectors, np.array([[0.1, 0.2, 0.3], [-1, -2, -3]], np.float32))


def test_reads_fasttext_vec_with_crlf(tmp_path):
    (tmp_path / "f.vec").write_bytes(b"2 2\r\n, 0.5 1.5 \r\nthe 1e-3 -2E+1 \r\n")
    words, vectors = store.read_word2vec(tmp_path / "f.vec")
    assert words == [",", "the"]
    np.testing.assert_array_equal(vectors, np.array([[0.5, 1.5], [1e-3, -20]], np.float32))


def test_text_without_header(tmp_path):
    (tmp_path / "glove.txt").write_text("a 1 2 3\nb 4 5 6\nc 7 8 9\n")
    words, vectors = store.read_word2vec(tmp_path / "glove.txt", header=False, limit=2)
    assert words == ["a", "b"]
    np.testing.assert_array_equal(vectors, [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(DataError, match=r"glove.txt: first line .*needs --no-header$"):
        store.read_word2vec(tmp_path / "glove.txt")


def test_binary_records_with_and_without_newlines(tmp_path):
    data = b"3 2\n" + _bin_record(b"a", [1, 2]) + _bin_record(b"b", [3, 4]) + b"\n\n" + _bin_record(b"c", [5, 6])
    (tmp_path / "v.bin").write_bytes(data)
    words, vectors = store.read_word2vec(tmp_path / "v.bin")
    assert words == ["a", "b", "c"]
    np.testing.assert_array_equal(vectors, [[1, 2], [3, 4], [5, 6]])


def test_floats_containing_space_and_newline_bytes(tmp_path):
    value = struct.unpack("<f", b" \n \n")[0]  # every byte a separator
    data = b"2 1\n" + _bin_record(b"a", [value]) + b"\n" + _bin_record(b"b", [value]) + b"\n"
    (tmp_path / "v.bin").write_bytes(data)
    words, vectors = store.read_word2vec(tmp_path / "v.bin")
    assert words == ["a", "b"] and vectors.tobytes() == b" \n \n" * 2


@pytest.mark.parametrize("binary", [True, False])
def test_format_is_sniffed_without_a_known_extension(tmp_path, table, binary):
    words, vectors = table
    store.write_word2vec(tmp_path / "model.w2v", words, vectors, binary)
    got_words, got = store.read_word2vec(tmp_path / "model.w2v")
    assert got_words == words
    np.testing.assert_array_equal(got, vectors)


def test_compressed_binary(tmp_path, table):
    words, vectors = table
    store.write_word2vec(tmp_path / "v.bin", words, vectors, True)
    (tmp_path / "v.bin.gz").write_bytes(gzip.compress((tmp_path / "v.bin").read_bytes()))
    got_words, got = store.read_word2vec(tmp_path / "v.bin.gz")
    assert got_words == words
    np.testing.assert_array_equal(got, vectors)


def test_invalid_utf8_is_replaced_with_one_warning(tmp_path):
    data = b"3 1\n" + b"\n".join([_bin_record(b"ok", [1]), _bin_record(b"\xffa", [2]), _bin_record(b"b\xe6", [3])])
    (tmp_path / "v.bin").write_bytes(data + b"\n")
    with pytest.warns(UnicodeWarning, match=r"v.bin: 2 word\(s\) had invalid UTF-8") as caught:
        words, _ = store.read_word2vec(tmp_path / "v.bin")
    assert len(caught) == 1
    assert words == ["ok", "\ufffda", "b\ufffd"]
    (tmp_path / "v.txt").write_bytes(b"1 1\n\xff 1\n")
    with pytest.warns(UnicodeWarning, match="1 word"):
        assert store.read_word2vec(tmp_path / "v.txt")[0] == ["\ufffd"]


def test_valid_files_give_no_warning(tmp_path, table):
    store.write_word2vec(tmp_path / "v.bin", *table, binary=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.read_word2vec(tmp_path / "v.bin")


# ---------------------------------------------------------------- damaged files


def test_binary_truncated_at_every_byte(tmp_path, table):
    store.write_word2vec(tmp_path / "v.bin", *table, binary=True)
    data = (tmp_path / "v.bin").read_bytes()
    cut = tmp_path / "cut.bin"
    for size in range(len(data) - 1):  # without its final newline the file is still whole
        cut.write_bytes(data[:size])
        with pytest.raises(DataError, match=r"cut\.bin: (truncated at record \d of 4|first line)"):
            store.read_word2vec(cut)
    cut.write_bytes(data[:-1])
    assert store.read_word2vec(cut)[0] == table[0]


def test_truncated_message_names_the_record(tmp_path):
    data = b"5 2\n" + b"".join(_bin_record(w, [1, 2]) + b"\n" for w in (b"a", b"b", b"c"))
    (tmp_path / "v.bin").write_bytes(data + b"d 12")
    with pytest.raises(DataError, match=r"^\S*v\.bin: truncated at record 4 of 5$"):
        store.read_word2vec(tmp_path / "v.bin")


@pytest.mark.parametrize("content,problem", [
    (b"", r"first line should be '<count> <dimension>', got b''"),
    (b"2\na 1\n", r"first line should be"),
    (b"x 2\na 1 2\n", r"first line should be"),
    (b"2 0\n", r"first line should be"),
    (b"2 2\na 1 2\nb 1\n", r"line 3: expected a word and 2 numbers, found 2 fields"),
    (b"2 2\na 1 2\nb 1 2 3\n", r"line 3: expected a word and 2 numbers, found 4 fields"),
    (b"2 2\na 1 2\nb 1 zwei\n", r"line 3: b'zwei' is not a number"),
    (b"3 2\na 1 2\nb 1 2\n", r"truncated: the header says 3 vectors, found 2"),
    (b"1 2\na 1 2\nb 1 2\n", r"more data after the 1 vectors"),
])
def test_text_errors_name_file_and_problem(tmp_path, content, problem):
    (tmp_path / "bad.txt").write_bytes(content)
    with pytest.raises(DataError, match=r"bad\.txt: " + problem):
        store.read_word2vec(tmp_path / "bad.txt")


def test_binary_with_extra_data_or_garbage(tmp_path):
    (tmp_path / "v.bin").write_bytes(b"1 1\n" + _bin_record(b"a", [1]) + b"\nextra")
    with pytest.raises(DataError, match="more data after the 1 vectors"):
        store.read_word2vec(tmp_path / "v.bin")
    (tmp_path / "w.bin").write_bytes(b"1 1\n" + b"x" * 70000)
    with pytest.raises(DataError, match="record 1 of 1 has no word"):
        store.read_word2vec(tmp_path / "w.bin")


def test_bad_arguments_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="--no-header is for text files"):
        store.read_word2vec(tmp_path / "v.bin", header=False)
    with pytest.raises(ConfigError, match="limit"):
        store.read_word2vec(tmp_path / "v.bin", limit=-1)
    with pytest.raises(DataError, match="no such file"):
        store.read_word2vec(tmp_path / "missing.bin")


def test_corrupt_gzip_is_a_data_error(tmp_path):
    (tmp_path / "v.txt.gz").write_bytes(gzip.compress(b"1 1\na 1\n")[:-12])
    with pytest.raises(DataError, match="v.txt.gz"):
        store.read_word2vec(tmp_path / "v.txt.gz")


# ---------------------------------------------------------------- vocab.tsv


def test_vocab_round_trip(tmp_path):
    store.write_vocab(tmp_path / "vocab.tsv", ["the", "naïve", "日本"], [10, 5, 1])
    assert (tmp_path / "vocab.tsv").read_bytes() == "the\t10\nnaïve\t5\n日本\t1\n".encode()
    words, counts = store.read_vocab(tmp_path / "vocab.tsv")
    assert words == ["the", "naïve", "日本"]
    assert counts.dtype == np.int64 and counts.tolist() == [10, 5, 1]


@pytest.mark.parametrize("content,problem", [
    (b"", "empty vocabulary file"),
    (b"a\t1\nb 2\n", r"line 2: expected 'word<TAB>count'"),
    (b"a\t1\nb\tmany\n", r"line 2: count 'many' is not a whole number"),
    (b"a\t1\nb\t-2\n", r"line 2: count '-2' is not a whole number"),
    (b"a\t1\nb\t2\na\t3\n", r"line 3: duplicate word 'a'"),
    (b"a\t1\n\nb\t2\n", r"line 2: expected 'word<TAB>count'"),
    (b"a\t1\n\xff\t2\n", r"line 2: the word is not valid UTF-8"),
])
def test_vocab_errors(tmp_path, content, problem):
    (tmp_path / "vocab.tsv").write_bytes(content)
    with pytest.raises(DataError, match=r"vocab\.tsv: " + problem):
        store.read_vocab(tmp_path / "vocab.tsv")


def test_write_vocab_rejects_tabs(tmp_path):
    with pytest.raises(DataError, match="tab"):
        store.write_vocab(tmp_path / "vocab.tsv", ["a\tb"], [1])


# ---------------------------------------------------------------- .npy


def test_npy_round_trip_and_memory_map(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    store.save_npy(tmp_path / "a.npy", array)
    mapped = store.load_npy(tmp_path / "a.npy")
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    np.testing.assert_array_equal(mapped, array)
    loaded = store.load_npy(tmp_path / "a.npy", mmap=False)
    assert not isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(loaded, array)


def test_npy_damage_is_a_data_error(tmp_path):
    store.save_npy(tmp_path / "a.npy", np.arange(100, dtype=np.float32))
    data = (tmp_path / "a.npy").read_bytes()
    broken = tmp_path / "broken.npy"
    for content in (b"", b"garbage" * 20, data[:50], data[:-4], data[:140]):
        broken.write_bytes(content)
        for mmap in (True, False):
            with pytest.raises(DataError, match=r"broken\.npy"):
                store.load_npy(broken, mmap=mmap)
    np.savez(tmp_path / "several.npz", a=np.zeros(2))
    with pytest.raises(DataError, match="several arrays"):
        store.load_npy(tmp_path / "several.npz")
    with pytest.raises(DataError, match="no such file"):
        store.load_npy(tmp_path / "missing.npy")


def test_npy_written_and_read_a_block_at_a_time(tmp_path):
    from word2vec.store import tables

    array = np.random.default_rng(0).random((150_000, 3), dtype=np.float32)  # 3 blocks of 65,536 rows
    np.save(tmp_path / "whole.npy", array)
    pieces = [array[:7], array[7:100_000], array[100_000:]]
    store.save_npy(tmp_path / "blocks.npy", store.RowBlocks(array.shape, lambda: iter(pieces)))
    assert (tmp_path / "blocks.npy").read_bytes() == (tmp_path / "whole.npy").read_bytes()
    read = tables.npy_rows(tmp_path / "blocks.npy")
    assert read.shape == array.shape and [len(b) for b in read.blocks()] == [65536, 65536, 150_000 - 131072]
    assert np.array_equal(np.concatenate(list(read.blocks())), array)
    with pytest.raises(AssertionError, match="rows written"):  # a writer's bug never leaves a lying file
        store.save_npy(tmp_path / "short.npy", store.RowBlocks((10, 3), lambda: iter([array[:9]])))
    assert not (tmp_path / "short.npy").exists()


def test_npy_refuses_pickles(tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="objects.npy"):
        store.load_npy(tmp_path / "objects.npy", mmap=False)
    with pytest.raises(DataError, match="objects"):
        store.save_npy(tmp_path / "o.npy", np.array([None], dtype=object))


# ---------------------------------------------------------------- projector


def test_projector_files(tmp_path):
    vectors = np.array([[1.0, -0.25], [0.0, 3.0]], np.float32)
    store.write_projector(tmp_path / "proj", ["a", "naïve"], vectors)
    assert (tmp_path / "proj" / "vectors.tsv").read_text() == "1e+00\t-2.5e-01\n0\t3e+00\n"
    assert (tmp_path / "proj" / "metadata.tsv").read_text(encoding="utf-8") == "a\nnaïve\n"


def test_errors_are_project_errors():
    assert issubclass(DataError, W2VError) and issubclass(ConfigError, W2VError)
