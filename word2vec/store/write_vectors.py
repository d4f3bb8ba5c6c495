"""Writing vectors: the C tool's text and binary formats (gensim and fastText read them) and the projector's TSV.

Text values are formatted in bulk from lookup tables: 9 significant digits, which read back
as the very same float32.
"""

import os
import re

import numpy as np

from ..errors import DataError
from ..fileio import open_output

_BLOCK_VALUES = 1 << 20  # floats formatted or packed at a time
_WORD_SPACE = re.compile(r"[ \t\n\r\x0b\x0c]")  # what the C tool, gensim and fastText split on
TSV_BREAK = re.compile(r"[\t\n\r]")


def _table(cells):
    """Strings of at most 4 ASCII characters → uint32 cells holding their bytes, zero-padded."""
    return np.frombuffer("".join(c.ljust(4, "\0") for c in cells).encode(), np.uint32)


_QUADS = _table(["%04d" % i for i in range(10**4)])
_QUADS_STRIPPED = _table([("%04d" % i).rstrip("0") for i in range(10**4)])  # trailing zeros dropped
_LEADS = _table([s + str(i) + p for s in ("", "-") for p in (".", "") for i in range(10)])
_EXPONENTS = _table(["e%+03d" % e for e in range(-99, 100)])
_POWER_ZERO = 60
_POWERS = np.array([float(f"1e{k}") for k in range(-_POWER_ZERO, _POWER_ZERO + 1)])  # correctly rounded


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
    words, vectors = check_table(words, vectors, _WORD_SPACE, "contains whitespace")
    with open_output(path, "wb", stdout=True) as handle:
        handle.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for start, block in _blocks(vectors):
            names = [w.encode() + b" " for w in words[start : start + len(block)]]
            handle.write(_pack_binary(names, block) if binary else pack_text(names, block, " "))


def write_projector(folder, words, vectors):
    """Write TensorBoard projector files `vectors.tsv` (tab-separated floats) and `metadata.tsv`.

    `metadata.tsv` holds one word per line and no header, as the projector expects for one column.
    """
    words, vectors = check_table(words, vectors, TSV_BREAK, "contains a tab or line break")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {folder}: {exc.strerror or exc}") from None
    with open_output(os.path.join(folder, "vectors.tsv"), "wb") as handle:
        for start, block in _blocks(vectors):
            handle.write(pack_text([b""] * len(block), block, "\t"))
    with open_output(os.path.join(folder, "metadata.tsv"), "wb") as handle:
        handle.write("".join(w + "\n" for w in words).encode())


def check_table(words, vectors, forbidden, problem):
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


def pack_text(names, block, sep):
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
