"""The worker side of training: a full replica of the weights per worker, and the shards of the corpus it trains.

A shard is a fixed share of the corpus blocks, encoded on the worker that holds it, with its own
RNG states: it is the unit of work that moves to another worker when its worker is lost. A
worker holds one replica per run (the weights as of the last merge, and a working copy) and
one or more shards. In a round it applies the merged updates it was sent, then trains each of
its shards' share of the round with the existing kernels (`training.loop.Trainer.run_job`) from
those same weights, and returns the rows each shard changed. With train.sync_lag 1 a round
starts before the merge of the last one is back: each shard then trains from the merged weights
plus its own deltas not yet merged (its `pending`), and drops them once their merge arrives.
"""

import threading
import time

import numpy as np

from ..text import vocab as vocab_mod
from ..training import checkpoint, loop, padding, subword_model
from . import blocks as blocks_mod
from . import deltas as deltas_mod
from . import memory, tiers

_INDEXES = {}  # run id → word → id, built once per worker process
_REPLICAS = {}  # (run id, worker address) → Replica
_STARTING = threading.Lock()  # two placements on one worker may start its replica at once


class MissingReplica(Exception):
    """This worker holds no replica of the run: it restarted since (the driver then treats it as lost)."""


def initial_weights(vocab, config):
    """The weights every replica starts from, seeded: (w_in, w_out), w_in with the used bucket rows
    for subwords (`subword_model.Layout`, as a local run holds them)."""
    w_in, w_out = loop.init_weights(len(vocab), config)
    if subword_model.enabled(config):
        w_in = subword_model.init_input(subword_model.make_layout(vocab, config), config)
    return w_in, w_out


def load_kernel(config):
    """Import the kernels and load the config's one from numba's cache (a task sent to every worker as the
    driver connects, so that it runs while the corpus is counted, not when the shards are built), and the
    passes over the deltas. With subwords, skip-gram neg is the replicas' own kernel (`_RoundTrainer`)."""
    memory.keep_freed_buffers()
    deltas_mod.warm_up()
    loop.preload(config, trainer_class=_RoundTrainer)


def warm_up(client, config, priority=0):
    """Send `load_kernel` to every worker of `client`; the futures (the driver keeps them until training)."""
    return [client.submit(load_kernel, config, workers=[worker], pure=False, priority=priority)
            for worker in sorted(client.scheduler_info()["workers"])]


def join_words(words):
    """The vocabulary's words as one string to send: Dask sends a list item by item (0.7 s for 22k words)."""
    return "\n".join(words)  # a token holds no whitespace


def split_words(joined):
    return joined.split("\n") if joined else []


def encode_block(data, key, run_id, words, lowercase, max_sentence_length):
    """Block `key` as ids against the broadcast vocabulary `words` (`join_words`; see `blocks.encode`): from
    its tokens when it was counted here (`blocks.keep`), else from its bytes (`data`, or a `blocks.Lazy`)."""
    index = _INDEXES.get(run_id)
    if index is None:
        index = _INDEXES[run_id] = {word: i for i, word in enumerate(split_words(words))}
    counted = blocks_mod.kept(run_id, key)
    if counted is None:
        data = data.load() if isinstance(data, blocks_mod.Lazy) else data
        return blocks_mod.encode(data, index, lowercase, max_sentence_length)
    tokens, bad = counted
    return blocks_mod.encode_tokens(tokens, index, max_sentence_length) + (bad,)


class _RoundTrainer(loop.Trainer):
    """A Trainer whose learning rate follows the driver's global progress, not this shard's.

    With subwords, skip-gram neg takes a step per pair, as fastText: the local run's window order
    loses WS-353 once the replicas' updates are summed (see `subword_model.kernel_and_tables`)."""

    subword_by_pair = True
    span = (0.0, 0.0, 0, 1)  # (alpha at the round's start, at its end, first word, words) of this shard

    def job_layout(self):
        return np.arange(len(self.jobs), dtype=np.int64), self.jobs[:, 2]  # rounds run in corpus order

    def alpha_at(self, epoch, words_before):
        start, end, first, words = self.span
        share = min(max((words_before - first) / max(words, 1), 0.0), 1.0)
        return start + (end - start) * share


