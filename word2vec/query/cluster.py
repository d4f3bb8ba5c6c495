"""Word classes: spherical k-means (Lloyd, k-means++ start) on unit vectors, as the C tool's -classes."""

import numpy as np

from ..errors import ConfigError

_ROWS = 8192  # rows compared with the centroids at a time, to bound the (rows, k) similarity block
_SEED_ROWS = 10_000  # k-means++ draws from a sample of 10 · k + this many rows: it is sequential in k


def kmeans(unit, k, seed=1, iterations=10):
    """Cluster unit rows by cosine similarity.

    Parameters
    ----------
    unit : float32 (W, d), unit-length rows (all-zero rows are allowed).
    k : number of classes, 1 ≤ k ≤ W.
    seed : seed of the k-means++ start (`np.random.default_rng(seed)`), drawn from a sample of rows
        when there are many.
    iterations : most Lloyd rounds; stops early when no word changes class.

    Returns
    -------
    labels : int64 (W,), the class of each row, in 0..k-1.
    """
    unit = np.asarray(unit, dtype=np.float32)
    if k > len(unit):
        raise ConfigError(f"-k {k} is more classes than there are words ({len(unit)}); use -k {len(unit)} or less")
    centroids = unit[starting_rows(unit, k, np.random.default_rng(seed))]
    labels = None
    for _ in range(max(iterations, 1)):
        new_labels, similarity = assign(unit, centroids)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centroids = update(unit, labels, similarity, k)
    return labels


def starting_rows(unit, k, rng):
    """Indices (k,) of the rows that start as centroids: k-means++ on all rows, or on a sample when many."""
    if len(unit) <= 10 * k + _SEED_ROWS:
        return kmeans_plus_plus(unit, k, rng)
    sample = np.sort(rng.choice(len(unit), 10 * k + _SEED_ROWS, replace=False))
    return sample[kmeans_plus_plus(unit[sample], k, rng)]


def kmeans_plus_plus(unit, k, rng):
    """Indices (k,) of k distinct rows, each next one drawn with probability ∝ squared distance to the nearest.

    With unit centroids the squared distance of row x is |x|² + 1 − 2 · (best dot product).
    """
    squares = np.einsum("ij,ij->i", unit, unit, dtype=np.float64)
    chosen = [int(rng.integers(len(unit)))]
    best = unit @ unit[chosen[0]]
    for _ in range(1, k):
        weight = np.maximum(squares + 1.0 - 2.0 * best, 0.0)
        weight[chosen] = 0.0
        cumulative = np.cumsum(weight)
        if cumulative[-1] > 0:  # the first index whose cumulative weight passes the draw has weight > 0
            pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        else:  # every remaining row duplicates a centroid: any unused row will do
            pick = int(rng.choice(np.setdiff1d(np.arange(len(unit)), chosen)))
        chosen.append(pick)
        np.maximum(best, unit @ unit[pick], out=best)
    return np.array(chosen)


def assign(unit, centroids):
    """The most similar centroid of each row (by dot product) and that similarity, both (W,)."""
    labels = np.empty(len(unit), np.int64)
    similarity = np.empty(len(unit), np.float32)
    for start in range(0, len(unit), _ROWS):
        scores = unit[start : start + _ROWS] @ centroids.T
        best = scores.argmax(axis=1)
        labels[start : start + len(scores)] = best
        similarity[start : start + len(scores)] = np.take_along_axis(scores, best[:, None], axis=1)[:, 0]
    return labels, similarity


def update(unit, labels, similarity, k):
    """New unit centroids (k, d): the normalized sum of each class's rows.

    An empty class restarts at the rows least similar to their own centroid, so no class is lost.
    """
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=k)
    filled = np.flatnonzero(sizes)
    sums = np.zeros((k, unit.shape[1]), np.float32)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))[filled]
    sums[filled] = np.add.reduceat(unit[order], starts, axis=0)
    empty = np.flatnonzero(sizes == 0)
    if len(empty):
        sums[empty] = unit[np.argsort(similarity, kind="stable")[: len(empty)]]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.where(norms > 0, norms, np.float32(1.0))


def sorted_classes(words, labels):
    """(word, class) pairs sorted by class, then word."""
    return sorted(zip(words, labels.tolist()), key=lambda pair: (pair[1], pair[0]))
