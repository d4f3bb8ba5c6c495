"""Training with subwords (model.maxn > 0): the compact input matrix, the kernels' extra tables, and what is saved.

The full input matrix of fastText's model has a row for each word and each of `model.buckets`
n-gram buckets: 800 MB at 2,000,000 × 100. Training touches only the buckets that some
word of the vocabulary hashes an n-gram into (125,101 on the text8 prefix), so it holds
just those: the word rows, then the used buckets in order (a `Layout`). Each row starts as
it would in the full matrix (`start_rows`: a hash of the seed, the row and the column), so
training gives the same numbers as with the full matrix. The model directory keeps the
same rows (ngrams.npy with their bucket ids in ngram_buckets.npy); the buckets no word
uses are zero, and fastText's file, which holds the full matrix, is written a block of
rows at a time.
"""

from dataclasses import dataclass
from itertools import chain

import numpy as np

from ..errors import DataError
from ..store import fasttext_bin
from ..store.tables import RowBlocks, sparse_rows
from ..text import subwords
from . import padding

_INIT_BLOCK = 8192  # rows drawn at a time, which bounds the hash's temporaries


def enabled(config):
    """True when the config asks for subwords."""
    return config.model.maxn > 0


@dataclass
class Layout:
    """Where the rows of the full input matrix (W words, then `buckets` n-gram rows) sit in training.

    used : int64 (U,), sorted — the buckets some word's n-grams hash into; training holds
        W + U rows: the words, then these buckets in order
    offsets, rows : each word's rows in the compact matrix as CSR (see `subwords.word_rows`)
    overlap : float32 (W,) — Σ_r c_r² / n of each word's n rows, c_r the times row r is listed
        (1 when no row repeats): how far the mean of the rows moves when each gets a step
    """

    n_words: int
    buckets: int
    used: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray
    overlap: np.ndarray

    @property
    def n_rows(self):
        return self.n_words + len(self.used)


def make_layout(vocab, config):
    """The Layout of a vocabulary's words and n-grams under the config's minn, maxn and buckets."""
    m, n_words = config.model, len(vocab)
    offsets, rows = subwords.word_rows(vocab.words, m.minn, m.maxn, m.buckets)
    grams = rows >= n_words
    used, compact = np.unique(rows[grams], return_inverse=True)
    rows[grams] = n_words + compact.astype(np.int32)
    return Layout(n_words, m.buckets, used.astype(np.int64) - n_words, offsets, rows, _overlap(offsets, rows))


def _overlap(offsets, rows):
    """Σ_r c_r² / n of each word's rows (see Layout.overlap), float32 (W,)."""
    n_words = len(offsets) - 1
    lengths = np.diff(offsets)
    word = np.repeat(np.arange(n_words, dtype=np.int64), lengths)
    _, first, counts = np.unique(word * (int(rows.max(initial=0)) + 1) + rows, return_index=True, return_counts=True)
    squares = np.bincount(word[first], weights=counts.astype(np.float64) ** 2, minlength=n_words)
    return (squares / np.maximum(lengths, 1)).astype(np.float32)


def kernel_and_tables(config, tables, layout, by_pair=False):
    """The subword kernel for the config's arch and loss, and `tables` with each word's rows (a Layout) appended.

    `by_pair` (cluster replicas) trains skip-gram neg in fastText's order, a step per pair, instead of
    a window at a time: the replicas' summed updates of the window order lost 0.06–0.08 of WS-353 on
    the text8 prefix (0.38–0.40 against 0.46 for fastText's order, `--cluster local:2`, seeds 1–2),
    while a local run of it keeps WS-353 (README, Subwords).
    """
    from . import kernels_subword  # numba: imported when training starts, not with this module

    rows = (layout.offsets, layout.rows, layout.overlap)
    key = (config.model.arch, config.model.loss)
    if by_pair and key == ("skipgram", "neg"):
        return kernels_subword.train_subword_skipgram_neg_by_pair, tuple(tables) + rows
    return kernels_subword.KERNELS[key], tuple(tables) + rows


def _full_rows(layout):
    """The rows of the full matrix that training holds, in order: int64 (W + U,)."""
    return np.concatenate([np.arange(layout.n_words, dtype=np.int64), layout.n_words + layout.used])