class Shard:
    """Some blocks of the corpus, encoded, with their own RNG states (threads, 1) and a Trainer over them."""

    def __init__(self, vocab, encoded, config, rngs):
        ids = np.concatenate([part[0] for part in encoded]) if encoded else np.zeros(0, np.int32)
        ends, offset = [], 0
        for part in encoded:
            ends.append(part[1] + offset)
            offset += len(part[0])
        ends = np.concatenate(ends) if ends else np.zeros(0, np.int64)
        self.words = int(ends[-1]) if len(ends) else 0
        self.raw_tokens = sum(int(part[2]) for part in encoded)
        self.bad_bytes = sum(int(part[3]) for part in encoded)
        self.data = loop.Corpus(vocab, ids, ends, self.words)
        self.digest = checkpoint.corpus_digest(self.data)
        self.rngs = np.array(rngs, dtype=np.uint64).reshape(-1, 1)
        self.pending = []  # [(update seq, deltas)]: this shard's deltas sent but not yet merged into `base`
        self.carry = None  # per matrix (rows, values): rows it changed in a partial round, not synced (see `tiers`)
        self.trainer = _RoundTrainer(self.data, config, loop.Reporter(), threads=len(self.rngs)) if self.words else None

    def summary(self):
        """(words per epoch, digest of the encoded blocks, raw tokens, invalid bytes)."""
        return self.words, self.digest, self.raw_tokens, self.bad_bytes

    def round_jobs(self, round_index, rounds):
        """The jobs lo..hi-1 of a round, its first word and its words."""
        first, last = self.words * round_index // rounds, self.words * (round_index + 1) // rounds
        lo, hi = np.searchsorted(self.trainer.jobs[:, 2], [first, last])
        return int(lo), int(hi), first, max(last - first, 1)

    def input_rows(self, lo, hi):
        """The input rows jobs lo..hi-1 can change, for subwords (each word's own and n-gram rows); else None."""
        if lo >= hi or not subword_model.enabled(self.trainer.config):
            return None
        jobs, ends = self.trainer.jobs, self.data.ends
        start, stop = int(jobs[lo, 2]), int(ends[jobs[hi - 1, 1] - 1])
        words = np.unique(self.data.ids[start:stop])
        offsets, rows = self.trainer.layout.offsets, self.trainer.layout.rows  # rows of the compact matrix
        lengths = offsets[words + 1] - offsets[words]
        firsts = np.repeat(offsets[words] - np.cumsum(lengths) + lengths, lengths)
        return np.unique(rows[firsts + np.arange(int(lengths.sum()))])


