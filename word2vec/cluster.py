"""Word classes: spherical k-means (Lloyd, k-means++ start) on unit vectors, as the C tool's -classes."""

import numpy as np

from .errors import ConfigError

_ROWS = 8192  # rows compared with the centroids at a time, to bound the (rows, k) similarity block


def kmeans(unit, k, seed=1, iterations=10):
    """Cluster unit rows by cosine similarity.

    Parameters
    ----------
    unit : float32 (W, d), unit-length rows (all-zero rows are allowed).
    k : number of classes, 1 ≤ k ≤ W.
    seed : seed of the k-means++ start (`np.random.default_rng(seed)`).
    iterations : most Lloyd rounds; stops early when no word changes class.

    Returns
    -------
    labels : int64 (W,), the class of each row, in 0..k-1.
    """
    unit = np.asarray(unit, dtype=np.float32)
    if k > len(unit):
        raise ConfigError(f"-k {k} is more classes than there are words ({len(unit)}); use -k {len(unit)} or less")
    rng = np.random.default_rng(seed)
    centroids = unit[kmeans_plus_plus(unit, k, rng)]
    labels = None
    for _ in range(max(iterations, 1)):
        new_labels, similarity = assign(unit, centroids)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centroids = update(unit, labels, similarity, k)
    return labels


def kmeans_plus_plus(unit, k, rng):
    """Indices (k,) of the starting centroids: each next one drawn with probability ∝ squared distance.

    For unit rows the squared distance to the nearest centroid is 2 − 2 · (best cosine).
    """
    chosen = [int(rng.integers(len(unit)))]
    best = unit @ unit[chosen[0]]
    for _ in range(1, k):
        weight = np.maximum(2.0 - 2.0 * best.astype(np.float64), 0.0)
        weight[chosen] = 0.0
        total = weight.sum()
        if total > 0:
            pick = int(np.searchsorted(np.cumsum(weight), rng.random() * total, side="right"))
            pick = min(pick, len(unit) - 1)
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
        labels[start : start + len(scores)] = scores.argmax(axis=1)
        similarity[start : start + len(scores)] = scores.max(axis=1)
    return labels, similarity


def update(unit, labels, similarity, k):
    """New unit centroids (k, d): the normalized sum of each class's rows.

    An empty class restarts at the rows least similar to their own centroid, so no class is lost.
    """
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=k)
    filled = np.flatnonzero(sizes)
    sums = np.zeros((k, unit.shape[1]), np.float64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))[filled]
    sums[filled] = np.add.reduceat(unit[order], starts, axis=0, dtype=np.float64)
    empty = np.flatnonzero(sizes == 0)
    if len(empty):
        sums[empty] = unit[np.argsort(similarity, kind="stable")[: len(empty)]]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def sorted_classes(words, labels):
    """(word, class) pairs sorted by class, then word."""
    return sorted(zip(words, labels.tolist()), key=lambda pair: (pair[1], pair[0]))
