"""Tests of word2vec.text.corpus: one streaming pass (tokens, sentences, counts, bad bytes) and the encoding to vocabulary ids."""

import collections
import io
import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from word2vec.text import corpus
from word2vec.errors import DataError


def scan_sentences(paths, workdir, **options):
    """Scan `paths`; return the Scan and its sentences as lists of words."""
    result = corpus.scan([p if p == "-" else str(p) for p in paths], str(workdir), **options)
    ids = np.fromfile(result.id_path, dtype=np.int32)
    assert len(ids) == result.n_tokens
    words = [result.words[i] for i in ids]
    starts = [0, *result.ends[:-1].tolist()]
    return result, [words[a:b] for a, b in zip(starts, result.ends.tolist())]


def expected_sentences(text, max_len=1000):
    """The reference: one sentence per line of whitespace-separated tokens, cut every `max_len` tokens."""
    out = []
    for line in text.split("\n"):
        tokens = line.split()
        out += [tokens[i : i + max_len] for i in range(0, len(tokens), max_len)]
    return out


def test_sentences_are_lines_and_empty_lines_are_skipped(write_corpus, workdir):
    path = write_corpus("the cat sat\n\n\n  \non the mat\n\t\n")
    result, sentences = scan_sentences([path], workdir)
    assert sentences == [["the", "cat", "sat"], ["on", "the", "mat"]]
    assert result.ends.tolist() == [3, 6]
    assert result.n_tokens == 6
    assert result.bad_bytes == 0


def test_whitespace_variants_separate_tokens(write_corpus, workdir):
    path = write_corpus("a\tb  c\r\nd\x0be\x0cf   \r\n\u00a0g\u3000h\n")
    _, sentences = scan_sentences([path], workdir)
    assert sentences == [["a", "b", "c"], ["d", "e", "f"], ["g", "h"]]


def test_last_line_without_newline_is_a_sentence(write_corpus, workdir):
    _, sentences = scan_sentences([write_corpus("a b\nc d")], workdir)
    assert sentences == [["a", "b"], ["c", "d"]]


def test_words_get_provisional_ids_in_order_of_first_appearance(write_corpus, workdir):
    result, _ = scan_sentences([write_corpus("b a b\nc a b\n")], workdir)
    assert result.words == ["b", "a", "c"]
    assert result.counts.tolist() == [3, 2, 1]
    assert result.counts.dtype == np.int64


@pytest.mark.parametrize("lowercase, expected", [(False, ["The", "CAT", "the", "Straße"]),
                                                 (True, ["the", "cat", "the", "straße"])])
def test_lowercase_option(write_corpus, workdir, lowercase, expected):
    result, sentences = scan_sentences([write_corpus("The CAT the Straße\n")], workdir, lowercase=lowercase)
    assert sentences == [expected]
    assert dict(zip(result.words, result.counts.tolist())) == collections.Counter(expected)


def test_long_line_is_cut_at_max_sentence_length(write_corpus, workdir):
    tokens = [f"w{i % 37}" for i in range(2500)]
    result, sentences = scan_sentences([write_corpus(" ".join(tokens) + "\nlast one\n")], workdir,
                                       max_sentence_length=1000)
    assert [len(s) for s in sentences] == [1000, 1000, 500, 2]
    assert sentences[:3] == [tokens[:1000], tokens[1000:2000], tokens[2000:]]
    assert result.ends.tolist() == [1000, 2000, 2500, 2502]


def test_line_of_exactly_max_sentence_length_is_one_sentence(write_corpus, workdir):
    result, sentences = scan_sentences([write_corpus("a b c\nd e\n")], workdir, max_sentence_length=3)
    assert sentences == [["a", "b", "c"], ["d", "e"]]