class Replica:
    """A full copy of the weights (`base`, as of the last merge, and a working copy) and the shards held here."""

    def __init__(self, vocab, config, weights=None, applied=0):
        if weights is None:
            weights = initial_weights(vocab, config)  # seeded identically on every worker
        else:  # sent: possibly read-only, or (in a cluster of threads) the driver's own arrays
            weights = tuple(np.array(w, dtype=np.float32, copy=True) for w in weights)
        self.vocab, self.config = vocab, config
        self.base = tuple(weights)
        self.work = tuple(padding.copy(w) for w in self.base)
        self.applied = applied  # how many merged updates `base` holds
        self.undo = None  # the rows of the last update applied, as they were: [(rows, values)] per matrix
        self.frequent = tiers.frequent_rows(config, len(vocab), [w.shape for w in self.base])  # see `tiers`
        self.shards = {}
        # (shard index, lo, hi) after a partial round of the replica's only shard: the rows jobs lo..hi-1 changed
        # outside the frequent ones are left in `work` for the next round, not held over in `carry` (see `train`)
        self.held = None
        self.lock = threading.Lock()  # one round or shard change at a time, whatever the worker's threads

    def add_shard(self, index, encoded, rngs):
        self.set_aside()  # `work` becomes shared
        shard = Shard(self.vocab, encoded, self.config, rngs)
        if shard.trainer is not None:
            shard.trainer.warm_up(self._state(shard))
        self.shards[index] = shard
        return shard.summary()

    def _state(self, shard):
        return loop.State(self.work[0], self.work[1], shard.rngs, np.zeros((len(shard.rngs), 3)))

    def apply(self, update, seq):
        """Add merged update number `seq`, (rows, deltas) of both matrices, unless `base` holds it already."""
        if update is None or seq <= self.applied:
            return
        if seq != self.applied + 1:  # it missed one: the driver sends the shards elsewhere, with its weights
            raise MissingReplica(f"the replica holds {self.applied} updates and was sent update {seq}")
        if self.config.train.sync_lag:  # to train a round from before this update (see `_starts`)
            self.undo = [(rows, base[rows]) for base, (rows, _) in zip(self.base, update)]
        for base, work, part in zip(self.base, self.work, update):
            deltas_mod.apply(base, part, work)
        self.applied = seq

    def _starts(self, shard, seq, base_seq):
        """The weights a shard's round starts from, per matrix (`base` itself, or a copy, which `work` then is
        too): those holding updates up to `base_seq` (one fewer than `base` holds when a shard moved here trains
        a round this replica is past), plus the shard's own deltas not merged in them (of rounds before `seq`)."""
        rolled = base_seq == self.applied - 1 and self.undo is not None
        floor = base_seq if rolled else self.applied
        pending = [(s, d) for s, d in shard.pending if floor < s < seq]  # later ones: of an earlier try
        shard.pending = [(s, d) for s, d in pending if s > self.applied]  # the others are in `base` now
        if pending or rolled:
            self.set_aside()  # `work` is written over below
        starts = []
        for m, (base, work) in enumerate(zip(self.base, self.work)):
            if not pending and not rolled:
                starts.append(base)
                continue
            start = base.copy()  # a copy is quicker than indexing the rows: a round changes most of them
            if rolled:
                start[self.undo[m][0]] = self.undo[m][1]
            for _, deltas in pending:
                start[deltas[m][0]] += deltas[m][1]
            work[:] = start
            starts.append(start)
        return starts

    def train(self, index, rngs, epoch, round_index, rounds, alphas, seq=None, base_seq=None, replay=None):
        """Train shard `index`'s share of one round, whose deltas make update `seq`, from the weights holding
        updates up to `base_seq` plus the shard's pending deltas (and, after a partial round, the rows it
        held over: `tiers`); its RNGs start from `rngs` (the driver's), or go on where they stand (None).
        `replay`: see `_replay`.

        Returns ((rows int32, deltas float16: see `deltas`) of w_in and of w_out, tallies (threads, 3),
        RNG states after the round (threads, 1), seconds in the kernels); `work` is `base` again after. A
        partial round returns the frequent rows only, and holds the others over (`Shard.carry`, or in `work`:
        `held`).
        """
        shard = self.shards[index]
        if self.held is not None and (self.held[0] != index or replay is not None):
            self.set_aside()
        if replay is not None and shard.trainer is not None:
            self._replay(shard, epoch, round_index, rounds, *replay)
        if rngs is not None:
            shard.rngs[:] = rngs  # a round run again starts where the lost one did
        if shard.trainer is None:
            empty = tuple((np.zeros(0, np.int32), np.zeros((0, w.shape[1]), np.float32)) for w in self.base)
            return empty, np.zeros((len(shard.rngs), 3)), shard.rngs.copy(), 0.0
        seq = self.applied + 1 if seq is None else seq
        starts = self._starts(shard, seq, self.applied if base_seq is None else base_seq)
        if shard.carry is not None:  # the rows it changed in the partial round before, not synced yet
            for work, (rows, values) in zip(self.work, shard.carry):
                work[rows] = values
        started = time.perf_counter()
        lo, hi, state = self._run_round(shard, epoch, round_index, rounds, alphas)
        seconds = time.perf_counter() - started
        if tiers.partial(self.config, round_index):
            if len(self.shards) == 1 and all(start is base for start, base in zip(starts, self.base)):
                self.held = (index, lo, hi)  # as `carry` would put them back, two passes over the matrices fewer
            else:
                shard.carry = self._hold_over(shard, starts, lo, hi)
            deltas = tuple(deltas_mod.take(work, start, top)
                           for work, start, top in zip(self.work, starts, self.frequent))
        else:
            held = shard.carry is not None or self.held is not None
            since = shard.round_jobs(round_index - 1, rounds)[0] if held else lo
            deltas = (deltas_mod.take(self.work[0], starts[0], shard.input_rows(since, hi)),
                      deltas_mod.take(self.work[1], starts[1]))
            shard.carry = self.held = None
        for base, work, start in zip(self.base, self.work, starts):
            if start is not base:
                work[:] = base
        if self.config.train.sync_lag:  # kept until their merge comes back (see `_starts`)
            shard.pending.append((seq, deltas))
        return deltas, state.tallies, shard.rngs.copy(), seconds

    def set_aside(self):
        """The rows a shard left in `work` after its partial round (`held`) go to its `carry`, and `work` is
        `base` there again, as if it had held them over at once; for a shard gone, they are dropped."""
        if self.held is None:
            return
        index, lo, hi = self.held
        self.held = None
        shard = self.shards.get(index)
        if shard is None:
            for work, base in zip(self.work, self.base):
                work[:] = base
            return
        # the update since that round changed frequent rows only: elsewhere `base` is still where it started
        shard.carry = self._hold_over(shard, self.base, lo, hi)

    def _run_round(self, shard, epoch, round_index, rounds, alphas):
        """Run the shard's jobs of one round in `work`, at learning rates `alphas`; (lo, hi, its State)."""
        lo, hi, first, words = shard.round_jobs(round_index, rounds)
        shard.trainer.span = (alphas[0], alphas[1], first, words)
        state = self._state(shard)
        state.epoch = epoch
        _run_jobs(shard.trainer, state, lo, hi)
        return lo, hi, state

    def _hold_over(self, shard, starts, lo, hi):
        """The rows outside the frequent ones that jobs lo..hi-1 changed, as they are now (exactly), for the
        next round; they go back to their start in `work`."""
        candidates = (shard.input_rows(lo, hi), None)
        return tuple(deltas_mod.keep(work, start, tiers.others(rows, top, len(start)))
                     for work, start, rows, top in zip(self.work, starts, candidates, self.frequent))

    def _replay(self, shard, epoch, round_index, rounds, alphas, rollback, rngs):
        """Train the partial round before this one again: the shard moved here, without the rows it held over
        from it. From the weights that round started from (`base` with the rows its update changed as they
        were before, `rollback`) and its RNG states `rngs`, at its learning rates `alphas`; the rows it
        changed outside the frequent ones are held over as they were, and its deltas, merged already, go."""
        for work, (rows, values) in zip(self.work, rollback):
            work[rows] = values
        shard.rngs[:] = rngs
        lo, hi, _ = self._run_round(shard, epoch, round_index - 1, rounds, alphas)
        shard.carry = self._hold_over(shard, self.base, lo, hi)  # outside the frequent rows, base is that start
        for work, base in zip(self.work, self.base):
            work[:] = base


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


