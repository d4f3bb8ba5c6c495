"""Corpus reading: stream text, split into sentences of tokens, and encode tokens as int32 ids once.

One pass over the text gives every distinct word a provisional id (in order of first
appearance), writes the provisional ids to a temporary file and counts them. After the
vocabulary is chosen, `encode` remaps that file to vocabulary ids with numpy, dropping
out-of-vocabulary tokens, so the text is never tokenized twice and stdin needs no spooling.
"""

import array
import codecs
import os
import tempfile
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..fileio import open_binary, read_chunks

_ERRORS_HANDLER = "w2v-count"
MAX_TOKEN_CHARS = 1000  # longer tokens are cut to this (the C tool cuts at 100), so memory stays bounded
_BAD_BYTES = [0]


def _count_and_replace(exc):
    _BAD_BYTES[0] += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error(_ERRORS_HANDLER, _count_and_replace)


@dataclass
class Scan:
    """What one pass over the corpus found.

    Attributes
    ----------
    words : list of str, the distinct words in order of first appearance (provisional ids).
    counts : int64 array (n_words,), occurrences of each provisional id.
    id_path : path of the int32 file of provisional ids, all tokens in corpus order.
    ends : int64 array (n_sentences,), exclusive end offset of each sentence in the id file.
    bad_bytes : number of invalid UTF-8 bytes that were replaced.
    """

    words: list
    counts: np.ndarray
    id_path: str
    ends: np.ndarray
    bad_bytes: int

    @property
    def n_tokens(self):
        return int(self.ends[-1]) if len(self.ends) else 0


class _Sentences:
    """Records sentence ends in a file, cutting sentences longer than `max_len` tokens."""

    def __init__(self, max_len, handle):
        self.max_len = max_len
        self.handle = handle
        self.buffer = array.array("q")
        self.count = 0
        self.total = 0
        self.open = 0  # tokens in the sentence still being read

    def add_tokens(self, n):
        while n > 0:
            take = min(n, self.max_len - self.open)
            self.open += take
            self.total += take
            n -= take
            if self.open == self.max_len:
                self.close()

    def close(self):
        if self.open:
            self.buffer.append(self.total)
            self.count += 1
            self.open = 0
            if len(self.buffer) >= 1 << 16:
                self.flush()

    def flush(self):
        self.handle.write(self.buffer.tobytes())
        self.buffer = array.array("q")


class TokenIds(dict):
    """Word → provisional id: a new word gets the next free id; a word longer than
    MAX_TOKEN_CHARS is cut to that length first (only new words pay for the check)."""

    def __missing__(self, word):
        if len(word) > MAX_TOKEN_CHARS:
            return self[word[:MAX_TOKEN_CHARS]]
        self[word] = len(self)
        return len(self) - 1


