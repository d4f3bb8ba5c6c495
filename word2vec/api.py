"""The Python API for notebooks and scripts: train (from files or token lists), Model, load, continued training."""

import contextlib
import dataclasses
import difflib
import json
import os
import shutil
import sys
import tempfile

import numpy as np

from . import config as config_mod
from .errors import ConfigError, DataError
from .query.vectors import Vectors, load
from .safe_yaml import show
from .store import modeldir
from .text.vocab import Vocab

_API_OPTIONS = ("progress", "quiet", "vocab", "sentences", "corpus_file", "output", "config")


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
    """A Reporter whose bar is tqdm.auto's (a widget in notebooks); progress=None: on when stderr is a
    terminal or the code runs in a Jupyter kernel."""
    train_mod = _training()
    if progress is None:
        progress = "ipykernel" in sys.modules or (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    return train_mod.Reporter(progress=bool(progress), log=(lambda m: None) if quiet else train_mod.Reporter().log,
                              bar_factory=_auto_bar)


def _auto_bar(total, initial):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="w", unit_scale=True, file=sys.stderr, desc="training",
                dynamic_ncols=True, smoothing=0.1)


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


def train(corpus=None, config=None, output=None, *, sentences=None, corpus_file=None, progress=None, quiet=True,
          vocab=None, **overrides):
    """Train a model, as `w2v train` does, and return it.

    Parameters
    ----------
    corpus, corpus_file : a path, `-`, or a list of them (two names, one meaning; `corpus` is the
        first positional argument, as before)
    sentences : an iterable of token lists, read once (a generator will do); tokens are non-empty
        strings without whitespace
    config : a Config, a dict of sections holding only the keys that change, or a YAML path
    output : the model directory to write; None keeps the model in memory only (but `train(corpus, …)`
        with a positional corpus writes ./model, as it always did)
    progress : a tqdm.auto bar; None (default) shows it on a terminal or in a notebook
    quiet : no log lines on stderr
    vocab : a `word<TAB>count` file to use instead of counting
    **overrides : config keys by their own names (`vector_size=50, epochs=3, window=3`) or dotted
        (`**{"model.window": 3}`); they win over `config`

    Returns
    -------
    Model (its query methods are those of `.wv`, so `train(...).most_similar("x")` works)
    """
    given = [name for name, value in (("corpus", corpus), ("sentences", sentences), ("corpus_file", corpus_file))
             if value is not None]
    if len(given) != 1:
        raise ConfigError("give one of corpus_file= (paths) or sentences= (token lists)"
                          + (f"; got {' and '.join(given)}" if given else ""))
    output = "model" if output is None and corpus is not None else output
    inputs = [os.fspath(p) for p in (vocab, config) if isinstance(p, (str, os.PathLike))]
    config = with_overrides(_as_config(config), overrides)
    train_mod, reporter = _training(), _reporter(progress, quiet)
    vocab_obj = train_mod.load_vocab(os.fspath(vocab)) if vocab is not None else None
    with _corpus_paths(sentences, corpus if corpus is not None else corpus_file) as paths, _folder(output) as folder:
        train_mod.train(paths, config, folder, reporter, vocab_obj, evaluation_hooks(reporter), inputs)
        return load_model(folder, in_memory=output is None)


