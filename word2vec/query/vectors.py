"""Trained word vectors and their queries (most_similar, analogy, similarity, doesnt_match), as gensim's."""

import difflib
import os
import warnings
from dataclasses import dataclass

import numpy as np

from . import evaluate
from .keyed import KeyedMixin, as_list
from .. import config as config_mod
from .. import store
from ..store import fasttext_bin, modeldir
from ..text import subwords as subwords_mod
from ..errors import ConfigError, DataError, UnknownWordError, W2VError
from ..safe_yaml import show

_NORM_ROWS = 1 << 16  # rows normalized at a time, to bound the float temporaries
_CLOSE_WORDS = 10_000  # "did you mean": the most frequent words searched for a close spelling
_CLOSE_LENGTH = 40  # … and only for a query word up to this long (difflib is quadratic in length)


@dataclass
class Subwords:
    """The n-gram part of a subword (fastText) model: n-gram lengths, the number of buckets, and
    the bucket rows float32 (U, d) at the sorted bucket numbers `ids` (U,) — all buckets when None;
    the buckets not listed are zero."""

    minn: int
    maxn: int
    ngrams: np.ndarray
    buckets: int
    ids: np.ndarray = None

    def vector(self, word):
        """The mean of the word's n-gram rows, float32 (d,); zero when it has none."""
        return subwords_mod.oov_vector(word, self.ngrams, self.minn, self.maxn, self.buckets, self.ids)


