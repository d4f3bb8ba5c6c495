"""Phrases on the workers: count words and pairs block by block, merge by a tree reduction, rewrite each block.

Counting reuses `text.phrases.count_files` on each block (a block holds whole lines, and a pair
never spans a line, so no pair is lost at a block's edge). Partial tables are merged 8 at a time
and pruned as a local run prunes: pairs past `max_pairs` with a rising floor, words past
`max_words` as the C tool's ReduceVocab. The workers then rewrite their own blocks against the
broadcast phrases, and the driver writes the blocks to the output in corpus order, a window of
them in flight: without pruning the output is byte for byte that of a local `w2v phrases`.
"""

import io
from dataclasses import dataclass

import numpy as np

from ..text import phrases as phrases_mod
from . import blocks as blocks_mod
from .vocab import FAN_IN, MAX_TABLE_WORDS

LOW = 0xFFFFFFFF


@dataclass
class PhraseTable:
    """Partial counts of words and adjacent pairs.

    words : list of str; word_counts : int64 (n_words,); pair_keys : int64 (n_pairs,), sorted,
    `a << 32 | b` for the pair of word indexes (a, b); pair_counts : int64 (n_pairs,).
    pair_floor : the floor of the next pair pruning (1 until pairs were pruned); pairs_pruned : bool.
    word_floor : words counted this many times or fewer were dropped last; words_pruned : int.
    """

    words: list
    word_counts: np.ndarray
    pair_keys: np.ndarray
    pair_counts: np.ndarray
    n_tokens: int
    pair_floor: int = 1
    pairs_pruned: bool = False
    word_floor: int = 0
    words_pruned: int = 0


def count_block(data, name, options, max_words):
    """The PhraseTable of one block (bytes of whole lines), counted as `w2v phrases` counts a file."""
    pairs = phrases_mod.PairTable(options.max_pairs)
    counts = phrases_mod.count_files([(io.BytesIO(data), name)], options, table=pairs)
    table = PhraseTable(list(counts.index), counts.word_counts, counts.pair_keys, counts.pair_counts,
                        counts.n_tokens, pairs.floor, pairs.pruned)
    return prune_words(table, max_words)


def merge(tables, max_pairs, max_words):
    """The sum of partial PhraseTables, pruned as they are."""
    index, remaps = {}, []
    for table in tables:
        remaps.append(np.fromiter((index.setdefault(w, len(index)) for w in table.words), np.int64,
                                  len(table.words)))
    word_counts = np.zeros(len(index), np.int64)
    for table, remap in zip(tables, remaps):
        word_counts[remap] += table.word_counts  # a table lists a word once: no repeated index
    keys = np.concatenate([(remap[t.pair_keys >> 32] << 32) | remap[t.pair_keys & LOW]
                           for t, remap in zip(tables, remaps)])
    keys, counts = _sum_by_key(keys, np.concatenate([t.pair_counts for t in tables]))
    pairs = phrases_mod.PairTable(max_pairs)
    pairs.keys, pairs.counts = keys, counts
    pairs.floor = max(t.pair_floor for t in tables)
    if len(keys) > max_pairs:
        pairs.prune()
    merged = PhraseTable(list(index), word_counts, pairs.keys, pairs.counts, sum(t.n_tokens for t in tables),
                         pairs.floor, pairs.pruned or any(t.pairs_pruned for t in tables),
                         max(t.word_floor for t in tables), sum(t.words_pruned for t in tables))
    return prune_words(merged, max_words)