class _Encoder:
    """Maps tokens to provisional ids and appends them to the id file."""

    def __init__(self, handle):
        self.ids = TokenIds()
        self.handle = handle
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, tokens):
        if not tokens:
            return
        ids = np.fromiter(map(self.ids.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        self.handle.write(ids.tobytes())
        binc = np.bincount(ids, minlength=len(self.ids))
        if len(binc) > len(self.counts):
            self.counts = np.concatenate([self.counts, np.zeros(len(binc) - len(self.counts), np.int64)])
        self.counts[: len(binc)] += binc


def scan(paths, workdir, lowercase=False, max_sentence_length=1000, chunk_bytes=1 << 18):
    """Read every corpus file once; see `Scan`. `-` is stdin; .gz/.bz2/.xz are decompressed."""
    id_path, ends_path = os.path.join(workdir, "provisional.ids"), os.path.join(workdir, "provisional.ends")
    _BAD_BYTES[0] = 0
    with open(id_path, "wb") as out, open(ends_path, "wb") as ends_out:
        encoder, sentences = _Encoder(out), _Sentences(max_sentence_length, ends_out)
        for path in paths:
            _scan_file(path, encoder, sentences, lowercase, chunk_bytes)
        sentences.flush()
    words = list(encoder.ids)
    counts = encoder.counts
    if len(counts) < len(words):
        counts = np.concatenate([counts, np.zeros(len(words) - len(counts), np.int64)])
    return Scan(words, counts, id_path, _map(ends_path, np.int64, sentences.count), _BAD_BYTES[0])


def _map(path, dtype, count):
    """A read-only memory map of `count` values (an empty array when there are none)."""
    if count == 0:
        empty = np.zeros(0, dtype)
        empty.setflags(write=False)
        return empty
    return np.memmap(path, dtype=dtype, mode="r", shape=(count,))


def _scan_file(path, encoder, sentences, lowercase, chunk_bytes):
    decoder = codecs.getincrementaldecoder("utf-8")(errors=_ERRORS_HANDLER)
    carry = ""  # an unfinished token at the end of the previous block
    with open_binary(path) as handle:
        for block in read_chunks(handle, path, chunk_bytes):
            if b"\0" in block:
                raise DataError(f"{path} looks like a binary file (it holds NUL bytes), not text")
            text = carry + decoder.decode(block)
            carry = _split_block(text, encoder, sentences, lowercase, final=False)
        _split_block(carry + decoder.decode(b"", final=True), encoder, sentences, lowercase, final=True)
    sentences.close()


def _split_block(text, encoder, sentences, lowercase, final):
    """Tokenize the complete part of `text`; return the trailing partial token."""
    carry = ""
    if not final and text and not text[-1].isspace():
        carry = text.rsplit(None, 1)[-1]  # scans from the end: cheap however long the text
        if len(carry) == len(text):  # no whitespace yet: one token still being read, kept short
            return text[: MAX_TOKEN_CHARS + 1]
        text = text[: len(text) - len(carry)]
    if lowercase:
        text = text.lower()
    lines = text.split("\n")
    tokens = []
    for i, line in enumerate(lines):
        if i:
            sentences.close()
        words = line.split()
        sentences.add_tokens(len(words))
        tokens += words
    encoder.add(tokens)
    return carry


def encode(scan_result, remap, workdir, block=1 << 20):
    """Remap provisional ids to vocabulary ids, dropping tokens that map to -1.

    Reads the provisional id file block by block, so memory stays bounded.

    Parameters
    ----------
    scan_result : Scan
    remap : int32 array (n_words,), vocabulary id of each provisional id, or -1.

    Returns
    -------
    ids : int32 memmap (n_kept,), the corpus as vocabulary ids.
    ends : int64 array (n_sentences,), exclusive end offsets; empty sentences are dropped.
    """
    total, ends = scan_result.n_tokens, scan_result.ends
    ids_path, ends_path = os.path.join(workdir, "corpus.ids"), os.path.join(workdir, "corpus.ends")
    n_kept, n_ends, last_end = 0, 0, 0
    with open(ids_path, "wb") as out, open(ends_path, "wb") as ends_out, open(scan_result.id_path, "rb") as source:
        for start in range(0, total, block):
            mapped = remap[np.fromfile(source, dtype=np.int32, count=min(block, total - start))]
            keep = mapped >= 0
            out.write(mapped[keep].tobytes())
            kept_upto = np.cumsum(keep, dtype=np.int64) + n_kept
            lo, hi = np.searchsorted(ends, [start, start + len(mapped)], side="right")
            new_ends = _nonempty(kept_upto[np.asarray(ends[lo:hi]) - 1 - start], last_end)
            ends_out.write(new_ends.tobytes())
            n_ends += len(new_ends)
            last_end = int(new_ends[-1]) if len(new_ends) else last_end
            n_kept = int(kept_upto[-1])
    return _map(ids_path, np.int32, n_kept), _map(ends_path, np.int64, n_ends)


def _nonempty(ends, previous):
    """Drop the sentence ends that repeat the one before (sentences left empty)."""
    starts = np.concatenate([[previous], ends[:-1]])
    return ends[ends > starts].astype(np.int64)


def make_workdir():
    """A temporary directory for the id files (removed by the caller via `.cleanup()`)."""
    return tempfile.TemporaryDirectory(prefix="w2v-")


def warn_bad_bytes(count, warn=warnings.warn):
    """One warning for all invalid UTF-8 bytes that were replaced."""
    if count:
        warn(f"replaced {count} invalid UTF-8 byte{'s' if count != 1 else ''} in the corpus with U+FFFD")