class Vectors(KeyedMixin):
    """Words and their vectors, rows in vocabulary order (most frequent first).

    Attributes
    ----------
    words : list of str, length W
    vectors : float32 (W, d); may be a read-only memory map
    counts : int64 (W,) or None
    index : dict word → row (the first row when a word repeats)
    subwords : Subwords or None — with it, a word out of the vocabulary gets the mean of its n-gram rows
    built : set of the words out of the vocabulary answered from their subwords so far
    """

    def __init__(self, words, vectors, counts=None, subwords=None):
        self.words = list(words)
        if not (isinstance(vectors, np.ndarray) and vectors.dtype == np.float32):
            vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(self.words):
            raise DataError(f"{len(self.words)} words but vectors of shape {vectors.shape}")
        if not vectors.flags.c_contiguous:  # e.g. training's view of its padded rows: callers expect gensim's layout
            vectors = np.ascontiguousarray(vectors)
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(self.words),):
                raise DataError(f"{len(self.words)} words but {counts.size} counts")
        self.vectors, self.counts = vectors, counts
        self.index = dict(zip(reversed(self.words), range(len(self.words) - 1, -1, -1)))
        self._normed = None
        self._inverse_norms = None
        self._folded = None
        self.subwords, self.built = subwords, set()

    @classmethod
    def load(cls, path, limit=None, header=True):
        """See the module function `load`."""
        return load(path, limit=limit, header=header)

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        try:
            return word in self.index
        except TypeError:
            return False

    def __getitem__(self, word):
        """The vector of `word`, float32 (d,): its row, else built from its subwords when the model
        has them; of a list of words, float32 (n, d), as gensim's. UnknownWordError (a KeyError) otherwise."""
        if isinstance(word, (list, tuple)):
            return np.array([self[w] for w in word], dtype=np.float32).reshape(len(word), self.vector_size)
        if self.subwords is not None and isinstance(word, str) and word not in self.index:
            return self.subword_vector(word)
        return self.vectors[self._row(word)]

    def subword_vector(self, word):
        """The vector of `word` built from its n-grams, float32 (d,), noted in `built` (a model with subwords only)."""
        self.built.add(word)
        return self.subwords.vector(word)

    def has_vector(self, word):
        """True when `word` is in the vocabulary or the model can build it from subwords."""
        return word in self or (self.subwords is not None and isinstance(word, str))

    def _units(self, words):
        """Unit vectors float32 (k, d) of `words` (subwords for unknown ones) and the rows of those known."""
        rows = [self.index[w] for w in words if w in self]
        return evaluate.unit_rows(np.array([self[w] for w in words], dtype=np.float32)), rows

    @property
    def vector_size(self):
        return self.vectors.shape[1]

    @property
    def normed(self):
        """Unit-length rows, float32 (W, d), computed once; all-zero rows stay zero."""
        if self._normed is None:
            normed = np.empty(self.vectors.shape, np.float32)
            for start in range(0, len(self.words), _NORM_ROWS):
                normed[start : start + _NORM_ROWS] = evaluate.unit_rows(self.vectors[start : start + _NORM_ROWS])
            normed.flags.writeable = False
            self._normed = normed
        return self._normed

    @property
    def inverse_norms(self):
        """1 / the length of each row, float32 (W,), computed once; 0 for all-zero rows.

        The queries scale their dot products by these instead of using `normed`: that leaves a
        memory-mapped matrix as it is rather than copying it whole (1.2 GB for 1M words x 300).
        """
        if self._inverse_norms is None:
            inverse = np.zeros(len(self.words), np.float32)
            for start in range(0, len(self.words), _NORM_ROWS):
                block = self.vectors[start : start + _NORM_ROWS]
                norms = np.sqrt(np.einsum("ij,ij->i", block, block))
                np.divide(1, norms, out=inverse[start : start + len(block)], where=norms > 0)
            self._inverse_norms = inverse
        return self._inverse_norms

    def _row(self, word):
        try:
            return self.index[word]
        except (KeyError, TypeError):
            raise UnknownWordError(word, self.suggest(word) if isinstance(word, str) else None) from None

    def suggest(self, word):
        """A known word spelt like `word`, or None: the most frequent one equal to it ignoring case,
        else a close spelling among the 10,000 most frequent words (difflib, cutoff 0.8)."""
        if self._folded is None:
            self._folded = {}
            for known in self.words:
                self._folded.setdefault(known.casefold(), known)
        if word.casefold() in self._folded:
            return self._folded[word.casefold()]
        if not word or len(word) > _CLOSE_LENGTH:
            return None
        close = difflib.get_close_matches(word, self.words[:_CLOSE_WORDS], n=1, cutoff=0.8)
        return close[0] if close else None

    def _cosines(self, queries, restrict):
        """Cosines of the candidate rows (the first `restrict`, or all) with unit `queries`.

        `queries` float32 (d,) or (k, d) gives float32 (n,) or (k, n).
        """
        count = evaluate.candidate_count(self, restrict)
        return (queries @ self.vectors[:count].T) * self.inverse_norms[:count]

    def _best(self, scores, topn, exclude=()):
        """The `topn` best (word, score) pairs, best first, leaving out the rows in `exclude`."""
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 0:
            raise ConfigError(f"topn must be a whole number, 0 or more; got {topn!r}")
        scores = np.array(scores, dtype=np.float64)
        excluded = {row for row in exclude if row < len(scores)}
        scores[list(excluded)] = -np.inf
        count = min(topn, len(scores) - len(excluded))
        if count <= 0:
            return []
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.lexsort((best, -scores[best]))]  # ties: the more frequent word first
        return [(self.words[row], float(scores[row])) for row in best.tolist()]

    def most_similar(self, positive=None, negative=None, topn=10, restrict=None, restrict_vocab=None):
        """The words nearest to the mean of the unit vectors of `positive` minus those of `negative`.

        Parameters
        ----------
        positive : str, vector, or list of them (vectors enter as they are, as gensim's)
        negative : str, vector, or list of them
        topn : int — how many words to return; None: the cosines of all candidates, float32 (n,)
        restrict, restrict_vocab : int or None — only the first rows are candidates (two names, one meaning)

        Returns
        -------
        list of (word, cosine similarity), best first, without the query words
        """
        query, rows = self.query_vector(as_list(positive), as_list(negative))
        scores = self._cosines(query, restrict if restrict_vocab is None else restrict_vocab)
        return scores if topn is None else self._best(scores, topn, rows)

    def similar_by_vector(self, vector, topn=10, restrict=None, restrict_vocab=None):
        """The words whose vectors are nearest by cosine to `vector` (float (d,)); nothing excluded."""
        query = _unit(np.asarray(vector, dtype=np.float32).reshape(self.vector_size))
        scores = self._cosines(query, restrict if restrict_vocab is None else restrict_vocab)
        return scores if topn is None else self._best(scores, topn)

    def analogy(self, a, b, c, method="add", topn=1, restrict=None):
        """A is to B as C is to ?  — `add` is 3CosAdd (as most_similar([b, c], [a])), `mul` 3CosMul.

        3CosMul (Levy & Goldberg 2014) scores x by cos'(x,b)·cos'(x,c) / (cos'(x,a) + ε) with the
        cosines shifted to [0, 1] by (cos + 1)/2 and ε = 0.001 as in their paper (gensim's
        most_similar_cosmul is the same with ε = 1e-6); `evaluate.analogy_scores` is the batch form.

        Returns
        -------
        list of (word, score), best first, without a, b and c
        """
        units, rows = self._units([a, b, c])
        if method == "add":
            return self.most_similar([b, c], [a], topn, restrict)
        if method != "mul":
            raise ConfigError(f"analogy method must be one of {', '.join(evaluate.METHODS)}; got {method!r}")
        shifted = (self._cosines(units, restrict) + 1) / 2
        scores = shifted[1] * shifted[2] / (shifted[0] + np.float32(evaluate.COSMUL_EPSILON))
        return self._best(scores, topn, rows)

    def similarity(self, a, b):
        """Cosine similarity of two words."""
        unit = self._units([a, b])[0]
        return float(unit[0] @ unit[1])

    def doesnt_match(self, words):
        """The word farthest from the mean of the words' unit vectors (ties: the alphabetically first).

        Unknown words are left out with a UserWarning, as gensim's; UnknownWordError names one when
        fewer than two known words remain (or none, given a single word).
        """
        words = list(words)
        if not words:
            raise W2VError("doesnt_match needs at least one word")
        known = [word for word in words if self.has_vector(word)]
        if len(known) != len(words) and len(known) >= min(2, len(words)):
            unknown = ", ".join(repr(word) for word in words if not self.has_vector(word))
            warnings.warn(f"doesnt_match: {unknown} not in the vocabulary; left out", stacklevel=2)
        if len(known) < min(2, len(words)):
            self._row(next(word for word in words if not self.has_vector(word)))  # raises, with a suggestion
        unit = self._units(known)[0]
        distances = unit @ _unit(unit.mean(axis=0))
        return min(zip(distances.tolist(), known))[1]

    def evaluate_analogies(self, path, restrict=30000, method="add"):
        """Analogy accuracy per section; see `evaluate.evaluate_analogies`."""
        return evaluate.evaluate_analogies(self, path, restrict=restrict, method=method)

    def evaluate_pairs(self, path):
        """Correlation with human similarity judgements; see `evaluate.evaluate_pairs`."""
        return evaluate.evaluate_pairs(self, path)


