"""fastText's `.bin` model file (version 12), read and written: args, dictionary, input and output matrices.

The layout follows fastText's `FastText::saveModel`, `Args::save`, `Dictionary::save` and
`DenseMatrix::save`, all little-endian:
    int32 magic 793712314, int32 version 12
    args: int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn,
          lrUpdateRate; float64 t
    dictionary: int32 size, nwords, nlabels; int64 ntokens, pruneidx_size;
          each entry: word bytes, NUL, int64 count, int8 type (0 word, 1 label);
          then pruneidx_size pairs of int32
    bool quant, int64 m, int64 n, float32 m×n   the input matrix (nwords + bucket rows)
    bool quant, int64 m, int64 n, float32 m×n   the output matrix
Only unsupervised, unquantized models are read; the others are refused with one line.
"""

import os
import struct
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..fileio import atomic_write, open_binary

MAGIC = 793712314
VERSION = 12
_ARGS = struct.Struct("<12id")
_DICT_HEAD = struct.Struct("<3i2q")
_MATRIX_HEAD = struct.Struct("<?2q")
LOSSES = {1: "hs", 2: "neg", 3: "softmax", 4: "ova"}  # fastText's loss_name
MODELS = {1: "cbow", 2: "skipgram", 3: "supervised"}  # fastText's model_name
_ROWS_PER_BLOCK = 1 << 16


@dataclass
class FastTextModel:
    """A fastText model: the dictionary, the raw matrices and the args that matter here.

    input_matrix float32 (len(words) + buckets, d): word rows, then n-gram bucket rows;
    output_matrix float32 (len(words), d).
    """

    words: list
    counts: np.ndarray
    input_matrix: np.ndarray
    output_matrix: np.ndarray
    minn: int
    maxn: int
    buckets: int
    arch: str = "skipgram"
    loss: str = "neg"
    window: int = 5
    epochs: int = 5
    min_count: int = 5
    negative: int = 5
    sample: float = 1e-4
    ntokens: int = 0


def write(path, model):
    """Write `model` (a FastTextModel) as a fastText `.bin` that fastText and gensim load.

    Parameters
    ----------
    path : str or path-like; written to a temporary file and renamed
    model : FastTextModel
    """
    dim = model.input_matrix.shape[1]
    loss = {v: k for k, v in LOSSES.items()}[model.loss]
    arch = {v: k for k, v in MODELS.items()}[model.arch]
    with atomic_write(path, "wb") as handle:
        handle.write(struct.pack("<2i", MAGIC, VERSION))
        handle.write(_ARGS.pack(dim, model.window, model.epochs, model.min_count, model.negative, 1, loss, arch,
                                model.buckets, model.minn, model.maxn, 100, model.sample))
        n = len(model.words)
        handle.write(_DICT_HEAD.pack(n, n, 0, int(model.ntokens), -1))
        entries = [w.encode("utf-8") + b"\0" + struct.pack("<qb", int(c), 0) for w, c in zip(model.words, model.counts)]
        handle.write(b"".join(entries))
        _write_matrix(handle, model.input_matrix)
        _write_matrix(handle, model.output_matrix)


def _write_matrix(handle, matrix):
    handle.write(_MATRIX_HEAD.pack(False, matrix.shape[0], matrix.shape[1]))
    for start in range(0, matrix.shape[0], _ROWS_PER_BLOCK):
        handle.write(np.ascontiguousarray(matrix[start:start + _ROWS_PER_BLOCK], dtype="<f4").tobytes())


