"""Reading vectors in the C tool's text and binary formats, as the C tool, gensim and fastText write them.

Files are read chunk by chunk; a bad header, a truncated or malformed record is a DataError
naming the file, and files people mistake for these (pickles, fastText .bin, .npy) are named.
"""

import os
import warnings

import numpy as np

from ..errors import ConfigError, DataError
from ..fileio import open_binary, read_chunks

_CHUNK = 1 << 24  # bytes read at a time
_BLOCK_VALUES = 1 << 20  # floats parsed at a time
_MAX_WORD = 1 << 16  # a longer "word" means the file is not what it claims to be
_COMPRESSED = (".gz", ".bz2", ".xz")


class _Source:
    """Buffered bytes of one input file, read chunk by chunk; `buf[pos:]` is still unread."""

    def __init__(self, handle, name):
        self.chunks = read_chunks(handle, name, _CHUNK)
        self.name, self.buf, self.pos, self.line = name, b"", 0, 0

    def more(self):
        """Append the next chunk; False at the end of the file."""
        block = next(self.chunks, b"")
        if block:
            self.buf = self.buf[self.pos :] + block
            self.pos = 0
        return bool(block)

    def fail(self, problem):
        return DataError(f"{self.name}: {problem}")


def read_word2vec(path, binary=None, header=True, limit=None):
    """Read vectors written by the C tool, gensim or fastText (text `.txt`/`.vec` or binary `.bin`).

    `binary=None` decides by the extension (`.bin` binary, `.txt`/`.vec` text, compressed files by the
    name inside), otherwise by whether the first record parses as text. Words with invalid UTF-8
    bytes are decoded with U+FFFD in their place and one UnicodeWarning gives the count. A bad
    header, a truncated or malformed record raise DataError naming the file and the problem.

    Parameters
    ----------
    path : str or path-like; `-` is stdin, .gz/.bz2/.xz are decompressed
    binary : bool or None
    header : bool — False for a text file without the `W d` line (d is taken from the first line)
    limit : int or None — read only the first `limit` vectors

    Returns
    -------
    words : list of str, length W
    vectors : float32 array (W, d)
    """
    if limit is not None and limit < 0:
        raise ConfigError(f"limit must be 0 or more, got {limit}")
    name = os.fspath(path)
    binary = _binary_by_extension(name) if binary is None else binary
    if binary and not header:
        raise ConfigError("binary word2vec files always have a header; --no-header is for text files")
    with open_binary(path) as handle:
        src = _Source(handle, name)
        src.more()
        _refuse_other_formats(src)
        if src.buf.startswith(b"\xef\xbb\xbf"):
            src.pos = 3
        count, dim = _read_header(src) if header else (None, None)
        if binary is None:
            binary = header and not _looks_like_text(src, dim)
        rows = count if limit is None else limit if count is None else min(count, limit)
        words, vectors, bad = (_read_binary if binary else _read_text)(src, count, dim, rows)
    if bad:
        warnings.warn(f"{name}: {bad} word(s) had invalid UTF-8 bytes, replaced by U+FFFD", UnicodeWarning, 2)
    return words, vectors


_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")  # the first int32 of every fastText .bin


def _refuse_other_formats(src):
    """Name the files people mistake for word2vec ones, by their first bytes."""
    head = src.buf[:8]
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise src.fail("a gensim pickle file: w2v never loads pickles; in gensim run "
                       "`kv.save_word2vec_format(path, binary=True)` and load that file")
    if head[:4] == _FASTTEXT_MAGIC:
        raise src.fail("a fastText .bin model, not the C tool's format; load it with `word2vec.load` "
                       "(or -m in the CLI), which reads fastText's own format")
    if head.startswith(b"\x93NUMPY"):
        raise src.fail("a .npy array without words; give its model directory (vectors.npy and vocab.tsv)")


def _binary_by_extension(name):
    stem, ext = os.path.splitext(name.lower())
    if ext in _COMPRESSED:
        ext = os.path.splitext(stem)[1]
    return {".bin": True, ".txt": False, ".vec": False}.get(ext)


def _next_line(src, max_length):
    """The next line without its newline (None at the end of the file); longer lines raise."""
    while True:
        end = src.buf.find(b"\n", src.pos, src.pos + max_length + 1)
        if end >= 0 or len(src.buf) - src.pos > max_length or not src.more():
            break
    if end < 0 and len(src.buf) - src.pos > max_length:
        raise src.fail(f"line {src.line + 1} is longer than {max_length} bytes")
    if src.pos == len(src.buf):
        return None
    if end < 0:  # a last line without a newline: stop at the end, not one past it
        line, src.pos = src.buf[src.pos :], len(src.buf)
    else:
        line, src.pos = src.buf[src.pos : end], end + 1
    src.line += 1
    return line