def _key(run_id):
    from distributed import get_worker

    return run_id, get_worker().address  # workers of a cluster of threads share this process


def _replica(run_id):
    replica = _REPLICAS.get(_key(run_id))
    if replica is None:
        raise MissingReplica(f"no replica of run {run_id} on this worker")
    return replica


def start(run_id, words, counts, config, weights=None, applied=0):
    """Build this worker's replica of run `run_id` (its vocabulary: `words` from `join_words`, `counts`):
    seeded weights, or `weights` holding `applied` updates.

    A replica already here is kept if it is current (it holds at least the update before
    `applied`, which the next round brings), with its shards.
    """
    with _STARTING:
        current = _REPLICAS.get(_key(run_id))
        if current is None or current.applied < applied - 1:
            vocab = vocab_mod.Vocab(split_words(words), np.asarray(counts))
            _REPLICAS[_key(run_id)] = Replica(vocab, config, weights, applied)


def add_shards(run_id, indexes, encoded, rngs, after=None):
    """Encoded blocks (a list per shard) become shards `indexes` of this worker; their `Shard.summary()`s.

    `after` is the task that built the replica, so that this one runs after it.
    """
    replica = _replica(run_id)
    with replica.lock:
        return [replica.add_shard(i, parts, r) for i, parts, r in zip(indexes, encoded, rngs)]


def train_round(run_id, updates, indexes, rngs, position, after=None, pending=None, replays=None):
    """Apply the merged `updates` [(seq, update)] this replica lacks, then train shards `indexes` from RNG
    states `rngs` (a list; None: where they stand) at `position`, (epoch, round, rounds, alphas, seq,
    base_seq) (see `Replica.train`); one result each. `after`: tasks that must run first (the shards' placement, their
    last round). `pending`: a list of the shards' deltas of update seq − 1, or None, as the driver has them
    for a shard just moved here, or from a checkpoint. `replays`: a list of `Replica._replay`'s arguments, or
    None, for shards moved here after a partial round (see `tiers`)."""
    replica = _replica(run_id)
    with replica.lock:
        if not set(indexes) <= set(replica.shards):
            raise MissingReplica(f"shards {sorted(set(indexes) - set(replica.shards))} are not on this worker")
        for seq, update in updates:
            replica.apply(update, seq)
        for index, deltas in zip(indexes, pending or ()):
            if deltas is not None:
                replica.shards[index].pending = [(position[4] - 1, deltas)]
        replays = replays or [None] * len(indexes)
        return [replica.train(i, r, *position, replay=p) for i, r, p in zip(indexes, rngs, replays)]


class Rounds:
    """A worker's endpoint for training rounds, as a Dask actor: the driver calls `train_round` on it
    straight, not through the scheduler (a round trip of two calls took 2 ms, of two tasks 11 ms), and
    the merged updates go with the call instead of being scattered first."""

    def train_round(self, *args, **kwargs):
        return train_round(*args, **kwargs)


def drop_shard(run_id, index):
    """Free shard `index` of this worker's replica: it moved to another worker."""
    replica = _REPLICAS.get(_key(run_id))
    if replica is not None:
        with replica.lock:
            replica.set_aside()
            replica.shards.pop(index, None)


def stop(run_id):
    """Free the run's replicas and vocabulary index in this process."""
    for key in [key for key in _REPLICAS if key[0] == run_id]:
        del _REPLICAS[key]
    _INDEXES.pop(run_id, None)
    blocks_mod.forget(run_id)