def with_overrides(config, overrides):
    """`config` with keyword overrides applied: a bare key name (`window`) finds its section; an
    unknown name is refused with the valid ones; a name found in two sections must be dotted."""
    homes = {}
    for section, cls in config_mod.SECTIONS.items():
        for f in dataclasses.fields(cls):
            homes.setdefault(f.name, []).append(section)
    dotted = {}
    for name, value in overrides.items():
        if "." in name:
            dotted[name] = value
        elif name not in homes:
            close = difflib.get_close_matches(name, list(homes) + list(_API_OPTIONS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown option {show(name)}{hint}; the config keys are {', '.join(homes)}")
        elif len(homes[name]) > 1:
            raise ConfigError(f"{name!r} is a key of {' and '.join(homes[name])}; give it as section.{name}")
        else:
            dotted[f"{homes[name][0]}.{name}"] = value
    return config.with_overrides(dotted) if dotted else config


@contextlib.contextmanager
def _corpus_paths(sentences, corpus):
    """The corpus paths; token lists are spooled once into a temporary file, as stdin is."""
    if sentences is None:
        yield _paths(corpus)
        return
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", prefix="w2v-sentences-", delete=False)
    try:
        with handle:
            spool_sentences(sentences, handle)
        yield [handle.name]
    finally:
        os.unlink(handle.name)


def spool_sentences(sentences, handle):
    """Write each token list as one line; refuse a string where a list belongs, or a token with whitespace."""
    if isinstance(sentences, (str, bytes)):
        raise ConfigError("sentences must be an iterable of token lists, not a string; give a path as corpus_file=")
    for number, sentence in enumerate(sentences, 1):
        if isinstance(sentence, (str, bytes)):
            raise ConfigError(f"sentence {number} is a string; sentences must be lists of tokens (text.split())")
        tokens = list(sentence)
        if not all(isinstance(token, str) for token in tokens):
            bad = next(token for token in tokens if not isinstance(token, str))
            raise ConfigError(f"sentence {number}: token {show(bad)} is not a string")
        line = " ".join(tokens)
        if len(line.split()) != len(tokens):
            bad = next(token for token in tokens if len(token.split()) != 1)
            raise ConfigError(f"sentence {number}: token {show(bad)} is empty or holds whitespace; "
                              "w2v splits text on whitespace, so a token cannot hold any")
        handle.write(line + "\n")


@contextlib.contextmanager
def _folder(output):
    """`output`, or a temporary folder (removed afterwards) when it is None."""
    if output is not None:
        yield os.fspath(output)
        return
    parent = tempfile.mkdtemp(prefix="w2v-model-")
    try:
        yield os.path.join(parent, "model")
    finally:
        shutil.rmtree(parent, ignore_errors=True)


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


class Model:
    """A trained model: `.wv` (Vectors), `.config` (Config), `.metrics` (dict, as metrics.json) and
    `.w_out` (the output weights continued training needs; None for a model saved without them);
    a subword model also `.word_rows`, its words' own input rows (`.wv.vectors` holds their means
    with the n-gram rows, `.wv.subwords.ngrams` the n-gram rows).

    The query methods and properties of `.wv` answer on the model too (`model.most_similar("x")`,
    `model["x"]`, `"x" in model`), so code written when `train` returned Vectors keeps working.
    """

    def __init__(self, wv, config, metrics=None, w_out=None, source=None, word_rows=None):
        if w_out is not None and not w_out.flags.c_contiguous:  # training's view of its padded rows
            w_out = np.ascontiguousarray(w_out)
        self.wv, self.config, self.metrics, self.w_out, self.source = wv, config, metrics or {}, w_out, source
        self.word_rows = word_rows

    def __getattr__(self, name):  # only for names the model lacks: delegate to the vectors
        if name.startswith("__") or name == "wv":
            raise AttributeError(name)
        return getattr(self.wv, name)

    def __getitem__(self, words):
        return self.wv[words]

    def __contains__(self, word):
        return word in self.wv

    def __len__(self):
        return len(self.wv)

    def __repr__(self):
        m = self.config.model
        origin = f"from {self.source}" if self.source else "in memory"
        return (f"<Model: {m.arch}/{m.loss}, {len(self.wv):,} words × {self.wv.vector_size} dimensions, "
                f"{len(self.metrics.get('epochs', []))} epochs, {origin}>")

    def save(self, folder):
        """Write the model directory `folder` as `w2v train` does (atomically; a folder holding
        other files than a model's is refused)."""
        folder = os.fspath(folder)
        modeldir.check_output_dir(folder)
        vocab = Vocab(self.wv.words, self.wv.counts)
        subword = None
        if self.wv.subwords is not None and self.word_rows is not None:
            sub = self.wv.subwords
            subword = {"word_rows": self.word_rows, "ngrams": sub.ngrams, "ngram_buckets": sub.ids}
        with modeldir.locked(folder):
            modeldir.save_trained(folder, vocab, self.wv.vectors, self.config, self.metrics, w_out=self.w_out,
                                  subword=subword)
        self.source = self.source or folder

    def train_more(self, sentences=None, corpus_file=None, output=None, *, progress=None, quiet=True, **overrides):
        """Continue training on new text (`sentences` or `corpus_file`, as `train` takes them).

        New words that reach vocab.min_count join with fresh vectors, counts add up, the tables and
        the Huffman tree are rebuilt, and the learning rate restarts at train.alpha (the model's,
        unless given here). At the end, with train.continue_merge "average" (the default), each
        word both texts hold gets the average of its old and new vector, weighted by the
        occurrences each has seen (see `training.merge`). arch, loss and vector_size cannot
        change. `output` is the directory to write (None: in memory only). The model itself is
        updated and returned.
        """
        if (sentences is None) == (corpus_file is None):
            raise ConfigError("give one of sentences= (token lists) or corpus_file= (paths)")
        config = with_overrides(self.config, overrides)
        reporter = _reporter(progress, quiet)
        with _corpus_paths(sentences, corpus_file) as paths, _folder(output) as folder:
            continue_training(self, paths, config, folder, reporter, evaluation_hooks(reporter))
            trained = load_model(folder, in_memory=output is None)
        self.wv, self.config, self.metrics, self.w_out, self.source, self.word_rows = (
            trained.wv, trained.config, trained.metrics, trained.w_out, trained.source, trained.word_rows)
        return self


def continue_training(model, paths, config, output, reporter, hooks, inputs=()):
    """Train `model` further (see `training.continuation`); refused in one line without output weights."""
    from .training import continuation

    return continuation.continue_training(paths, config, output, training_start(model), reporter, hooks, inputs)


def training_start(model):
    """What continued training starts from (a `training.continuation.Start`); refused without output weights."""
    if model.w_out is None:
        raise DataError(f"{model.source or 'this model'} has no output weights ({modeldir.OUTPUT_WEIGHTS}); "
                        "training can continue only from a model directory written by this version of w2v")
    from .training import continuation

    return continuation.Start(Vocab(model.wv.words, model.wv.counts), model.wv.vectors, model.w_out,
                              model.config, model.source or "the model")


def load_model(folder, in_memory=False):
    """The Model in a model directory (vectors memory-mapped unless `in_memory`)."""
    from . import store

    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise DataError(f"{folder} is not a model directory; a word2vec file holds the input vectors only "
                        "(load it with word2vec.load), not the output weights continued training needs")
    wv = load(folder)
    config = config_mod.from_dict(config_mod.load_yaml(os.path.join(folder, "config.yaml")))
    metrics_path, w_out_path = os.path.join(folder, "metrics.json"), os.path.join(folder, modeldir.OUTPUT_WEIGHTS)
    metrics = {}
    if os.path.isfile(metrics_path):
        with open(metrics_path, encoding="utf-8") as handle:
            metrics = json.load(handle)
    w_out = store.load_npy(w_out_path, mmap=not in_memory) if os.path.isfile(w_out_path) else None
    rows_path, word_rows, subwords = os.path.join(folder, modeldir.WORD_ROWS), None, wv.subwords
    if subwords is not None and os.path.isfile(rows_path):
        word_rows = store.load_npy(rows_path, mmap=not in_memory)
    if in_memory:  # the folder is about to go: copy what is mapped from it
        if subwords is not None:
            subwords = dataclasses.replace(subwords, ngrams=np.array(subwords.ngrams))
        wv = Vectors(wv.words, np.array(wv.vectors), wv.counts, subwords)
        folder = None
    return Model(wv, config, metrics, w_out, source=folder, word_rows=word_rows)


__all__ = ["train", "resume", "load", "load_model", "Model", "Vectors", "evaluate_after_training"]
