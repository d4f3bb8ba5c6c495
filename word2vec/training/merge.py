"""Continued training's last step: a word's old vector and the run's, averaged by the occurrences each has seen.

A run continued from a model on new text retrains every word the new text holds, and at the
restarted learning rate the words it holds often forget the old text (`scripts/continue_bench.py`:
2 analogy points below one run on all the text). So when the run ends, each such word's input
vector becomes the average of two estimates, weighted by the occurrences each was trained on:

    v = (n_old · v_old M + n · v_run) / (n_old + n)

n_old is the word's count in the model, n = n_old + n_new its count now (the run started from the
model, so its vector has seen both texts). M (d×d) carries the old vectors into the run's space:
the least-squares linear map from the old to the new vectors of the words both texts hold (as
Mikolov et al., 2013, map one language's vectors onto another's), pulled towards the identity
as if d more words of average norm were sent to themselves, so that too few shared words leave
it near the identity instead of undetermined. Words only the new text holds keep the run's
vector; words it lacks were not trained and keep theirs. The output weights stay as the run left
them: the averaged vectors live in their space.
"""

from dataclasses import dataclass

import numpy as np

CHUNK = 65_536  # rows per block: the float64 copies stay small whatever the vocabulary


@dataclass
class Prior:
    """The model a continued run started from, laid out in the rows of the extended vocabulary.

    w_in float32 (W, d): its input vectors, zero for the words it did not have;
    counts int64 (W,): its counts, zero for the words it did not have.
    """

    w_in: np.ndarray
    counts: np.ndarray


def make_prior(w_in, counts, rows, n_words):
    """A Prior from a model's input vectors (W_old, d) and counts (W_old,), its words at `rows` (W_old,) of the
    extended vocabulary of `n_words`."""
    prior = Prior(np.zeros((n_words, w_in.shape[1]), dtype=np.float32), np.zeros(n_words, dtype=np.int64))
    prior.w_in[rows] = w_in
    prior.counts[rows] = counts
    return prior


def shared_rows(prior, counts):
    """The rows (int64) of the words the model had and the new text holds: their count grew."""
    return np.flatnonzero((prior.counts > 0) & (counts > prior.counts))


def carry_map(old, new, rows):
    """The d×d map M minimising Σ_rows |old[r] M − new[r]|² + ρ |M − I|², ρ the mean of |old[r]|² over rows.

    old, new float32 (W, d); rows int (R,). Returns float64 (d, d); the identity when no row has a norm.
    """
    dim = old.shape[1]
    gram, cross = np.zeros((dim, dim)), np.zeros((dim, dim))
    for start in range(0, len(rows), CHUNK):
        block = rows[start : start + CHUNK]
        x, y = old[block].astype(np.float64), new[block].astype(np.float64)
        gram += x.T @ x
        cross += x.T @ y
    ridge = np.trace(gram) / max(len(rows), 1)
    if ridge == 0.0:
        return np.eye(dim)
    return np.linalg.solve(gram + ridge * np.eye(dim), cross + ridge * np.eye(dim))


def average(prior, w_in, counts):
    """Replace, in place, the shared words' input vectors by the weighted average of the module docstring.

    prior: Prior; w_in float32 (W, d), the run's input vectors; counts int64 (W,), the counts now.
    Returns the number of rows averaged.
    """
    rows = shared_rows(prior, counts)
    carry = carry_map(prior.w_in, w_in, rows)
    for start in range(0, len(rows), CHUNK):
        block = rows[start : start + CHUNK]
        n_old, n = prior.counts[block].astype(np.float64), counts[block].astype(np.float64)
        share = (n_old / (n_old + n))[:, None]
        old = prior.w_in[block].astype(np.float64) @ carry
        w_in[block] = (share * old + (1.0 - share) * w_in[block]).astype(np.float32)
    return len(rows)