def _unit(vector):
    norm = np.linalg.norm(vector)
    return (vector / norm if norm > 0 else vector).astype(np.float32)


def load(path, limit=None, header=True):
    """Load vectors from a model directory or a word2vec file.

    Parameters
    ----------
    path : a model directory (vectors.npy, memory-mapped, and vocab.tsv) or a word2vec `.bin`, `.txt`
        or `.vec` file (also compressed .gz/.bz2/.xz; other names are sniffed)
    limit : int or None — keep only the first `limit` words (the most frequent)
    header : bool — False for a text file without the `W d` line

    Returns
    -------
    Vectors
    """
    path = os.fspath(path)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0):
        raise ConfigError(f"limit must be a whole number, 0 or more; got {limit!r}")
    if os.path.isdir(path):
        return _load_model_dir(path, limit)
    if fasttext_bin.is_fasttext_bin(path):
        return _load_fasttext(path, limit)
    words, vectors = store.read_word2vec(path, header=header, limit=limit)
    check_loaded(path, words, vectors)
    loaded = Vectors(words, vectors)
    loaded.source = path
    return loaded


def check_loaded(path, words, vectors):
    """Refuse NaN or infinite vectors and repeated words, naming the first such word."""
    for start in range(0, len(words), _NORM_ROWS):
        finite = np.isfinite(vectors[start : start + _NORM_ROWS]).all(axis=1)
        if not finite.all():
            row = start + int(np.argmin(finite))
            raise DataError(f"{path}: the vector of {show(words[row])} (record {row + 1}) holds NaN or infinity; "
                            "w2v loads finite vectors only")
    if len(set(words)) != len(words):
        first = {}
        for row, word in enumerate(words):
            if word in first:
                raise DataError(f"{path}: {show(word)} is listed twice (records {first[word] + 1} and {row + 1}); "
                                "w2v needs each word once")
            first[word] = row


def _load_model_dir(folder, limit):
    vectors_path, vocab_path = os.path.join(folder, "vectors.npy"), os.path.join(folder, "vocab.tsv")
    if not os.path.isfile(vectors_path):
        raise DataError(f"{folder}: no vectors.npy; is this a model directory?")
    vectors = store.load_npy(vectors_path, mmap=True)
    words, counts = store.read_vocab(vocab_path)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise DataError(f"{folder}: vectors.npy has shape {vectors.shape} but vocab.tsv lists {len(words)} words")
    if not np.issubdtype(vectors.dtype, np.floating):
        raise DataError(f"{vectors_path}: holds {vectors.dtype} values, expected float32")
    if limit is not None:
        vectors, words, counts = vectors[:limit], words[:limit], counts[:limit]
    loaded = Vectors(words, vectors, counts, _model_dir_subwords(folder, vectors.shape[1]))
    loaded.source = folder
    return loaded


def _model_dir_subwords(folder, dim):
    """The Subwords of a model directory with ngrams.npy (n-gram lengths from its config.yaml), else None."""
    if not os.path.isfile(os.path.join(folder, modeldir.NGRAMS)):
        return None
    model = config_mod.resolve(os.path.join(folder, "config.yaml")).model
    if not model.maxn:
        return None
    ngrams, ids = modeldir.load_ngrams(folder, model.buckets, dim)
    return Subwords(model.minn, model.maxn, ngrams, model.buckets, ids)


def _load_fasttext(path, limit):
    """A fastText .bin: in-vocabulary vectors composed as fastText and gensim do (the mean of each
    word's own row and n-gram rows), and the bucket rows for the other words."""
    model = fasttext_bin.read(path)
    n_words = len(model.words)
    words, counts = model.words[:limit], model.counts[:limit]
    if model.maxn <= 0 or model.buckets <= 0:
        loaded = Vectors(words, model.input_matrix[:len(words)], counts)
        loaded.source = path
        return loaded
    offsets, rows = subwords_mod.word_rows(words, model.minn, model.maxn, model.buckets)
    rows = np.where(rows >= len(words), rows - len(words) + n_words, rows)  # bucket rows follow all words
    vectors = subwords_mod.mean_rows(model.input_matrix, offsets, rows)
    check_loaded(path, words, vectors)
    loaded = Vectors(words, vectors, counts, Subwords(model.minn, model.maxn, model.input_matrix[n_words:], model.buckets))
    loaded.source = path
    return loaded
