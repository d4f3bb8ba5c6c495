"""The Python API for notebooks and scripts: train, load, and the evaluation run after training."""

import os

import numpy as np

from . import config as config_mod
from .query.vectors import Vectors, load


def _as_config(config):
    if config is None:
        return config_mod.Config()
    if isinstance(config, config_mod.Config):
        return config
    if isinstance(config, dict):
        return config_mod.from_dict(config)
    return config_mod.resolve(os.fspath(config))


def _training():
    """The training module, imported on first use: it loads numba, which queries need not."""
    from .training import loop as training

    return training


def _reporter(progress, quiet):
    train_mod = _training()
    return train_mod.Reporter(progress=progress, log=(lambda m: None) if quiet else train_mod.Reporter().log)


def evaluation_hooks(reporter):
    """Training hooks that run eval.analogy / eval.similarity after training (used by `w2v train` too),
    and check those files before training starts."""
    def evaluate(config, vocab, w_in):
        return evaluate_after_training(config, vocab, w_in, reporter)

    return _training().Hooks(evaluate=evaluate, check=check_evaluation_files)


def check_evaluation_files(config):
    """Read and parse eval.analogy / eval.similarity now, so a bad file fails before training, not after.

    They are scored against a one-word stand-in model: every question is then out of vocabulary,
    but each line is parsed as the real evaluation will parse it.
    """
    from .query import evaluate

    stand_in = Vectors(["\0"], np.zeros((1, 1), np.float32))
    if config.eval.analogy:
        evaluate.evaluate_analogies(stand_in, config.eval.analogy, restrict=config.eval.restrict)
    for path in config.eval.similarity:
        evaluate.evaluate_pairs(stand_in, path)


def _paths(corpus):
    if corpus is None:
        return None
    if isinstance(corpus, (str, os.PathLike)):
        return [os.fspath(corpus)]
    return [os.fspath(p) for p in corpus]


def train(corpus, config=None, output="model", *, progress=False, quiet=True, vocab=None):
    """Train on `corpus` (a path, `-`, or a list of them) and return the trained Vectors.

    `config` is a Config, a dict of sections holding only the keys that change, or a YAML
    path; the model directory `output` is written as by `w2v train`. `vocab` is an optional
    `word<TAB>count` file to use instead of counting.
    """
    train_mod = _training()
    reporter = _reporter(progress, quiet)
    vocab_obj = train_mod.load_vocab(os.fspath(vocab)) if vocab is not None else None
    inputs = [os.fspath(p) for p in (vocab, config) if isinstance(p, (str, os.PathLike))]
    config = _as_config(config)
    words, w_in, _ = train_mod.train(_paths(corpus), config, os.fspath(output), reporter,
                                     vocab_obj, evaluation_hooks(reporter), inputs)
    if config.model.maxn:  # with the n-gram rows, for words out of the vocabulary
        return load(os.fspath(output))
    return Vectors(words.words, w_in, words.counts)


def resume(output, corpus=None, *, progress=False, quiet=True):
    """Continue an interrupted run from the checkpoint in `output`; returns the trained Vectors."""
    train_mod = _training()
    reporter = _reporter(progress, quiet)
    words, w_in, _ = train_mod.resume(os.fspath(output), _paths(corpus), reporter, evaluation_hooks(reporter))
    return Vectors(words.words, w_in, words.counts)


def evaluate_after_training(config, vocab, w_in, reporter):
    """Scores of eval.analogy / eval.similarity, for metrics.json and stderr."""
    from .query import evaluate

    if not config.eval.analogy and not config.eval.similarity:
        return {}
    vectors = Vectors(vocab.words, w_in, vocab.counts)
    result = {}
    if config.eval.analogy:
        sections = evaluate.evaluate_analogies(vectors, config.eval.analogy, restrict=config.eval.restrict)
        total = sections[-1]
        result["analogy"] = {"file": config.eval.analogy, "sections": sections}
        reporter.log(f"analogy: {total['accuracy']:.2%} of {total['questions']} questions "
                     f"({total['skipped']} skipped as out of vocabulary)")
    for path in config.eval.similarity:
        scores = evaluate.evaluate_pairs(vectors, path)
        result.setdefault("similarity", []).append(scores)
        reporter.log(f"similarity {path}: spearman {scores['spearman']:.4f}, pearson {scores['pearson']:.4f}, "
                     f"{scores['pairs']} pairs, {scores['oov']:.1%} out of vocabulary")
    return result


__all__ = ["train", "resume", "load", "Vectors", "evaluate_after_training"]
