"""Training with subwords (model.maxn > 0): the input matrix, the kernels' extra tables, and what is saved."""

import numpy as np

from ..errors import DataError
from ..store import fasttext_bin
from ..text import subwords

_INIT_BLOCK = 1 << 16  # rows drawn at a time: the 800 MB matrix never needs a second copy


def enabled(config):
    """True when the config asks for subwords."""
    return config.model.maxn > 0


def kernel_and_tables(vocab, config, tables):
    """The subword kernel for the config's arch and loss, and `tables` with each word's rows appended."""
    from . import kernels_subword  # numba: imported when training starts, not with this module

    m = config.model
    offsets, rows = subwords.word_rows(vocab.words, m.minn, m.maxn, m.buckets)
    return kernels_subword.KERNELS[(m.arch, m.loss)], tuple(tables) + (offsets, rows)


def init_input(n_words, config):
    """fastText's start: the whole input matrix, words and buckets, uniform in [-1/d, 1/d].

    Returns
    -------
    ndarray of float32, shape (n_words + buckets, d)
    """
    dim, buckets = config.model.vector_size, config.model.buckets
    rng = np.random.default_rng(config.train.seed)
    try:
        w_in = np.empty((n_words + buckets, dim), dtype=np.float32)
    except (MemoryError, ValueError):
        gib = (n_words + buckets) * dim * 4 / 2**30
        raise DataError(f"{n_words} words and {buckets} n-gram buckets of {dim} dimensions need {gib:.3g} GiB, "
                        "more than memory can hold; lower model.buckets or model.vector_size") from None
    for lo in range(0, len(w_in), _INIT_BLOCK):
        block = w_in[lo:lo + _INIT_BLOCK]
        rng.random(block.shape, dtype=np.float32, out=block)
        block *= np.float32(2.0 / dim)
        block -= np.float32(1.0 / dim)
    return w_in


def word_vectors(tables, w_in, config):
    """The vectors a word-only reader should see: each word's mean of its rows (w_in itself without subwords)."""
    if not enabled(config):
        return w_in
    return subwords.mean_rows(w_in, tables[-2], tables[-1])


def saved_arrays(trainer, state, vectors):
    """The keyword arguments of `modeldir.save_trained` beyond the word vectors: n-gram rows, fastText's file."""
    return model_arrays(trainer.config, trainer.data.vocab, state.w_in, state.w_out, trainer.data.raw_tokens, vectors)


def model_arrays(config, vocab, w_in, w_out, ntokens, vectors):
    """`saved_arrays` from the parts of a run: w_in (W [+ buckets], d), w_out, the corpus tokens, the word vectors."""
    subword = enabled(config)
    extra = {"ngrams": w_in[len(vocab):] if subword else None}
    if "fasttext-bin" in config.output.formats:
        extra["fasttext"] = lambda: fasttext_model(vocab, config, w_in, w_out, ntokens, vectors)
    return extra


def fasttext_model(vocab, config, w_in, w_out, ntokens, vectors):
    """The trained model as fastText sees it (a `fasttext_bin.FastTextModel`)."""
    m = config.model
    subword = enabled(config)
    if m.loss == "hs":  # fastText keeps one output row per word; w2v's tree has W - 1 inner nodes
        w_out = np.concatenate([w_out, np.zeros((len(vocab) - len(w_out), w_out.shape[1]), np.float32)])
    return fasttext_bin.FastTextModel(
        list(vocab.words), np.asarray(vocab.counts), w_in if subword else vectors, w_out,
        m.minn, m.maxn if subword else 0, m.buckets if subword else 0, m.arch, m.loss, m.window,
        config.train.epochs, config.vocab.min_count, m.negative, config.vocab.sample, ntokens)
