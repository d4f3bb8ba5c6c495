"""Corpus reading: stream text, split into sentences of tokens, and encode tokens as int32 ids once.

One pass over the text gives every distinct word a provisional id (in order of first
appearance), writes the provisional ids to a temporary file and counts them. After the
vocabulary is chosen, `encode` remaps that file to vocabulary ids with numpy, dropping
out-of-vocabulary tokens, so the text is never tokenized twice and stdin needs no spooling.
"""

import codecs
import collections
import os
import tempfile
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import DataError
from .fileio import open_binary, read_chunks

_ERRORS_HANDLER = "w2v-count"
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
    """Accumulates sentence lengths, cutting sentences longer than `max_len` tokens."""

    def __init__(self, max_len):
        self.max_len = max_len
        self.ends = []
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
            self.ends.append(self.total)
            self.open = 0


class _Encoder:
    """Maps tokens to provisional ids and appends them to the id file."""

    def __init__(self, handle):
        self.ids = collections.defaultdict()
        self.ids.default_factory = self.ids.__len__  # a new word gets the next free id
        self.handle = handle
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, tokens):
        if not tokens:
            return
        ids = np.array(list(map(self.ids.__getitem__, tokens)), dtype=np.int32)
        self.handle.write(ids.tobytes())
        binc = np.bincount(ids, minlength=len(self.ids))
        if len(binc) > len(self.counts):
            self.counts = np.concatenate([self.counts, np.zeros(len(binc) - len(self.counts), np.int64)])
        self.counts[: len(binc)] += binc


def scan(paths, workdir, lowercase=False, max_sentence_length=1000, chunk_bytes=1 << 18):
    """Read every corpus file once; see `Scan`. `-` is stdin; .gz/.bz2/.xz are decompressed."""
    id_path = os.path.join(workdir, "provisional.ids")
    sentences = _Sentences(max_sentence_length)
    _BAD_BYTES[0] = 0
    with open(id_path, "wb") as out:
        encoder = _Encoder(out)
        for path in paths:
            _scan_file(path, encoder, sentences, lowercase, chunk_bytes)
    words = list(encoder.ids)
    counts = encoder.counts
    if len(counts) < len(words):
        counts = np.concatenate([counts, np.zeros(len(words) - len(counts), np.int64)])
    ends = np.array(sentences.ends, dtype=np.int64)
    return Scan(words, counts, id_path, ends, _BAD_BYTES[0])


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
    if not final:
        cut = len(text)
        while cut > 0 and not text[cut - 1].isspace():
            cut -= 1
        if cut == 0:
            return text  # no whitespace yet: one token still being read
        text, carry = text[:cut], text[cut:]
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

    Works block by block over a memory-mapped id file, so memory stays bounded.

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
    out_path = os.path.join(workdir, "corpus.ids")
    n_kept, new_ends = 0, []
    with open(out_path, "wb") as out, open(scan_result.id_path, "rb") as source:
        for start in range(0, total, block):
            mapped = remap[np.fromfile(source, dtype=np.int32, count=min(block, total - start))]
            keep = mapped >= 0
            out.write(mapped[keep].tobytes())
            kept_upto = np.cumsum(keep, dtype=np.int64) + n_kept
            inside = ends[(ends > start) & (ends <= start + block)]
            new_ends.append(kept_upto[inside - 1 - start])
            n_kept = int(kept_upto[-1])
    ends = np.concatenate(new_ends) if new_ends else np.zeros(0, np.int64)
    starts = np.concatenate([[0], ends[:-1]]) if len(ends) else ends
    ends = ends[ends > starts]
    ids = np.memmap(out_path, dtype=np.int32, mode="r", shape=(n_kept,)) if n_kept else np.zeros(0, np.int32)
    return ids, ends


def make_workdir():
    """A temporary directory for the id files (removed by the caller via `.cleanup()`)."""
    return tempfile.TemporaryDirectory(prefix="w2v-")


def warn_bad_bytes(count, warn=warnings.warn):
    """One warning for all invalid UTF-8 bytes that were replaced."""
    if count:
        warn(f"replaced {count} invalid UTF-8 byte{'s' if count != 1 else ''} in the corpus with U+FFFD")
