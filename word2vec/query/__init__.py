"""Query: loaded vectors and their queries, evaluation on benchmarks, k-means word classes, plots.

Modules: `vectors` (Vectors: most_similar, analogy, doesnt_match; `load`), `keyed` (gensim's
KeyedVectors names), `gensim_eval` (gensim's evaluation return shapes), `evaluate`
(analogy accuracy, word-pair correlations), `cluster` (k-means), `plot` (matplotlib, optional).
"""

from .vectors import Vectors, load

__all__ = ["Vectors", "load"]
