"""File formats: word2vec text/binary (C tool, gensim, fastText), vocab.tsv, .npy, TensorBoard projector."""

import os
import re
import warnings

import numpy as np

from ..errors import ConfigError, DataError
from ..fileio import atomic_write, open_binary, open_output, read_chunks

_CHUNK = 1 << 24  # bytes read at a time
_BLOCK_VALUES = 1 << 20  # floats formatted or packed at a time
_MAX_WORD = 1 << 16  # a longer "word" means the file is not what it claims to be
_WORD_SPACE = re.compile(r"[ \t\n\r\x0b\x0c]")  # what the C tool, gensim and fastText split on
_TSV_BREAK = re.compile(r"[\t\n\r]")


def _table(cells):
    """Strings of at most 4 ASCII characters → uint32 cells holding their bytes, zero-padded."""
    return np.frombuffer("".join(c.ljust(4, "\0") for c in cells).encode(), np.uint32)


_QUADS = _table(["%04d" % i for i in range(10**4)])
_QUADS_STRIPPED = _table([("%04d" % i).rstrip("0") for i in range(10**4)])  # trailing zeros dropped
_LEADS = _table([s + str(i) + p for s in ("", "-") for p in (".", "") for i in range(10)])
_EXPONENTS = _table(["e%+03d" % e for e in range(-99, 100)])
_POWER_ZERO = 60
_POWERS = np.array([float(f"1e{k}") for k in range(-_POWER_ZERO, _POWER_ZERO + 1)])  # correctly rounded
_COMPRESSED = (".gz", ".bz2", ".xz")
MAX_COUNT = 2**63 - 1  # counts and their sums are int64


def write_word2vec(path, words, vectors, binary):
    """Write vectors in the original C tool's format (gensim and fastText read it too).

    Both formats start with a header line `W d`. Binary records are `word ` then d little-endian
    float32 then `\\n`. Text records are `word v1 … vd\\n`, each value with 9 significant digits in
    exponent notation (`-1.23456791e-01`, trailing zeros dropped, `0` for zero): 9 digits read back
    to the very same float32, and a fixed layout lets numpy format the values in bulk.

    Parameters
    ----------
    path : str or path-like; `-` is stdout (see `fileio.open_output` for links, FIFOs, .gz)
    words : sequence of str, length W; no ASCII whitespace inside a word
    vectors : array (W, d)
    binary : bool
    """
    words, vectors = _check_table(words, vectors, _WORD_SPACE, "contains whitespace")
    with open_output(path, "wb", stdout=True) as handle:
        handle.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for start, block in _blocks(vectors):
            names = [w.encode() + b" " for w in words[start : start + len(block)]]
            handle.write(_pack_binary(names, block) if binary else _pack_text(names, block, " "))


def write_projector(folder, words, vectors):
    """Write TensorBoard projector files `vectors.tsv` (tab-separated floats) and `metadata.tsv`.

    `metadata.tsv` holds one word per line and no header, as the projector expects for one column.
    """
    words, vectors = _check_table(words, vectors, _TSV_BREAK, "contains a tab or line break")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {folder}: {exc.strerror or exc}") from None
    with open_output(os.path.join(folder, "vectors.tsv"), "wb") as handle:
        for start, block in _blocks(vectors):
            handle.write(_pack_text([b""] * len(block), block, "\t"))
    with open_output(os.path.join(folder, "metadata.tsv"), "wb") as handle:
        handle.write("".join(w + "\n" for w in words).encode())


def _check_table(words, vectors, forbidden, problem):
    """The words as a list, checked for characters the file format cannot hold; vectors (W, d ≥ 1)."""
    words = list(words)
    if forbidden.search("\0".join(words)) or not all(words):
        i, word = next((i, w) for i, w in enumerate(words) if not w or forbidden.search(w))
        raise DataError(f"word {i} ({word!r}) is empty or {problem}; the format cannot hold it")
    if vectors is None:
        return words, None
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[1] < 1:
        raise DataError(f"{len(words)} words but a vectors array of shape {vectors.shape}")
    return words, vectors