_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(z):
    """splitmix64's finalizer, in place on a uint64 array."""
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def start_rows(rows, dim, seed):
    """fastText's start of some rows of the full input matrix: uniform in [-1/d, 1/d).

    Each value comes from a hash of the seed, its row and its column, so a row starts the same
    whichever other rows are drawn, and the rows no word uses are never drawn.

    Parameters
    ----------
    rows : int64 (n,), rows of the full matrix (words, then `n_words + bucket`)
    dim : int
    seed : int

    Returns
    -------
    ndarray of float32, shape (n, dim)
    """
    out = padding.zeros(len(rows), dim)
    key = _mix(np.array([seed], dtype=np.uint64) + _GOLDEN)
    columns = np.arange(dim, dtype=np.uint64)
    for lo in range(0, len(rows), _INIT_BLOCK):
        z = np.asarray(rows[lo:lo + _INIT_BLOCK], dtype=np.uint64)[:, None] * np.uint64(dim) + columns
        z += key + _GOLDEN
        top = (_mix(z) >> np.uint64(40)).astype(np.float32)  # 24 random bits: exact in float32
        out[lo:lo + _INIT_BLOCK] = top * np.float32(2.0 / dim / 2**24) - np.float32(1.0 / dim)
    return out


def init_input(layout, config):
    """The compact input matrix at its start: the rows of the full one that training holds.

    Returns
    -------
    ndarray of float32, shape (W + U, d)
    """
    dim = config.model.vector_size
    try:
        return start_rows(_full_rows(layout), dim, config.train.seed)
    except (MemoryError, ValueError):
        gib = layout.n_rows * dim * 4 / 2**30
        raise DataError(f"{layout.n_words} words and {len(layout.used)} n-gram buckets of {dim} dimensions need "
                        f"{gib:.3g} GiB, more than memory can hold; lower model.vector_size") from None


def restore_input(layout, w_in, where):
    """A checkpoint's input matrix as training holds it: compact already, or full (checkpoints
    written before training held only the used buckets) and then compacted."""
    if len(w_in) == layout.n_rows:
        return w_in
    if len(w_in) == layout.n_words + layout.buckets:
        return w_in[_full_rows(layout)]
    raise DataError(f"{where}: corrupt checkpoint (w_in has {len(w_in)} rows; this vocabulary and its n-grams "
                    f"need {layout.n_rows})")


def word_vectors(tables, w_in, config):
    """The vectors a word-only reader should see: each word's mean of its rows (w_in itself without subwords)."""
    if not enabled(config):
        return w_in
    return subwords.mean_rows(w_in, tables[-3], tables[-2])


def saved_arrays(trainer, state, vectors):
    """The keyword arguments of `modeldir.save_trained` beyond the word vectors: the words' own input
    rows and the full bucket matrix of a subword model, fastText's file."""
    return model_arrays(trainer.config, trainer.data.vocab, state.w_in, state.w_out, trainer.data.raw_tokens,
                        vectors, trainer.layout)


def model_arrays(config, vocab, w_in, w_out, ntokens, vectors, layout):
    """`saved_arrays` from the parts of a run: w_in (W [+ U], d) in `layout`'s rows, w_out, the corpus
    tokens, the word vectors; `layout` is None without subwords."""
    extra = {}
    if layout is not None:
        extra["subword"] = {"word_rows": w_in[:len(vocab)], "ngrams": w_in[len(vocab):], "ngram_buckets": layout.used}
    if "fasttext-bin" in config.output.formats:
        extra["fasttext"] = lambda: fasttext_model(vocab, config, w_in, w_out, ntokens, vectors, layout)
    return extra


def fasttext_model(vocab, config, w_in, w_out, ntokens, vectors, layout):
    """The trained model as fastText sees it (a `fasttext_bin.FastTextModel`); `layout` is the Layout
    of a subword model, None without subwords."""
    m = config.model
    subword = layout is not None
    input_matrix = vectors
    if subword:  # the full matrix, zero for the buckets no word uses, written a block at a time
        ngrams = sparse_rows(w_in[len(vocab):], layout.used, layout.buckets)
        word_rows = w_in[:len(vocab)]
        input_matrix = RowBlocks((len(vocab) + layout.buckets, ngrams.shape[1]),
                                 lambda: chain([word_rows], ngrams.blocks()))
    return fasttext_bin.FastTextModel(
        list(vocab.words), np.asarray(vocab.counts), input_matrix, fasttext_bin.output_rows(w_out, len(vocab)),
        m.minn, m.maxn if subword else 0, m.buckets if subword else 0, m.arch, m.loss, m.window,
        config.train.epochs, config.vocab.min_count, m.negative, config.vocab.sample, ntokens)
