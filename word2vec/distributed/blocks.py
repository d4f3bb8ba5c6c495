"""The corpus as blocks: fsspec URLs and globs cut on line boundaries, and the tokenizer of one block.

A block ends at a newline, so it holds whole lines and is split exactly as `text.corpus.scan`
splits them: UTF-8 with invalid bytes replaced (and counted), lines on "\\n", tokens on
whitespace, tokens longer than MAX_TOKEN_CHARS cut. Compressed files are one block each.

To count and train (`units`), a plain file without a newline in its first 64 KiB (text8 is
one line of 100 MB) is cut on spaces instead, so that it still spreads over the workers; the
counts are the same, and a training sentence ends at each cut. A compressed file is read as one
block, then cut in pieces for the workers to count and train side by side (`units`).
"""

import codecs
import threading

import numpy as np

from ..errors import DataError
from ..text.corpus import MAX_TOKEN_CHARS, TokenIds

LINE_PROBE = 64 << 10  # a file without a newline in its first 64 KiB is cut on spaces (the driver reads them)
BLOCK_BYTES = 64 << 20  # large enough to amortize a task, small enough to spread a corpus over many workers
MIN_BLOCK_BYTES = 4096
COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
_HANDLER = "w2v-block-count"
_BAD = threading.local()  # the invalid bytes of the block a thread is decoding


def _count_and_replace(exc):
    _BAD.count += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error(_HANDLER, _count_and_replace)