def test_huge_single_line_read_in_tiny_blocks(write_corpus, workdir):
    text = " ".join(f"tok{i % 101}x{'y' * (i % 13)}" for i in range(3000))
    result, sentences = scan_sentences([write_corpus(text)], workdir, max_sentence_length=10**6, chunk_bytes=7)
    assert sentences == [text.split()]
    assert result.ends.tolist() == [3000]


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 7])
def test_multibyte_characters_straddling_blocks(write_corpus, workdir, chunk_bytes):
    text = "né 日本語 😀😀 ü\nкот ✓x\n"
    result, sentences = scan_sentences([write_corpus(text)], workdir, chunk_bytes=chunk_bytes)
    assert sentences == [["né", "日本語", "😀😀", "ü"], ["кот", "✓x"]]
    assert result.bad_bytes == 0


@pytest.mark.parametrize("chunk_bytes", [1, 4, 1 << 20])
def test_invalid_utf8_is_replaced_and_counted(write_corpus, workdir, chunk_bytes):
    # \xff and \xfe are never valid; \xe2\x82 is a 3-byte sequence cut short (one replacement)
    path = write_corpus(b"ab\xffcd ef\xfe\xfe\nok \xe2\x82 end \xe2\x82")
    result, sentences = scan_sentences([path], workdir, chunk_bytes=chunk_bytes)
    assert sentences == [["ab\ufffdcd", "ef\ufffd\ufffd"], ["ok", "\ufffd", "end", "\ufffd"]]
    assert result.bad_bytes == 7


def test_bad_bytes_are_counted_per_scan(write_corpus, workdir, tmp_path):
    first = scan_sentences([write_corpus(b"a\xff\n")], workdir)[0]
    other = tmp_path / "other"
    other.mkdir()
    second = scan_sentences([write_corpus("a b\n")], other)[0]
    assert (first.bad_bytes, second.bad_bytes) == (1, 0)


def test_bad_bytes_add_up_over_files(write_corpus, workdir):
    result, _ = scan_sentences([write_corpus(b"a\xff\n"), write_corpus(b"\xfe\xfeb\n")], workdir)
    assert result.bad_bytes == 3


def test_warn_bad_bytes():
    messages = []
    corpus.warn_bad_bytes(0, warn=messages.append)
    corpus.warn_bad_bytes(1, warn=messages.append)
    corpus.warn_bad_bytes(3, warn=messages.append)
    assert messages == [
        "replaced 1 invalid UTF-8 byte in the corpus with U+FFFD",
        "replaced 3 invalid UTF-8 bytes in the corpus with U+FFFD",
    ]


@pytest.mark.parametrize("chunk_bytes", [4, 1 << 20])
def test_nul_bytes_are_a_data_error(write_corpus, workdir, chunk_bytes):
    path = write_corpus(b"some text\nmore text \x00\x01\x02 binary\n")
    with pytest.raises(DataError) as info:
        corpus.scan([str(path)], str(workdir), chunk_bytes=chunk_bytes)
    assert str(info.value) == f"{path} looks like a binary file (it holds NUL bytes), not text"


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".xz"])
def test_compressed_files_are_read_transparently(write_corpus, workdir, suffix):
    text = "the quick brown fox\njumps over the lazy dog\n" * 50
    result, sentences = scan_sentences([write_corpus(text, suffix=suffix)], workdir, chunk_bytes=64)
    assert sentences == expected_sentences(text)
    assert dict(zip(result.words, result.counts.tolist())) == collections.Counter(text.split())


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_corrupt_compressed_file_is_a_data_error(write_corpus, workdir, suffix):
    path = write_corpus(b"this is not compressed at all\n", name="corpus.txt" + suffix)
    with pytest.raises(DataError) as info:
        corpus.scan([str(path)], str(workdir))
    assert str(info.value).startswith(f"cannot read {path}: ")


def test_stdin_is_read_for_dash(workdir, monkeypatch):
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO("from stdin\nzwei wörter\n".encode())))
    _, sentences = scan_sentences(["-"], workdir, chunk_bytes=3)
    assert sentences == [["from", "stdin"], ["zwei", "wörter"]]


def test_several_files_share_ids_and_a_file_end_ends_the_sentence(write_corpus, workdir):
    first, second = write_corpus("a b"), write_corpus("b c\nd\n", suffix=".gz")
    result, sentences = scan_sentences([first, second], workdir)
    assert sentences == [["a", "b"], ["b", "c"], ["d"]]
    assert result.words == ["a", "b", "c", "d"]
    assert result.counts.tolist() == [1, 2, 1, 1]


