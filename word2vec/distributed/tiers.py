"""pWord2Vec's frequency tiers: the rows of the most frequent words sync twice as often as the rest.

A frequent word's rows are the ones every worker changes in a round, so they go stale first:
with 2 workers on the text8 prefix, rounds of 250,000 words gave 0.5 more analogy points than
rounds of 500,000, and syncing only the rows of the 2,000 most frequent words halfway between
two syncs of every row gave the same (`scripts/bench_cluster.py`; see the README). The defaults,
rounds of 600,000 with the 5,000 most frequent words' rows halfway, score as well in 8 rounds an
epoch as 500,000 with 2,000 did in 10. So with
train.sync_frequent K > 0 an epoch has twice the rounds: in each pair the first is partial (the
workers send only the K most frequent words' rows, and keep the others they changed for the next
round, in `carry` or, for a replica's only shard, left in `work`: `Replica.held`) and the second syncs every row, so an epoch ends, a checkpoint is written and
a shard moves only when the replicas are whole. With train.sync_lag 1 the tiers are off.
"""

import numpy as np


def enabled(config):
    return config.train.sync_frequent > 0 and config.train.sync_lag == 0


def rounds(config, full_rounds):
    """Rounds an epoch: `full_rounds` syncs of every row, each preceded by a partial one when the tiers are on."""
    return 2 * full_rounds if enabled(config) else full_rounds


def partial(config, index):
    """True for a partial round (the first of each pair)."""
    return enabled(config) and index % 2 == 0


def carrying(config, index):
    """True for the round after a partial one: the workers hold rows changed in that round that are not synced."""
    return enabled(config) and index % 2 == 1


def frequent_rows(config, n_words, shapes):
    """The rows of each matrix that partial rounds sync (int32 arrays, ascending), for matrices of `shapes`:
    the K most frequent words' rows (ids 0..K-1: the vocabulary is in order of frequency); under hs, w_out's
    rows are the Huffman tree's inner nodes, where the ones nearest the root (the last ids) are the busiest."""
    k = min(config.train.sync_frequent, n_words)
    rows_in = np.arange(k, dtype=np.int32)
    n_out = shapes[1][0]
    if config.model.loss == "hs":
        rows_out = np.arange(max(n_out - k, 0), n_out, dtype=np.int32)
    else:
        rows_out = np.arange(min(k, n_out), dtype=np.int32)
    return rows_in, rows_out


def others(candidates, top, n_rows):
    """The candidate rows (None: every row of the matrix) that are not in `top`: int32, ascending."""
    rows = np.arange(n_rows, dtype=np.int32) if candidates is None else np.asarray(candidates, dtype=np.int32)
    return rows[~np.isin(rows, top, assume_unique=True)] if len(top) else rows
