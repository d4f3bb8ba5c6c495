"""Tables beside the vectors: the vocabulary as `word<TAB>count` lines, and .npy arrays (never pickled)."""

import os

import numpy as np

from ..errors import DataError
from ..fileio import atomic_write, open_binary, open_output, read_chunks
from .write_vectors import TSV_BREAK, check_table

MAX_COUNT = 2**63 - 1  # counts and their sums are int64


def write_vocab(path, words, counts):
    """Write `word<TAB>count` lines in the given order, no header."""
    words = check_table(words, None, TSV_BREAK, "contains a tab or line break")[0]
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
