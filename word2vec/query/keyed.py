"""gensim's KeyedVectors read side on Vectors: the names and return shapes gensim users reach for first."""

import os

import numpy as np

from . import gensim_eval
from .. import store
from ..errors import ConfigError, W2VError

COSMUL_EPSILON = 1e-6  # gensim's most_similar_cosmul (the CLI's `analogy --method mul` uses 1e-3)


def as_list(items):
    """gensim's `_ensure_list`: None → [], a word or a vector → [it], else a list of the items."""
    if items is None:
        return []
    if isinstance(items, (str, np.ndarray)):
        return [items]
    return list(items)


class KeyedMixin:
    """Methods and properties named as gensim's KeyedVectors names them; `Vectors` inherits them.

    They rest on Vectors' `words`, `vectors`, `index`, `inverse_norms`, `_row`, `_cosines`, `_best`.
    Unknown words raise UnknownWordError, which is a KeyError, as gensim raises.
    """

    source = None  # the file or folder the vectors were loaded from, for repr

    def __repr__(self):
        origin = f"from {self.source}" if self.source else "in memory"
        return f"<Vectors: {len(self.words):,} words × {self.vectors.shape[1]} dimensions, {origin}>"

    @property
    def key_to_index(self):
        """dict word → row, as gensim's."""
        return self.index

    @property
    def index_to_key(self):
        """list of words in row order, as gensim's."""
        return self.words

    def get_vector(self, word, norm=False):
        """The vector of `word`, float32 (d,); of unit length when `norm`."""
        row = self._row(word)
        vector = self.vectors[row]
        return vector * self.inverse_norms[row] if norm else vector

    def get_index(self, word):
        """The row of `word`."""
        return self._row(word)

    def query_vector(self, positive, negative):
        """gensim's most_similar query: words enter as unit vectors, given vectors as they are,
        weighted +1 / -1; the unit-length mean, float32 (d,); and the rows of the words."""
        items = [(item, 1.0) for item in positive] + [(item, -1.0) for item in negative]
        if not items:
            raise W2VError("most_similar needs at least one word or vector")
        mean = np.zeros(self.vector_size, np.float32)
        rows = []
        for item, weight in items:
            if isinstance(item, np.ndarray):
                mean += weight * self._as_query(item)
            elif item in self:
                rows.append(self._row(item))
                mean += weight * self.get_vector(item, norm=True)
            else:  # built from subwords, or UnknownWordError
                vector = self[item]
                norm = np.linalg.norm(vector)
                mean += weight * (vector / norm if norm > 0 else vector)
        norm = np.linalg.norm(mean)
        return (mean / norm if norm > 0 else mean).astype(np.float32), rows

    def _as_query(self, vector):
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != (self.vector_size,):
            raise ConfigError(f"a query vector must have shape ({self.vector_size},); got {vector.shape}")
        return vector

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        """most_similar([word]), as gensim's."""
        return self.most_similar([word], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """3CosMul (Levy & Goldberg 2014) as gensim computes it: the product of the shifted cosines
        (cos + 1) / 2 with `positive` over that with `negative` plus 1e-6.

        Words enter as unit vectors, given vectors as they are. Returns [(word, score)], best first,
        without the query words; with `topn=None`, the scores of all candidate rows, float32 (n,).
        """
        positive, negative = as_list(positive), as_list(negative)
        if not positive:
            raise W2VError("most_similar_cosmul needs at least one positive word or vector")
        rows = [self._row(item) for item in positive + negative if not isinstance(item, np.ndarray)]

        def shifted(item):
            query = self._as_query(item) if isinstance(item, np.ndarray) else self.get_vector(item, norm=True)
            return (1 + self._cosines(query, restrict_vocab)) / 2

        denominator = np.prod([shifted(item) for item in negative], axis=0) if negative else 1.0
        scores = np.prod([shifted(item) for item in positive], axis=0) / (denominator + COSMUL_EPSILON)
        return scores if topn is None else self._best(scores, topn, rows)

    def n_similarity(self, words1, words2):
        """Cosine similarity of the means of two lists of words (raw vectors averaged, as gensim)."""
        words1, words2 = list(words1), list(words2)
        if not words1 or not words2:
            raise W2VError("n_similarity needs at least one word on each side")
        means = [self.vectors[[self._row(w) for w in words]].mean(axis=0) for words in (words1, words2)]
        units = [m / np.linalg.norm(m) if np.linalg.norm(m) > 0 else m for m in means]
        return float(units[0] @ units[1])

    def distance(self, word1, word2):
        """Cosine distance, 1 − similarity."""
        return 1 - self.similarity(word1, word2)

    def distances(self, word_or_vector, other_words=()):
        """Cosine distances from a word or a vector to `other_words` (all words when empty), float32 (n,)."""
        if isinstance(word_or_vector, np.ndarray):
            query = self._as_query(word_or_vector)
        else:
            query = self.get_vector(word_or_vector)
        norm = np.linalg.norm(query)
        query = query / norm if norm > 0 else query
        other_words = list(other_words)
        if not other_words:
            return 1 - self._cosines(query, None)
        rows = [self._row(word) for word in other_words]
        return 1 - (self.vectors[rows] @ query) * self.inverse_norms[rows]

    def closer_than(self, word1, word2):
        """The words closer to `word1` than `word2` is, in row order, without `word1`."""
        distances = self.distances(word1)
        row1, row2 = self._row(word1), self._row(word2)
        return [self.words[row] for row in np.flatnonzero(distances < distances[row2]).tolist() if row != row1]

    def rank(self, word1, word2):
        """1 + how many words are closer to `word1` than `word2` is (1: `word2` is its nearest)."""
        return len(self.closer_than(word1, word2)) + 1

    def evaluate_word_analogies(self, analogies, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False):
        """gensim's shape: (accuracy, sections); see `gensim_eval.evaluate_word_analogies`."""
        return gensim_eval.evaluate_word_analogies(self, analogies, restrict_vocab, case_insensitive, dummy4unknown)

    def evaluate_word_pairs(self, pairs, restrict_vocab=300000, case_insensitive=True, dummy4unknown=False):
        """gensim's shape: (pearson, spearman, oov %); see `gensim_eval.evaluate_word_pairs`."""
        return gensim_eval.evaluate_word_pairs(self, pairs, restrict_vocab, case_insensitive, dummy4unknown)

    def save_word2vec_format(self, fname, fvocab=None, binary=False):
        """Write the C tool's text (or, with `binary`, binary) format; `fvocab` gets `word<TAB>count` lines."""
        store.write_word2vec(os.fspath(fname), self.words, self.vectors, binary=binary)
        if fvocab is not None:
            if self.counts is None:
                raise W2VError("these vectors have no counts (they were loaded from a word2vec file); "
                               "save them without fvocab")
            store.write_vocab(os.fspath(fvocab), self.words, self.counts)

    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary=None, limit=None, no_header=False):
        """Vectors from the C tool's text or binary format, as gensim's classmethod.

        `binary=None` decides by the name (`.bin`) or the content; `limit` reads only the first
        rows; `fvocab` is a `word<TAB>count` file whose counts are attached.
        """
        from .vectors import check_loaded

        name = os.fspath(fname)
        words, vectors = store.read_word2vec(name, binary=binary, header=not no_header, limit=limit)
        check_loaded(name, words, vectors)
        counts = None
        if fvocab is not None:
            known, known_counts = store.read_vocab(os.fspath(fvocab))
            by_word = dict(zip(known, known_counts.tolist()))
            counts = [by_word.get(word, 0) for word in words]
        loaded = cls(words, vectors, counts)
        loaded.source = name
        return loaded