def is_fasttext_bin(path):
    """True when the file at `path` starts with fastText's magic number."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == MAGIC.to_bytes(4, "little")
    except OSError:
        return False


def read(path):
    """Read an unsupervised, unquantized fastText `.bin` (fastText's or gensim's `save_facebook_model`).

    Returns
    -------
    FastTextModel

    Raises
    ------
    DataError
        For another version, a supervised or quantized model, or a truncated or corrupt file.
    """
    name = os.fspath(path)
    with open_binary(path) as handle:
        reader = _Reader(handle, name)
        magic, version = reader.unpack(struct.Struct("<2i"))
        if magic != MAGIC:
            raise DataError(f"{name}: not a fastText .bin model (no magic number)")
        if version not in (11, VERSION):  # 11 has the same layout
            raise DataError(f"{name}: fastText .bin version {version}; w2v reads versions 11 and {VERSION}")
        args = reader.unpack(_ARGS)
        dim, ws, epoch, min_count, neg, _, loss, arch, bucket, minn, maxn, _, t = args
        if dim <= 0 or bucket < 0 or (maxn > 0 and not 0 < minn <= maxn):
            raise DataError(f"{name}: corrupt fastText .bin header (dim {dim}, bucket {bucket}, minn {minn}, maxn {maxn})")
        if MODELS.get(arch) == "supervised" or LOSSES.get(loss) == "ova":
            raise DataError(f"{name}: a supervised fastText model (a classifier); w2v loads word vector models only")
        words, counts, ntokens = _read_dictionary(reader, name)
        input_matrix = _read_matrix(reader, name, "input")
        output_matrix = _read_matrix(reader, name, "output")
    if input_matrix.shape != (len(words) + bucket, dim):
        raise DataError(f"{name}: the input matrix is {input_matrix.shape[0]}×{input_matrix.shape[1]}, but the "
                        f"header says {len(words)} words + {bucket} buckets of {dim} dimensions")
    return FastTextModel(words, counts, input_matrix, output_matrix, minn, maxn, bucket, MODELS.get(arch, "skipgram"),
                         LOSSES.get(loss, "neg"), ws, epoch, min_count, neg, t, ntokens)


def _read_dictionary(reader, name):
    size, nwords, nlabels, ntokens, pruneidx_size = reader.unpack(_DICT_HEAD)
    if nlabels > 0:
        raise DataError(f"{name}: a supervised fastText model ({nlabels} labels); w2v loads word vector models only")
    if pruneidx_size > 0:
        raise DataError(f"{name}: a quantized fastText model (.ftz); w2v loads unquantized .bin models only")
    if not 0 <= nwords == size:
        raise DataError(f"{name}: corrupt fastText dictionary ({size} entries, {nwords} words)")
    words, counts = [], np.empty(size, dtype=np.int64)
    for i in range(size):
        raw = reader.until_nul()
        count, kind = reader.unpack(_ENTRY_TAIL)
        if kind != 0:
            raise DataError(f"{name}: a supervised fastText model (label entries); w2v loads word vector models only")
        words.append(raw.decode("utf-8", errors="replace"))
        counts[i] = count
    return words, counts, ntokens


_ENTRY_TAIL = struct.Struct("<qb")


def _read_matrix(reader, name, which):
    quant, rows, dim = reader.unpack(_MATRIX_HEAD)
    if quant:
        raise DataError(f"{name}: a quantized fastText model (.ftz); w2v loads unquantized .bin models only")
    if rows < 0 or dim <= 0:
        raise DataError(f"{name}: corrupt {which} matrix header ({rows}×{dim})")
    size = rows * dim * 4
    if os.path.isfile(name) and size > os.path.getsize(name):
        raise DataError(f"{name}: truncated: the {which} matrix needs {size} bytes, more than the file holds")
    return np.frombuffer(reader.take(size), dtype="<f4").reshape(rows, dim).astype(np.float32, copy=False)


class _Reader:
    """Exact reads from a binary handle; a short read is a DataError naming the file."""

    def __init__(self, handle, name):
        self.handle, self.name = handle, name

    def take(self, size):
        data = self.handle.read(size)
        if len(data) != size:
            raise DataError(f"{self.name}: truncated fastText .bin file")
        return data

    def unpack(self, fmt):
        return fmt.unpack(self.take(fmt.size))

    def until_nul(self, longest=1 << 16):
        out = bytearray()
        while True:
            byte = self.handle.read(1)
            if not byte:
                raise DataError(f"{self.name}: truncated fastText .bin file")
            if byte == b"\0":
                return bytes(out)
            out += byte
            if len(out) > longest:
                raise DataError(f"{self.name}: corrupt fastText dictionary (a word of more than {longest} bytes)")