def _blocks(vectors):
    rows = max(1, _BLOCK_VALUES // max(1, vectors.shape[1]))
    for start in range(0, vectors.shape[0], rows):
        yield start, np.asarray(vectors[start : start + rows], dtype=np.float32)


def _pack_binary(names, block):
    raw, size = memoryview(np.ascontiguousarray(block, dtype="<f4").tobytes()), 4 * block.shape[1]
    return b"".join([part for i, name in enumerate(names) for part in (name, raw[i * size : (i + 1) * size], b"\n")])


def _pack_text(names, block, sep):
    """Lines `name v1<sep>v2…\\n`, the values formatted by `_format_values` in one go."""
    finite = np.isfinite(block)
    flat, lengths = _format_values(np.where(finite, block, 0), sep)
    ends, whole, parts = np.cumsum(lengths).tolist(), finite.all(axis=1).tolist(), []
    for i, (name, start) in enumerate(zip(names, [0] + ends)):
        if whole[i]:
            parts += (name, flat[start : ends[i]])
        else:  # nan/inf: rare, so the slow path is fine
            parts += (name, sep.join("%.9g" % v for v in block[i].tolist()).encode(), b"\n")
    return b"".join(parts)


def _format_values(block, sep):
    """Format a finite (n, d) block as bytes; returns the bytes and each line's length.

    Each value gets five 4-byte cells — sign/first digit/point, digits 2–5, digits 6–9, exponent,
    separator — filled from lookup tables; zero bytes pad the cells and are squeezed out at the end.
    """
    n, d = block.shape
    x = block.astype(np.float64).ravel()
    mantissa, exponent = _decimal_parts(np.abs(x))
    first, middle, last = mantissa // 10**8, mantissa // 10**4 % 10**4, mantissa % 10**4
    cells = np.empty((x.size, 5), np.uint32)
    cells[:, 0] = _LEADS[first + 10 * ((middle == 0) & (last == 0)) + 20 * (x < 0)]
    cells[:, 1] = np.where(last == 0, _QUADS_STRIPPED[middle], _QUADS[middle])
    cells[:, 2] = _QUADS_STRIPPED[last]
    cells[:, 3] = np.where(x == 0, 0, _EXPONENTS[exponent + 99])
    cells[:, 4] = _table([sep])[0]
    cells.reshape(n, d, 5)[:, -1, 4] = _table(["\n"])[0]
    chars = cells.view(np.uint8)
    keep = chars != 0
    return chars[keep].tobytes(), keep.reshape(n, -1).sum(axis=1)


def _decimal_parts(a):
    """Non-negative float64 → (9-digit int mantissa, decimal exponent e) with a ≈ m·10^(e−8)."""
    binary_exponent = np.frexp(a)[1]  # 2^(b−1) <= a < 2^b, so log10(a) is within one of this guess:
    exponent = np.floor((binary_exponent - 1) * np.log10(2)).astype(np.int64)
    scaled = a * _POWERS[_POWER_ZERO + 8 - exponent]
    exponent += scaled >= 999999999.5  # would round to 10 digits
    scaled = a * _POWERS[_POWER_ZERO + 8 - exponent]
    return np.rint(scaled).astype(np.int64), exponent


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
        raise src.fail("a fastText .bin model, which w2v cannot load yet; load the .vec file fastText writes "
                       "beside it, or run `fasttext print-word-vectors MODEL.bin < words.txt`")
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



def write_vocab(path, words, counts):
    """Write `word<TAB>count` lines in the given order, no header."""
    words = _check_table(words, None, _TSV_BREAK, "contains a tab or line break")[0]
    if len(words) != len(counts):
        raise DataError(f"{len(words)} words but {len(counts)} counts")
    lines = [f"{w}\t{int(c)}\n" for w, c in zip(words, counts)]
    with open_output(path, "wb") as handle:
        handle.write("".join(lines).encode())


def read_vocab(path):
    """Read `word<TAB>count` lines.

    Returns
    -------
    words : list of str, length W
    counts : int64 array (W,)
    """
    name = os.fspath(path)
    with open_binary(path) as handle:
        data = b"".join(read_chunks(handle, name))
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise DataError(f"{name}: empty vocabulary file")
    words, counts, seen = [], np.empty(len(lines), np.int64), set()
    for number, line in enumerate(lines, 1):
        word, count = _vocab_line(name, number, line)
        if word in seen:
            raise DataError(f"{name}: line {number}: duplicate word {word!r}")
        seen.add(word)
        words.append(word)
        counts[number - 1] = count
    if len(counts) * int(counts.max()) > MAX_COUNT and sum(counts.tolist()) > MAX_COUNT:
        raise DataError(f"{name}: the counts add up to more than {MAX_COUNT} (2^63 - 1), more than w2v can count")
    return words, counts


def _vocab_line(name, number, line):
    fields = line.rstrip(b"\r").split(b"\t")
    if len(fields) != 2 or not fields[0]:
        raise DataError(f"{name}: line {number}: expected 'word<TAB>count', got {line[:40]!r}")
    if not fields[1].isdigit() or len(fields[1]) > 18:
        shown = fields[1][:20].decode("utf-8", errors="replace")
        raise DataError(f"{name}: line {number}: count {shown!r} is not a whole number from 0 to 10^18 - 1")
    try:
        return fields[0].decode("utf-8"), int(fields[1])
    except UnicodeDecodeError:
        raise DataError(f"{name}: line {number}: the word is not valid UTF-8") from None


def save_npy(path, array):
    """Write one array as .npy, atomically and without pickle."""
    array = np.asanyarray(array)
    if array.dtype.hasobject:
        raise DataError(f"{os.fspath(path)}: cannot save an array of Python objects")
    with atomic_write(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)


def load_npy(path, mmap=True):
    """Load a .npy array (read-only memory map when `mmap`); corrupt or truncated files → DataError."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise DataError(f"{name}: no such file")
    try:
        array = np.load(name, mmap_mode="r" if mmap else None, allow_pickle=False)
    except Exception as exc:  # numpy's header parser lets tokenize, syntax and memory errors through
        reason = (str(exc).splitlines() or [""])[0][:80] or type(exc).__name__
        raise DataError(f"{name}: not a valid .npy file ({reason})") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise DataError(f"{name}: holds several arrays (.npz), expected one .npy array")
    return array
