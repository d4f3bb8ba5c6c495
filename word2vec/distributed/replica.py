"""The worker side of training: each worker's encoded blocks and its full replica of the weights.

A replica lives in its worker process (one per run id) between rounds. In a round it applies
the merged update of the last round, trains its share of the round's words with the existing
kernels (`training.loop.Trainer.run_job`) on its threads, and returns the rows it changed.
"""

import threading

import numpy as np

from ..text import vocab as vocab_mod
from ..training import loop
from . import blocks as blocks_mod

_INDEXES = {}  # run id → word → id, built once per worker process
_REPLICAS = {}  # run id → Replica


def encode_block(data, run_id, words, lowercase, max_sentence_length):
    """One block as ids against the broadcast vocabulary `words` (see `blocks.encode`)."""
    index = _INDEXES.get(run_id)
    if index is None:
        index = _INDEXES[run_id] = {word: i for i, word in enumerate(words)}
    return blocks_mod.encode(data, index, lowercase, max_sentence_length)


class _RoundTrainer(loop.Trainer):
    """A Trainer whose learning rate follows the driver's global progress, not this worker's."""

    span = (0.0, 0.0, 0, 1)  # (alpha at the round's start, at its end, first word, words) of this worker

    def job_layout(self):
        return np.arange(len(self.jobs), dtype=np.int64), self.jobs[:, 2]  # rounds run in corpus order

    def alpha_at(self, epoch, words_before):
        start, end, first, words = self.span
        share = min(max((words_before - first) / max(words, 1), 0.0), 1.0)
        return start + (end - start) * share


class Replica:
    """A full copy of the weights and this worker's corpus, trained a round at a time."""

    def __init__(self, vocab, encoded, config, worker, threads):
        ids = np.concatenate([part[0] for part in encoded]) if encoded else np.zeros(0, np.int32)
        ends, offset = [], 0
        for part in encoded:
            ends.append(part[1] + offset)
            offset += len(part[0])
        ends = np.concatenate(ends) if ends else np.zeros(0, np.int64)
        self.words = int(ends[-1]) if len(ends) else 0
        w_in, w_out = loop.init_weights(len(vocab), config)  # seeded identically on every worker
        self.base = (w_in.copy(), w_out.copy())  # the weights as of the last merge
        self.trainer = None
        if self.words:
            data = loop.Corpus(vocab, ids, ends, self.words)
            self.trainer = _RoundTrainer(data, config, loop.Reporter(), threads=threads)
            rngs = np.stack([loop.thread_seed(config.train.seed, worker * threads + t) for t in range(threads)])
            self.state = loop.State(w_in, w_out, rngs, np.zeros((threads, 3)))
            self.trainer.warm_up(self.state)

    def apply(self, update):
        """Add the merged (rows, deltas) of both matrices to the replica and its base."""
        if update is None:
            return
        for base, current, (rows, deltas) in zip(self.base, self._weights(), update):
            base[rows] += deltas
            if current is not base:
                current[rows] = base[rows]

    def _weights(self):
        return (self.state.w_in, self.state.w_out) if self.trainer else self.base

    def train_round(self, epoch, round_index, rounds, alphas):
        """Train this worker's share of one round; ((rows, deltas) of w_in and w_out, tallies (3,))."""
        if not self.trainer:
            empty = (np.zeros(0, np.int32), np.zeros((0, self.base[0].shape[1]), np.float32))
            return (empty, (empty[0], np.zeros((0, self.base[1].shape[1]), np.float32))), np.zeros(3)
        first, last = self.words * round_index // rounds, self.words * (round_index + 1) // rounds
        starts = self.trainer.jobs[:, 2]
        lo, hi = np.searchsorted(starts, [first, last])
        self.trainer.span = (alphas[0], alphas[1], first, max(last - first, 1))
        self.state.epoch = epoch
        _run_jobs(self.trainer, self.state, int(lo), int(hi))
        tallies = self.state.tallies.sum(axis=0)
        self.state.tallies[:] = 0.0
        return tuple(_take_deltas(w, base) for w, base in zip(self._weights(), self.base)), tallies


def _run_jobs(trainer, state, lo, hi):
    """Run jobs lo..hi-1 on the trainer's threads (the kernels release the GIL)."""
    if trainer.threads == 1:
        for job in range(lo, hi):
            trainer.run_job(state, job, 0)
        return
    jobs, lock, errors = iter(range(lo, hi)), threading.Lock(), []

    def work(thread):
        try:
            while True:
                with lock:
                    job = next(jobs, None)
                if job is None:
                    return
                trainer.run_job(state, job, thread)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(trainer.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _take_deltas(current, base):
    """(row ids int32, deltas float32) of the rows that differ from `base`; those rows go back to base."""
    changed = np.flatnonzero((current != base).any(axis=1)).astype(np.int32)
    deltas = current[changed] - base[changed]
    current[changed] = base[changed]
    return changed, deltas


def start(run_id, words, counts, config, encoded, worker, threads):
    """Build this worker's replica for run `run_id`; returns its words per epoch."""
    _REPLICAS[run_id] = Replica(vocab_mod.Vocab(words, np.asarray(counts)), encoded, config, worker, threads)
    return _REPLICAS[run_id].words


def train_round(run_id, update, epoch, round_index, rounds, alphas):
    """One round on this worker's replica (see `Replica.train_round`), after applying `update`."""
    replica = _REPLICAS[run_id]
    replica.apply(update)
    return replica.train_round(epoch, round_index, rounds, alphas)


def stop(run_id):
    """Free the run's replica and vocabulary index."""
    _REPLICAS.pop(run_id, None)
    _INDEXES.pop(run_id, None)