def _read_header(src):
    end = src.buf.find(b"\n", src.pos, src.pos + 1000)
    line = src.buf[src.pos : end if end >= 0 else src.pos + 1000]
    fields = line.split()
    if end >= 0 and len(fields) == 2 and all(f.isdigit() for f in fields) and int(fields[1]) > 0:
        src.pos, src.line = end + 1, 1
        return int(fields[0]), int(fields[1])
    hint = "; a text file without one needs --no-header" if len(fields) > 2 else ""
    raise src.fail(f"first line should be '<count> <dimension>', got {line[:40]!r}{hint}")


def _looks_like_text(src, dim):
    """True when the next line holds a word and exactly `dim` numbers."""
    window = 256 + 40 * dim
    while len(src.buf) - src.pos < window and src.more():
        pass
    end = src.buf.find(b"\n", src.pos, src.pos + window)
    if end < 0:
        end = len(src.buf) if len(src.buf) - src.pos <= window else src.pos
    fields = src.buf[src.pos : end].split()
    return len(fields) == dim + 1 and all(map(is_number, fields[1:]))


def _allocate(rows, dim, src, record_bytes):
    """The output array; a plain file's size bounds it, so a lying header cannot exhaust memory."""
    if src.name != "-" and not src.name.lower().endswith(_COMPRESSED) and os.path.isfile(src.name):
        rows = min(rows, os.path.getsize(src.name) // record_bytes + 1)
    try:
        return np.empty((rows, dim), np.float32)
    except (MemoryError, ValueError):
        raise src.fail(f"header says {rows} vectors of {dim}, more than memory can hold") from None


def _decode(raw_words):
    """Words as str and how many of them had invalid UTF-8 (replaced by U+FFFD)."""
    words, bad = [], 0
    for raw in raw_words:
        try:
            words.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            words.append(raw.decode("utf-8", errors="replace"))
            bad += 1
    return words, bad


def _read_binary(src, count, dim, rows):
    """Records `word<space><dim float32>` with an optional newline before the next word."""
    out = _allocate(rows, dim, src, 4 * dim + 1)
    raw_words, done, nbytes = [], 0, 4 * dim
    while done < rows:
        buf, pos, starts = src.buf, src.pos, []
        while done + len(starts) < rows:
            space = buf.find(b" ", pos, pos + _MAX_WORD)
            if space < 0 or space + 1 + nbytes > len(buf):
                break
            raw_words.append(buf[pos:space].lstrip(b"\n\r\t\x0b\x0c"))
            starts.append(space + 1)
            pos = space + 1 + nbytes
        if starts:
            view = memoryview(buf)
            data = b"".join([view[s : s + nbytes] for s in starts])
            out[done : done + len(starts)] = np.frombuffer(data, "<f4").reshape(-1, dim)
            done += len(starts)
            src.pos = pos
        elif len(buf) - pos >= _MAX_WORD + nbytes:
            raise src.fail(f"record {done + 1} of {count} has no word: not a word2vec binary file?")
        elif not src.more():
            raise src.fail(f"truncated at record {done + 1} of {count}")
    if rows == count:
        _expect_end(src, count)
    words, bad = _decode(raw_words)
    return words, out, bad


def _expect_end(src, count):
    while not src.buf[src.pos :].strip() and src.more():
        pass
    if src.buf[src.pos :].strip():
        raise src.fail(f"more data after the {count} vectors the header announces")


def _read_text(src, count, dim, rows):
    """Lines `word v1 … vd` (trailing spaces allowed, blank lines skipped)."""
    raw_words, blocks, values, lines = [], [], [], []
    while rows is None or len(raw_words) < rows:
        line = _next_line(src, _MAX_WORD + 64 * (dim or 4096))
        if line is None:
            break
        fields = line.split()
        if not fields:
            continue
        dim = dim or len(fields) - 1
        if len(fields) != dim + 1 or dim < 1:
            raise src.fail(f"line {src.line}: expected a word and {dim or 'some'} numbers, found {len(fields)} fields")
        raw_words.append(fields[0])
        values += fields[1:]
        lines.append(src.line)
        if len(values) >= _BLOCK_VALUES:
            blocks.append(_parse_floats(values, dim, src, lines))
            values, lines = [], []
    if dim is None:
        raise src.fail("no vectors found")
    if count is not None and len(raw_words) < rows:
        raise src.fail(f"truncated: the header says {count} vectors, found {len(raw_words)}")
    if rows == count:
        _expect_end(src, count)
    blocks.append(_parse_floats(values, dim, src, lines))
    words, bad = _decode(raw_words)
    return words, blocks[0] if len(blocks) == 1 else np.concatenate(blocks), bad


def _parse_floats(values, dim, src, lines):
    """Text tokens of whole records → float32 (records, dim); `lines` numbers the records."""
    try:
        flat = np.fromiter(map(float, values), np.float64, count=len(values))
    except ValueError:
        bad = next(i for i, v in enumerate(values) if not is_number(v))
        raise src.fail(f"line {lines[bad // dim]}: {values[bad][:30]!r} is not a number") from None
    return flat.astype(np.float32).reshape(-1, dim)


def is_number(token):
    """True when `token` (str or bytes) parses as a float."""
    try:
        float(token)
    except ValueError:
        return False
    return True