def test_missing_file_is_a_data_error_naming_it(workdir, tmp_path):
    path = tmp_path / "missing.txt"
    with pytest.raises(DataError) as info:
        corpus.scan([str(path)], str(workdir))
    assert str(info.value) == f"{path}: no such file"


def test_directory_is_a_data_error_naming_it(workdir, tmp_path):
    with pytest.raises(DataError) as info:
        corpus.scan([str(tmp_path)], str(workdir))
    assert str(info.value) == f"{tmp_path} is a directory, not a file"


def test_empty_corpus_scans_to_nothing(write_corpus, workdir):
    result, sentences = scan_sentences([write_corpus("\n \n\t\n")], workdir)
    assert sentences == []
    assert (result.words, result.counts.tolist(), result.n_tokens) == ([], [], 0)


# Whitespace of many kinds (str.split() splits on all of them), ASCII and multi-byte letters.
ALPHABET = " \t\n\r\x0b\x0c\x1c\x85\u2028\u3000abcXYZéßİΣ日本😀"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("scan")


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=80), chunk_bytes=st.integers(1, 12),
       max_len=st.integers(1, 4), lowercase=st.booleans())
def test_scan_tokens_and_sentences_match_split(scratch, text, chunk_bytes, max_len, lowercase):
    path = scratch / "corpus.txt"
    path.write_bytes(text.encode("utf-8"))
    result, sentences = scan_sentences([path], scratch, chunk_bytes=chunk_bytes, max_sentence_length=max_len,
                                       lowercase=lowercase)
    reference = text.lower() if lowercase else text
    assert sentences == expected_sentences(reference, max_len)
    assert [t for s in sentences for t in s] == reference.split()
    assert dict(zip(result.words, result.counts.tolist())) == collections.Counter(reference.split())
    assert result.bad_bytes == 0


# --- encode ---------------------------------------------------------------------------------


def encode_words(result, keep_words, workdir, block=1 << 24):
    """Encode with a vocabulary of `keep_words` (in that id order); return the sentences as words."""
    index = {w: i for i, w in enumerate(keep_words)}
    remap = np.array([index.get(w, -1) for w in result.words], dtype=np.int32)
    ids, ends = corpus.encode(result, remap, str(workdir), block=block)
    assert ids.dtype == np.int32 and ends.dtype == np.int64
    starts = [0, *ends[:-1].tolist()]
    return [[keep_words[i] for i in ids[a:b]] for a, b in zip(starts, ends.tolist())]


@pytest.mark.parametrize("block", [1, 2, 3, 1 << 24])
def test_encode_drops_out_of_vocabulary_tokens_and_empty_sentences(write_corpus, workdir, block):
    result, _ = scan_sentences([write_corpus("a x b\nx y\nb\ny y a\n")], workdir)
    assert encode_words(result, ["b", "a"], workdir, block=block) == [["a", "b"], ["b"], ["a"]]


def test_encode_with_nothing_in_the_vocabulary(write_corpus, workdir):
    result, _ = scan_sentences([write_corpus("a b\nc\n")], workdir)
    ids, ends = corpus.encode(result, np.full(3, -1, np.int32), str(workdir))
    assert (len(ids), len(ends)) == (0, 0)


def test_encode_empty_corpus(write_corpus, workdir):
    result, _ = scan_sentences([write_corpus("")], workdir)
    ids, ends = corpus.encode(result, np.zeros(0, np.int32), str(workdir))
    assert (len(ids), len(ends)) == (0, 0)


@settings(max_examples=100, deadline=None)
@given(
    sentences=st.lists(st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=6), max_size=10),
    vocab=st.lists(st.sampled_from("abcdefg"), unique=True),
    block=st.integers(1, 9),
)
def test_encode_matches_filtering_each_sentence(scratch, sentences, vocab, block):
    path = scratch / "encode.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    result, _ = scan_sentences([path], scratch)
    expected = [kept for s in sentences if (kept := [w for w in s if w in vocab])]
    assert encode_words(result, vocab, scratch, block=block) == expected
