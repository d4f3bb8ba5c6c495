"""Skip-gram and CBOW windows in plain Python: the reference the compiled kernels follow.

The kernels in `kernels.py` do the same per sentence (subsample, then a dynamic window
per center word) without building pair lists; these functions make that behaviour
testable and explain it.
"""

import numpy as np


def sentences(ids, ends):
    """Yield each sentence of an encoded corpus as an int32 array view.

    ids : int32 (N,); ends : int64 (S,) exclusive end offsets.
    """
    start = 0
    for end in ends:
        yield ids[start:end]
        start = end


def subsample(sentence, keep, rng):
    """Drop each occurrence of word w with probability 1 - keep[w]; keep (W,) float."""
    sentence = np.asarray(sentence)
    return sentence[rng.random(len(sentence)) < keep[sentence]]


def window_sizes(n, window, rng):
    """The dynamic window: for each of n center words, a size drawn uniformly from 1..window."""
    return rng.integers(1, window + 1, size=n)


def skipgram_pairs(sentence, window, rng):
    """(center, context) pairs of one sentence with the dynamic window.

    Returns int array (P, 2). Nearer words are seen more often: a context at distance k
    is used with probability (window - k + 1) / window.
    """
    sentence = np.asarray(sentence)
    pairs = []
    for i, size in enumerate(window_sizes(len(sentence), window, rng)):
        for j in range(max(0, i - size), min(len(sentence), i + size + 1)):
            if j != i:
                pairs.append((sentence[i], sentence[j]))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def cbow_windows(sentence, window, rng):
    """(center, contexts) for CBOW: each center word with the list of its context words."""
    sentence = np.asarray(sentence)
    out = []
    for i, size in enumerate(window_sizes(len(sentence), window, rng)):
        context = [sentence[j] for j in range(max(0, i - size), min(len(sentence), i + size + 1)) if j != i]
        if context:
            out.append((sentence[i], context))
    return out