def _sum_by_key(keys, counts):
    """(sorted unique keys, int64 sum of the counts of each)."""
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    if not len(keys):
        return keys, counts[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.add.reduceat(counts[order], starts)


def prune_words(table, max_words):
    """ReduceVocab on the words: drop those counted at most word_floor + 1 times, raising it, until they fit.

    A pair is never counted more often than either of its words, so it goes with a dropped word.
    """
    if len(table.words) <= max_words:
        return table
    keep = np.ones(len(table.words), bool)
    while keep.sum() > max_words:
        table.word_floor += 1
        keep &= table.word_counts > table.word_floor
    new_id = np.cumsum(keep) - 1  # rising, so the remapped keys stay sorted
    kept_pairs = keep[table.pair_keys >> 32] & keep[table.pair_keys & LOW]
    keys = table.pair_keys[kept_pairs]
    table.pair_keys = (new_id[keys >> 32] << 32) | new_id[keys & LOW]
    table.pair_counts = table.pair_counts[kept_pairs]
    table.words_pruned += int(len(keep) - keep.sum())
    table.words = [w for w, k in zip(table.words, keep.tolist()) if k]
    table.word_counts = table.word_counts[keep]
    return table


def as_counts(table):
    """The merged PhraseTable as `text.phrases.Counts`, for select and phrase_rows."""
    return phrases_mod.Counts({w: i for i, w in enumerate(table.words)}, table.word_counts, table.pair_keys,
                              table.pair_counts, table.n_tokens)


def phrase_index(counts, phrases):
    """The Counts and Phrases a worker needs to rewrite: only the words of the phrases, ids renumbered
    in their old order (so the keys stay sorted). Small to broadcast, whatever the vocabulary."""
    old = np.unique(np.concatenate([phrases.keys >> 32, phrases.keys & LOW]))
    words = list(counts.index)
    index = {words[i]: new for new, i in enumerate(old.tolist())}
    a, b = np.searchsorted(old, phrases.keys >> 32), np.searchsorted(old, phrases.keys & LOW)
    empty = np.zeros(0, np.int64)
    slim = phrases_mod.Counts(index, empty, empty, empty, counts.n_tokens)
    return slim, phrases_mod.Phrases((a << 32) | b, phrases.scores, phrases.counts)


def rewrite_block(data, name, joined, options):
    """One block with its phrases joined, as bytes (see `text.phrases.rewrite`); `joined` is
    (Counts, Phrases) from `phrase_index`."""
    counts, phrases = joined
    out = io.BytesIO()
    phrases_mod.rewrite(io.BytesIO(data), name, counts, phrases, out, options)
    return out.getvalue()


def _blocks(paths, block_bytes):
    """[(url, delayed bytes)] of every block of the files, in corpus order."""
    found = []
    for url in blocks_mod.expand(paths):
        found += [(url, block) for block in blocks_mod.read_blocks([url], block_bytes)]
    return found


def count(client, paths, options, max_words=MAX_TABLE_WORDS, block_bytes=None):
    """Count the words and pairs of `paths` (URLs, globs) on the cluster; the merged PhraseTable.

    Blocks are `block_bytes` long, by default a few for each worker (see `blocks.block_bytes_for`).
    """
    from dask import delayed

    block_bytes = block_bytes or blocks_mod.block_bytes_for(client, blocks_mod.expand(paths))
    level = [delayed(count_block, pure=True)(block, url, options, max_words)
             for url, block in _blocks(paths, block_bytes)]
    while len(level) > 1:
        level = [delayed(merge, pure=True)(level[i: i + FAN_IN], options.max_pairs, max_words)
                 for i in range(0, len(level), FAN_IN)]
    return client.compute(level[0]).result()


def run(client, paths, out, options, log=None, block_bytes=None, window=None):
    """Both passes on the cluster: count, select, and write the rewritten blocks to the binary stream
    `out` in corpus order, `window` blocks in flight; return (Counts, Phrases) as `text.phrases.run` does."""
    from dask import delayed

    options.check()
    block_bytes = block_bytes or blocks_mod.block_bytes_for(client, blocks_mod.expand(paths))
    table = count(client, paths, options, block_bytes=block_bytes)
    note = pruning_note(table, options.max_pairs)
    if note and log is not None:
        log(note)
    counts = as_counts(table)
    found = phrases_mod.select(counts, options)
    joined = client.scatter([phrase_index(counts, found)], hash=False)[0]  # (broadcast=True hangs with 8 workers)
    parts = [delayed(rewrite_block, pure=False)(block, url, joined, options)
             for url, block in _blocks(paths, block_bytes)]
    window = window or 2 * len(client.scheduler_info()["workers"]) or 2
    pending = [client.compute(part) for part in parts[:window]]
    for i in range(len(parts)):
        out.write(pending[i].result())
        pending[i] = None  # let the worker drop it
        if i + window < len(parts):
            pending.append(client.compute(parts[i + window]))
    return counts, found


def pruning_note(table, max_pairs):
    """One line for stderr when pruning dropped pairs or words (the counts are then approximate), else None."""
    notes = []
    if table.pairs_pruned:
        notes.append(f"more than {max_pairs} distinct pairs (--max-pairs), so rare pairs were dropped "
                     f"(the floor reached {table.pair_floor - 1})")
    if table.words_pruned:
        notes.append(f"{table.words_pruned} rare word entries were pruned (counts up to {table.word_floor}), "
                     "as the C tool's ReduceVocab does")
    return "; ".join(notes) + ": rare counts are approximate" if notes else None
