"""Query: loaded vectors and their queries, evaluation on benchmarks, k-means word classes, plots.

Modules: `vectors` (Vectors: most_similar, analogy, doesnt_match; `load`), `evaluate`
(analogy accuracy, word-pair correlations), `cluster` (k-means), `plot` (matplotlib, optional).
"""

from .vectors import Vectors, load

__all__ = ["Vectors", "load"]
