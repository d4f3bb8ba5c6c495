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

import json
import os
import struct
from dataclasses import dataclass
from itertools import chain

import numpy as np

from .. import config as config_mod
from ..errors import DataError
from ..fileio import open_binary, open_output
from . import modeldir, tables
from .tables import RowBlocks, row_blocks

MAGIC = 793712314
VERSION = 12
_ARGS = struct.Struct("<12id")
_DICT_HEAD = struct.Struct("<3i2q")
_MATRIX_HEAD = struct.Struct("<?2q")
LOSSES = {1: "hs", 2: "neg", 3: "softmax", 4: "ova"}  # fastText's loss_name
MODELS = {1: "cbow", 2: "skipgram", 3: "supervised"}  # fastText's model_name


@dataclass
class FastTextModel:
    """A fastText model: the dictionary, the raw matrices and the args that matter here.

    input_matrix float32 (len(words) + buckets, d): word rows, then n-gram bucket rows (to write,
    a `tables.RowBlocks` will do); output_matrix float32 (len(words), d).
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


def output_rows(w_out, n_words):
    """fastText's output matrix of w2v's output weights: one row per word. For hs, w2v's tree has
    n_words − 1 inner nodes and fastText's matrix one more row, left at zero."""
    if len(w_out) >= n_words:
        return w_out
    return np.concatenate([w_out, np.zeros((n_words - len(w_out), w_out.shape[1]), np.float32)])


def write(path, model):
    """Write `model` (a FastTextModel) as a fastText `.bin` that fastText and gensim load.

    Parameters
    ----------
    path : str or path-like; `-` is stdout (see `fileio.open_output`); a file is written under a
        temporary name and renamed
    model : FastTextModel
    """
    dim = model.input_matrix.shape[1]
    loss = {v: k for k, v in LOSSES.items()}[model.loss]
    arch = {v: k for k, v in MODELS.items()}[model.arch]
    with open_output(path, "wb", stdout=True) as handle:
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
    rows = 0
    for block in row_blocks(matrix):
        handle.write(block.data)
        rows += len(block)
    if rows != matrix.shape[0]:  # a bug, not bad input: never leave a file that lies about its shape
        raise AssertionError(f"{rows} rows written for a matrix of {matrix.shape}")


def from_model_dir(folder):
    """The model in a w2v model directory as fastText sees it, its big matrices read as they are written.

    A subword model's input matrix is word_rows.npy over the full bucket matrix: the rows of
    ngrams.npy at the buckets ngram_buckets.npy names, zero elsewhere.

    Returns
    -------
    FastTextModel

    Raises
    ------
    DataError
        For a directory without the files that fastText's format needs (config.yaml, w_out.npy,
        and for a subword model word_rows.npy and ngrams.npy), naming the missing one.
    """
    def need(name):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise DataError(f"{folder} has no {name}, which fastText's format needs; it holds the vectors only "
                            "(a model w2v exported, or saved by an older version): train it again")
        return path

    config = config_mod.resolve(need("config.yaml"))
    words, counts = tables.read_vocab(need("vocab.tsv"))
    m, subword = config.model, config.model.maxn > 0
    w_out = output_rows(tables.load_npy(need(modeldir.OUTPUT_WEIGHTS)), len(words))
    if subword:
        need(modeldir.NGRAMS)
        word_rows, ngrams = tables.npy_rows(need(modeldir.WORD_ROWS)), _bucket_rows(folder, m)
        _check_shapes(folder, [(word_rows, len(words)), (ngrams, m.buckets), (w_out, len(words))], m.vector_size)
        input_matrix = RowBlocks((len(words) + m.buckets, m.vector_size),
                                 lambda: chain(word_rows.blocks(), ngrams.blocks()))
    else:
        input_matrix = tables.load_npy(need("vectors.npy"))
        _check_shapes(folder, [(input_matrix, len(words)), (w_out, len(words))], m.vector_size)
    return FastTextModel(words, counts, input_matrix, w_out, m.minn, m.maxn if subword else 0,
                         m.buckets if subword else 0, m.arch, m.loss, m.window, config.train.epochs,
                         config.vocab.min_count, m.negative, config.vocab.sample, _corpus_tokens(folder))


def _bucket_rows(folder, model):
    """The full bucket matrix (buckets, d) of a model directory, as RowBlocks."""
    rows, ids = modeldir.load_ngrams(folder, model.buckets, model.vector_size)
    if ids is None:  # saved whole
        return tables.npy_rows(os.path.join(folder, modeldir.NGRAMS))
    return tables.sparse_rows(rows, ids, model.buckets)


def _check_shapes(folder, arrays, dim):
    """Refuse a model directory where an array of the (array, rows) pairs is not of shape (rows, dim)."""
    for array, rows in arrays:
        shape = (rows, dim)
        if array.shape != shape:
            raise DataError(f"{folder}: an array of shape {array.shape} where its vocab.tsv and config.yaml "
                            f"need {shape}; the directory is damaged")


def _corpus_tokens(folder):
    """The corpus size that metrics.json records (fastText's ntokens), 0 when unknown."""
    try:
        with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as handle:
            tokens = json.load(handle).get("corpus_tokens", 0)
    except (OSError, ValueError, AttributeError):
        return 0
    return tokens if isinstance(tokens, int) and tokens >= 0 else 0


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