def expand(paths):
    """Every file that `paths` (fsspec URLs, local paths, globs) names, as full URLs, in order."""
    from fsspec.core import get_fs_token_paths

    found = []
    for path in paths:
        if path == "-":
            raise DataError("a cluster's workers read the corpus themselves, so it cannot be stdin (-); "
                            "give files or URLs")
        try:
            fs, _, names = get_fs_token_paths(path)
            names = [name for name in names if fs.isfile(name)]
        except (ValueError, ImportError, OSError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from None
        if not names:
            raise DataError(f"{path}: no such file (or no file matches the pattern)")
        found += [fs.unstrip_protocol(name) for name in names]
    return found


def block_bytes_for(client, urls):
    """Blocks small enough that every worker of `client` gets a few, at most BLOCK_BYTES.

    dask cuts a file into size // block_bytes blocks, so a single file gets exactly 4 per worker.
    """
    import fsspec

    from .connect import workers

    total = 0
    for url in urls:
        fs, path = fsspec.core.url_to_fs(url)
        total += fs.size(path)
    return int(min(BLOCK_BYTES, max(MIN_BLOCK_BYTES, total // (4 * len(workers(client))))))


def read_blocks(urls, block_bytes=BLOCK_BYTES):
    """Delayed byte blocks of the files, of whole lines, in corpus order; the workers that compute them read
    them. (To count and train: `units`.)"""
    return [block for block, _ in _file_blocks(urls, block_bytes, False)]


def _file_blocks(urls, block_bytes, words):
    """[(delayed block, True if it is a whole compressed file)] of every file, in corpus order; with `words`,
    a plain file of very long lines is cut on spaces."""
    from dask.bytes import read_bytes

    blocks = []
    for url in urls:
        compression = next((kind for ext, kind in COMPRESSED.items() if url.endswith(ext)), None)
        delimiter = b" " if words and not compression and _one_line(url, block_bytes) else b"\n"
        _, parts = read_bytes(url, delimiter=delimiter, blocksize=None if compression else block_bytes,
                              compression=compression, sample=False)
        blocks += [(block, compression is not None) for file_blocks in parts for block in file_blocks]
    return blocks


def _one_line(url, block_bytes):
    """True when the file is larger than a block and its first LINE_PROBE bytes hold no newline."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    if fs.size(path) <= block_bytes:
        return False
    with fs.open(path, "rb") as handle:
        return b"\n" not in handle.read(min(LINE_PROBE, block_bytes))


def units(urls, block_bytes, shards):
    """The delayed byte blocks that `shards` shards count and train, in corpus order (see the module's doc):
    while there are fewer than 4 compressed files a shard, each is cut into one piece a shard once read
    (`cut`), so that the shards count and train it side by side."""
    found = _file_blocks(urls, block_bytes, True)
    whole = sum(packed for _, packed in found)
    pieces = shards if 0 < whole < 4 * shards else 1
    if pieces == 1:
        return [block for block, _ in found]
    from dask import delayed

    return [delayed(cut, pure=True)(block, piece, pieces) if packed else block
            for block, packed in found for piece in range(pieces if packed else 1)]


class Lazy:
    """A block's bytes, read only when asked (`load`, where the task runs). Dask computes a task's
    arguments before it runs it, and a block counted where it is encoded (`keep`) need not be read
    again: for a compressed file cut in pieces, that was its whole decompression again, 0.1 s."""

    def __init__(self, block):
        self.block = block  # delayed bytes

    def load(self):
        return self.block.compute(scheduler="sync")


def cut(data, piece, pieces):
    """Piece `piece` of `pieces` of a block's bytes, of about equal size: each ends after the first newline
    past its share, or after the first space where no newline follows within LINE_PROBE bytes."""
    ends = [0] + [_cut_at(data, len(data) * k // pieces) for k in range(1, pieces)] + [len(data)]
    for k in range(1, len(ends)):
        ends[k] = max(ends[k], ends[k - 1])
    return data[ends[piece]: ends[piece + 1]]


def _cut_at(data, position):
    """The offset just past the first newline at or after `position` (within LINE_PROBE bytes), else past the
    first space there; the end of `data` if there is neither."""
    newline = data.find(b"\n", position, position + LINE_PROBE)
    if newline < 0:
        newline = data.find(b" ", position)
    return len(data) if newline < 0 else newline + 1


def decode(data, lowercase):
    """(text, invalid bytes replaced) of one block; a NUL byte means a binary file."""
    if b"\0" in data:
        raise DataError("the corpus looks like a binary file (it holds NUL bytes), not text")
    try:
        text, bad = data.decode("utf-8"), 0
    except UnicodeDecodeError:
        _BAD.count = 0
        text, bad = data.decode("utf-8", errors=_HANDLER), _BAD.count
    return (text.lower() if lowercase else text), bad


def lines_of_tokens(text):
    """The token lists of the lines of `text`, tokens cut to MAX_TOKEN_CHARS."""
    for line in text.split("\n"):
        words = line.split()
        if words:
            yield [w if len(w) <= MAX_TOKEN_CHARS else w[:MAX_TOKEN_CHARS] for w in words]


def tokenize(text):
    """A block's tokens as (its distinct words in order of first use, int32 ids into them, int64 tokens a line),
    lines without tokens left out; tokens cut to MAX_TOKEN_CHARS (`text.corpus.TokenIds`, as a local run)."""
    index, tokens, lengths = TokenIds(), [], []
    for line in text.split("\n"):
        words = line.split()
        if words:
            tokens += words
            lengths.append(len(words))
    ids = np.fromiter(map(index.__getitem__, tokens), dtype=np.int32, count=len(tokens))
    return list(index), ids, np.array(lengths, dtype=np.int64)


def encode(data, index, lowercase, max_sentence_length):
    """One block as vocabulary ids, as `text.corpus.encode` makes them.

    Returns
    -------
    ids : int32 (n,), the in-vocabulary tokens.
    ends : int64 (s,), exclusive sentence ends; long lines are cut before dropping unknown
        words, and sentences left empty are dropped.
    raw_tokens : int, the tokens before dropping; bad_bytes : int.
    """
    text, bad = decode(data, lowercase)
    return encode_tokens(tokenize(text), index, max_sentence_length) + (bad,)


def encode_tokens(tokens, index, max_sentence_length):
    """(ids, ends, raw tokens) of a block's `tokenize` output: see `encode`."""
    words, local, lengths = tokens
    known = np.fromiter((index.get(w, -1) for w in words), dtype=np.int32, count=len(words))
    ids = known[local] if len(local) else np.zeros(0, np.int32)
    raw_ends, total = [], 0
    for n in lengths.tolist():
        raw_ends += list(range(total + max_sentence_length, total + n, max_sentence_length)) + [total + n]
        total += n
    keep = ids >= 0
    kept_upto = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    ends = np.unique(kept_upto[np.array(raw_ends, dtype=np.int64)])
    return ids[keep], ends[ends > 0], total


KEEP_BYTES = 512 << 20  # the most a worker holds of counted tokens: past it, blocks are read again to encode
_KEPT = {}  # (run id, block key) → (a block's tokens, its invalid bytes, their size), counted here, kept to encode
_KEPT_LOCK = threading.Lock()  # a worker of several threads counts several blocks at once


def _size(tokens):
    words, ids, lengths = tokens
    return ids.nbytes + lengths.nbytes + sum(len(w) + 56 for w in words)  # a short str is about 56 bytes more


def keep(run_id, key, tokens, bad):
    """Hold a block's `tokenize` output and invalid bytes in this worker until the run encodes it here, if
    what is held stays within KEEP_BYTES (the ids of the whole shard are held next to them once encoded)."""
    size = _size(tokens)
    with _KEPT_LOCK:
        if sum(held[2] for held in _KEPT.values()) + size <= KEEP_BYTES:
            _KEPT[run_id, key] = tokens, bad, size


def kept(run_id, key):
    """(tokens, invalid bytes) that `keep` held for this block, given up; None if it was counted elsewhere or
    not kept."""
    with _KEPT_LOCK:
        held = _KEPT.pop((run_id, key), None)
    return None if held is None else held[:2]


def forget(run_id):
    """Drop what `keep` holds for the run (it ended, or failed before encoding)."""
    with _KEPT_LOCK:
        for key in [key for key in _KEPT if key[0] == run_id]:
            del _KEPT[key]
