"""Training with subwords (model.maxn > 0): the compact input matrix, the kernels' extra tables, and what is saved.

The full input matrix of fastText's model has a row for each word and each of `model.buckets`
n-gram buckets: 800 MB at 2,000,000 × 100. Training touches only the buckets that some
word of the vocabulary hashes an n-gram into (about 125,000 on the text8 prefix), so it
holds just those: the word rows, then the used buckets in order (a `Layout`). Each row
starts as it would in the full matrix (fastText's uniform draw, taken from one stream in
the full matrix's order), so training gives the same numbers as with the full matrix. The
saved files hold the full matrix, written a block of rows at a time: the trained rows, and
zero for the buckets no word uses (see `bucket_matrix`).
"""

from dataclasses import dataclass
from itertools import chain

import numpy as np

from ..errors import DataError
from ..store import fasttext_bin
from ..store.tables import RowBlocks
from ..text import subwords
from . import kernels_subword

_INIT_BLOCK = 1 << 16  # rows drawn at a time; the stream's blocks must stay this size, or the draws change


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


def kernel_and_tables(config, tables, layout):
    """The subword kernel for the config's arch and loss, and `tables` with each word's rows (a Layout) appended."""
    rows = (layout.offsets, layout.rows, layout.overlap)
    return kernels_subword.KERNELS[(config.model.arch, config.model.loss)], tuple(tables) + rows


def _full_rows(layout):
    """The rows of the full matrix that training holds, in order: int64 (W + U,)."""
    return np.concatenate([np.arange(layout.n_words, dtype=np.int64), layout.n_words + layout.used])


def _draws(n_rows, dim, seed):
    """fastText's start of the full matrix, uniform in [-1/d, 1/d), drawn block by block: (first row, block)."""
    rng = np.random.default_rng(seed)
    block = np.empty((_INIT_BLOCK, dim), dtype=np.float32)
    for lo in range(0, n_rows, _INIT_BLOCK):
        out = block[:min(_INIT_BLOCK, n_rows - lo)]
        rng.random(out.shape, dtype=np.float32, out=out)
        out *= np.float32(2.0 / dim)
        out -= np.float32(1.0 / dim)
        yield lo, out


def init_input(layout, config):
    """The compact input matrix at its start: the rows of the full one that training holds.

    The whole stream of the full matrix is drawn (a block at a time, never held), so each row
    starts where it would in the full matrix.

    Returns
    -------
    ndarray of float32, shape (W + U, d)
    """
    dim = config.model.vector_size
    keep = _full_rows(layout)
    try:
        w_in = np.empty((len(keep), dim), dtype=np.float32)
    except (MemoryError, ValueError):
        gib = len(keep) * dim * 4 / 2**30
        raise DataError(f"{layout.n_words} words and {len(layout.used)} n-gram buckets of {dim} dimensions need "
                        f"{gib:.3g} GiB, more than memory can hold; lower model.vector_size") from None
    for lo, block in _draws(layout.n_words + layout.buckets, dim, config.train.seed):
        a, b = np.searchsorted(keep, [lo, lo + len(block)])
        w_in[a:b] = block[keep[a:b] - lo]
    return w_in


def restore_input(layout, w_in, where):
    """A checkpoint's input matrix as training holds it: compact already, or full (checkpoints
    written before training held only the used buckets) and then compacted."""
    if len(w_in) == layout.n_rows:
        return w_in
    if len(w_in) == layout.n_words + layout.buckets:
        return w_in[_full_rows(layout)]
    raise DataError(f"{where}: corrupt checkpoint (w_in has {len(w_in)} rows; this vocabulary and its n-grams "
                    f"need {layout.n_rows})")


def bucket_matrix(layout, w_in):
    """The full bucket matrix (buckets, d) of the compact `w_in`, as RowBlocks to write a block at a time.

    The buckets that no word of the vocabulary uses are zero. fastText and gensim leave them at
    their random start, where they only add noise to the vector of a word out of the vocabulary:
    zero rows leave its direction to the n-grams that were trained (its length shrinks by the
    share of untrained ones, which no cosine sees).
    """
    dim, n_words, used = w_in.shape[1], layout.n_words, layout.used

    def blocks():
        for lo in range(0, layout.buckets, _INIT_BLOCK):
            hi = min(lo + _INIT_BLOCK, layout.buckets)
            block = np.zeros((hi - lo, dim), dtype=np.float32)
            a, b = np.searchsorted(used, [lo, hi])
            block[used[a:b] - lo] = w_in[n_words + a:n_words + b]
            yield block

    return RowBlocks((layout.buckets, dim), blocks)


def word_vectors(tables, w_in, config):
    """The vectors a word-only reader should see: each word's mean of its rows (w_in itself without subwords)."""
    if not enabled(config):
        return w_in
    return subwords.mean_rows(w_in, tables[-3], tables[-2])


def saved_arrays(trainer, state, vectors):
    """The keyword arguments of `modeldir.save_trained` beyond the word vectors: the words' own input
    rows and the full bucket matrix of a subword model, fastText's file."""
    config, vocab, layout = trainer.config, trainer.data.vocab, trainer.layout
    extra = {}
    if layout is not None:
        extra["subword"] = {"word_rows": state.w_in[:len(vocab)], "ngrams": bucket_matrix(layout, state.w_in)}
    if "fasttext-bin" in config.output.formats:
        extra["fasttext"] = lambda: fasttext_model(vocab, config, state, trainer.data.raw_tokens, vectors, layout)
    return extra


def fasttext_model(vocab, config, state, ntokens, vectors, layout):
    """The trained model as fastText sees it (a `fasttext_bin.FastTextModel`); `layout` is the Layout
    of a subword model, None without subwords."""
    m = config.model
    subword = layout is not None
    input_matrix = vectors
    if subword:
        ngrams, word_rows = bucket_matrix(layout, state.w_in), state.w_in[:len(vocab)]
        input_matrix = RowBlocks((len(vocab) + layout.buckets, ngrams.shape[1]),
                                 lambda: chain([word_rows], ngrams.blocks()))
    return fasttext_bin.FastTextModel(
        list(vocab.words), np.asarray(vocab.counts), input_matrix, fasttext_bin.output_rows(state.w_out, len(vocab)),
        m.minn, m.maxn if subword else 0, m.buckets if subword else 0, m.arch, m.loss, m.window,
        config.train.epochs, config.vocab.min_count, m.negative, config.vocab.sample, ntokens)
