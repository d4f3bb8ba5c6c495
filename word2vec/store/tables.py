"""Tables beside the vectors: the vocabulary as `word<TAB>count` lines, and .npy arrays (never pickled)."""

import os
from dataclasses import dataclass

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


@dataclass
class RowBlocks:
    """A float32 matrix too big to hold whole, written a block of rows at a time.

    shape : (rows, d)
    blocks : callable returning a fresh iterator of float32 arrays (k, d) whose rows, in order,
        make the matrix (the sizes of the blocks are free)
    """

    shape: tuple
    blocks: callable


_BLOCK_ROWS = 1 << 16


def row_blocks(matrix):
    """The rows of `matrix` (an array or RowBlocks) as contiguous little-endian float32 blocks."""
    if isinstance(matrix, RowBlocks):
        yield from (np.ascontiguousarray(block, dtype="<f4") for block in matrix.blocks())
        return
    for start in range(0, matrix.shape[0], _BLOCK_ROWS):
        yield np.ascontiguousarray(matrix[start:start + _BLOCK_ROWS], dtype="<f4")


def sparse_rows(rows, ids, n_rows):
    """RowBlocks of a matrix (n_rows, d) that is zero but at the sorted row numbers `ids` (k,),
    which hold `rows` (k, d)."""
    dim = rows.shape[1]

    def blocks():
        for lo in range(0, n_rows, _BLOCK_ROWS):
            hi = min(lo + _BLOCK_ROWS, n_rows)
            block = np.zeros((hi - lo, dim), dtype=np.float32)
            a, b = np.searchsorted(ids, [lo, hi])
            block[ids[a:b] - lo] = rows[a:b]
            yield block

    return RowBlocks((n_rows, dim), blocks)


def npy_rows(path):
    """A 2-d .npy file as RowBlocks that read it a block at a time: a memory map would leave each
    page it passed over in the resident set (800 MB for the default bucket matrix)."""
    array = load_npy(path, mmap=True)
    if array.ndim != 2:
        raise DataError(f"{os.fspath(path)}: holds an array of shape {array.shape}, expected rows of vectors")
    offset = getattr(array, "offset", None)
    if offset is None or not array.flags.c_contiguous or array.size == 0:
        return RowBlocks(array.shape, lambda: iter([array]))
    shape, dtype = array.shape, array.dtype
    del array

    def blocks():
        with open(path, "rb") as handle:
            handle.seek(offset)
            for start in range(0, shape[0], _BLOCK_ROWS):
                rows = min(_BLOCK_ROWS, shape[0] - start)
                data = handle.read(rows * shape[1] * dtype.itemsize)
                if len(data) != rows * shape[1] * dtype.itemsize:
                    raise DataError(f"{os.fspath(path)}: truncated while it was read")
                yield np.frombuffer(data, dtype).reshape(rows, shape[1])

    return RowBlocks(shape, blocks)


def save_npy(path, array):
    """Write one array (or a float32 RowBlocks, block by block) as .npy, atomically and without pickle."""
    if isinstance(array, RowBlocks):
        _save_blocks(path, array)
        return
    array = np.asanyarray(array)
    if array.dtype.hasobject:
        raise DataError(f"{os.fspath(path)}: cannot save an array of Python objects")
    with atomic_write(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)


def _save_blocks(path, matrix):
    """The .npy file np.save writes for the whole matrix, byte for byte, from its blocks."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")), "fortran_order": False,
              "shape": tuple(int(n) for n in matrix.shape)}
    rows = 0
    with atomic_write(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for block in row_blocks(matrix):
            handle.write(block.data)
            rows += len(block)
        if rows != matrix.shape[0]:  # a bug, not bad input: never leave a file that lies about its shape
            raise AssertionError(f"{os.fspath(path)}: {rows} rows written for a shape of {matrix.shape}")


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
