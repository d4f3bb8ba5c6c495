"""Counting words on the workers: block by block, pruned as the C tool's ReduceVocab, merged by a tree reduction."""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import blocks as blocks_mod

MAX_TABLE_WORDS = 20_000_000  # the C tool's vocabulary hash holds 21M words before ReduceVocab
FAN_IN = 8  # partial tables merged per reduction task


@dataclass
class Table:
    """Partial counts: word → count, the invalid bytes seen, and what pruning dropped."""

    counts: dict
    bad_bytes: int = 0
    pruned_words: int = 0
    min_reduce: int = 1  # words counted this many times or fewer were dropped last (the C tool's min_reduce)
    pruned_counts: list = field(default_factory=list)


def count_block(data, lowercase, max_words, keep=None):
    """The Table of one block. With `keep`, (run id, block key), the block's tokens stay in this worker
    for the run to encode them without reading them again (`blocks.keep`)."""
    text, bad = blocks_mod.decode(data, lowercase)
    if keep is None:
        counts = Counter()
        for words in blocks_mod.lines_of_tokens(text):
            counts.update(words)
        return prune(Table(dict(counts), bad), max_words)
    tokens = blocks_mod.tokenize(text)
    words, ids, _ = tokens
    blocks_mod.keep(*keep, tokens, bad)
    return prune(Table(dict(zip(words, np.bincount(ids, minlength=len(words)).tolist())), bad), max_words)


def merge(tables, max_words):
    """The sum of partial Tables, pruned when it holds more than `max_words` words."""
    first = tables[0]
    total = Counter(first.counts)
    merged = Table({}, first.bad_bytes, first.pruned_words, first.min_reduce)
    for table in tables[1:]:
        total.update(table.counts)
        merged.bad_bytes += table.bad_bytes
        merged.pruned_words += table.pruned_words
        merged.min_reduce = max(merged.min_reduce, table.min_reduce)
    merged.counts = dict(total)
    return prune(merged, max_words)


def prune(table, max_words):
    """ReduceVocab: drop the words counted at most min_reduce times, raising it, until the table fits."""
    while len(table.counts) > max_words:
        before = len(table.counts)
        table.counts = {w: c for w, c in table.counts.items() if c > table.min_reduce}
        table.pruned_words += before - len(table.counts)
        table.min_reduce += 1
    return table


def count_words(client, paths, lowercase=False, max_words=MAX_TABLE_WORDS, block_bytes=blocks_mod.BLOCK_BYTES,
                keep_for=None):
    """Count the words of `paths` (URLs, globs) on the cluster of `client`, in the blocks a run of one shard a
    worker trains (`blocks.units`).

    With `keep_for`, (run id, workers), block i is counted on workers[i % len(workers)], the worker
    its shard will train it on, which keeps its tokens to encode them (see `count_block`).

    Returns
    -------
    words : list of str, counts : int64 array, in no particular order
    table : the merged Table (bad_bytes, pruned_words, min_reduce)
    """
    return counted(submit_counts(client, paths, lowercase, max_words, block_bytes, keep_for))


def submit_counts(client, paths, lowercase=False, max_words=MAX_TABLE_WORDS, block_bytes=blocks_mod.BLOCK_BYTES,
                  keep_for=None):
    """The first half of `count_words`: the counting sent to the workers, as the future of the merged Table."""
    from dask import delayed

    run_id, workers = keep_for or (None, None)
    parts = blocks_mod.units(blocks_mod.expand(paths), block_bytes, len(workers or client.nthreads()))
    level = [client.compute(delayed(count_block, pure=False)(part, lowercase, max_words,
                                                              run_id and (run_id, part.key)),
                            workers=workers and [workers[i % len(workers)]]) for i, part in enumerate(parts)]
    while len(level) > 1:
        level = [client.submit(merge, level[i: i + FAN_IN], max_words, pure=False)
                 for i in range(0, len(level), FAN_IN)]
    return level[0]


def counted(future):
    """The second half of `count_words`: (words, counts, table) of the merged Table's future."""
    table = future.result()
    words = list(table.counts)
    return words, np.fromiter((table.counts[w] for w in words), np.int64, len(words)), table


def pruning_note(table):
    """One line for stderr when pruning dropped words (the counts are then approximate), else None."""
    if not table.pruned_words:
        return None
    return (f"the word tables outgrew their limit, so {table.pruned_words} rare word entries were pruned "
            f"(counts up to {table.min_reduce - 1}), as the C tool's ReduceVocab does: rare counts are approximate")
