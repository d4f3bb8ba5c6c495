"""Continued training: a trained model's weights grown to the extended vocabulary and trained on new text."""

import os
import time
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, DataError
from ..store import modeldir
from ..text import corpus
from ..text import vocab as vocab_mod
from . import interrupts, merge
from .loop import Corpus, Hooks, Reporter, State, Trainer, _check_inputs, _run, init_weights, thread_seed

# Keys a continued run must share with the model: they fix the shapes and meaning of the weights.
# The subword keys (issue 13) are compared only when the config has them.
MUST_MATCH = ("model.arch", "model.loss", "model.vector_size", "model.minn", "model.maxn", "model.buckets")


@dataclass
class Start:
    """What a continued run starts from: the trained model's vocabulary, weights and config.

    w_in float32 (W, d); w_out float32 (W, d), or (W − 1, d) for hs (one row per inner tree node).
    """

    vocab: vocab_mod.Vocab
    w_in: np.ndarray
    w_out: np.ndarray
    config: object
    name: str = "the model"


def check_config(start, config):
    """Refuse a config that changes a key of MUST_MATCH, naming the key and both values."""
    if start.config.model.maxn:
        raise ConfigError(f"{start.name} is a subword model (model.maxn={start.config.model.maxn}); continued "
                          "training works for word models only so far: train a new model on all the text")
    for dotted in MUST_MATCH:
        section, _, key = dotted.partition(".")
        before = getattr(getattr(start.config, section), key, None)
        now = getattr(getattr(config, section), key, None)
        if before != now:
            raise ConfigError(f"{start.name} was trained with {dotted}={before}, but this run sets {now}; "
                              f"continued training keeps {dotted}")
    n_out = len(start.w_out)
    expected = max(len(start.vocab) - 1, 1) if config.model.loss == "hs" else len(start.vocab)
    if start.w_in.shape != (len(start.vocab), config.model.vector_size) or n_out != expected:
        raise DataError(f"{start.name}: the weights ({start.w_in.shape}, {start.w_out.shape}) do not fit its "
                        f"{len(start.vocab)} words of {config.model.vector_size} dimensions")


def read_more(paths, config, workdir, start, reporter):
    """Scan the new text once, extend the vocabulary (see `vocab.extend`) and encode the tokens.

    Returns the encoded Corpus and, for each word of the model, its row in the extended vocabulary.
    """
    started = time.perf_counter()
    scan = corpus.scan(paths, workdir, config.corpus.lowercase, config.corpus.max_sentence_length)
    if scan.n_tokens == 0:
        raise DataError("the corpus is empty: no tokens were found")
    vocab, remap, moved = vocab_mod.extend(start.vocab, scan.words, scan.counts, config.vocab.min_count)
    ids, ends = corpus.encode(scan, remap, workdir)
    if len(ids) == 0:
        raise DataError("no token of the corpus is in the vocabulary")
    os.unlink(scan.id_path)
    corpus.warn_bad_bytes(scan.bad_bytes, reporter.log)
    reporter.log(f"vocabulary: {len(start.vocab)} words, {len(vocab) - len(start.vocab)} new; corpus: "
                 f"{scan.n_tokens} tokens, {len(ids)} in vocabulary ({time.perf_counter() - started:.1f}s)")
    return Corpus(vocab, ids, ends, scan.n_tokens, scan.bad_bytes), moved


def grow_weights(start, moved, n_words, config):
    """Weights for the extended vocabulary: the trained rows moved to their new places, fresh rows
    (as a new run draws them) for the new words.

    For hs the tree is rebuilt from the new counts; its inner nodes keep the rows of the same
    index, as gensim does, and the added nodes start at zero.
    """
    w_in, w_out = init_weights(n_words, config)
    w_in[moved] = start.w_in
    if config.model.loss == "hs":
        w_out[: len(start.w_out)] = start.w_out
    else:
        w_out[moved] = start.w_out
    return w_in, w_out


def continue_training(paths, config, output, start, reporter=None, hooks=None, inputs=()):
    """Train `start` (a Start) further on `paths` with `config`, and save into `output`.

    New words reaching vocab.min_count join with fresh vectors; counts add up; the subsampling
    and noise tables and the Huffman tree come from the summed counts; the learning rate runs
    from train.alpha down to train.min_alpha over this run's words, as in a new run. With
    train.continue_merge "average", the words both texts hold then end as the average of their
    old and new vectors (see `merge`).

    Returns (extended vocab, input vectors, output weights, metrics dict).
    """
    reporter, hooks = reporter or Reporter(), hooks or Hooks()
    check_config(start, config)
    _check_inputs(paths, config, output, hooks, inputs)
    with interrupts.SignalGuard() as guard, modeldir.locked(output, reporter.log), corpus.make_workdir() as workdir:
        data, moved = read_more(paths, config, workdir, start, reporter)
        trainer = Trainer(data, config, reporter)
        w_in, w_out = grow_weights(start, moved, len(data.vocab), config)
        if config.train.continue_merge == "average":
            trainer.prior = merge.make_prior(start.w_in, start.vocab.counts, moved, len(data.vocab))
        rngs = np.stack([thread_seed(config.train.seed, t) for t in range(trainer.threads)])
        state = State(w_in, w_out, rngs, np.zeros((trainer.threads, 3)))
        vectors, metrics = _run(trainer, state, output, paths, hooks, guard)
    return data.vocab, vectors, state.w_out, metrics
