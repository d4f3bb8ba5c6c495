"""The driver of a cluster run: count, build the shards on the workers, train in synchronous rounds of summed
deltas, checkpoint, save.

The corpus blocks are dealt into one shard per worker (see `replica`). A round is
`train.sync_words` words over the whole cluster: every shard trains its share of them (its share
of the epoch, cut into the same number of rounds on every shard), then sends the rows it
changed as (row ids, deltas). The driver adds up each row's deltas, capped (see `deltas`), and
every replica, the driver's own included, applies that update. With frequency tiers (see
`tiers`) every other round is partial: it syncs the frequent rows only. With train.sync_lag 0 a
round is a call on each worker's actor (`replica.Rounds`), with the updates it lacks; with
train.sync_lag 1 it is a task, and the driver
sends round r + 1 before it waits for round r, which trains from the updates up to round r − 1
plus each shard's own deltas of round r: the workers go on while a round's deltas travel and
merge. The first round of an epoch waits for the last (so the epoch's checkpoint is the whole
state), and what a round trains from never depends on when it was sent, so a checkpoint, a
resumed run or a lost worker changes nothing. A lost worker's shards move (see `faults`).
scripts/bench_cluster.py measures it all.
"""

import concurrent.futures
import contextlib
import math
import time
import uuid

import numpy as np

from .. import config as config_mod
from ..errors import DataError, DivergenceError, Interrupted
from ..store import modeldir
from ..text import corpus as corpus_mod
from ..text import vocab as vocab_mod
from ..training import checkpoint, continuation, interrupts, loop, subword_model
from . import blocks as blocks_mod
from . import checkpoints, connect, faults, memory, replica, tiers
from .deltas import apply, merge, warm_up as load_merge
from . import vocab as cluster_vocab

def _vocabulary(client, paths, config, vocab, log, run_id):
    """The vocabulary (counted on the workers unless given); the futures of the kernel's load (`_count`)."""
    if vocab is not None:
        return vocab, replica.warm_up(client, config)
    words, counts, table, warming = _count(client, paths, config, run_id)
    note = cluster_vocab.pruning_note(table)
    if note:
        log(note)
    vocab, _ = vocab_mod.build(words, counts, config.vocab.min_count, config.vocab.max_size)
    return vocab, warming


def _count(client, paths, config, run_id):
    """`cluster_vocab.count_words` in the blocks of the shards: every worker counts the blocks its shard will
    train, and keeps their tokens to encode them; then loads the kernel (`replica.warm_up`), while the
    driver builds the vocabulary. (words, counts, table, the futures of the kernel's load: keep them, a
    dropped one is cancelled.)"""
    block_bytes = blocks_mod.block_bytes_for(client, blocks_mod.expand(paths))
    workers = [address for address, _ in connect.workers(client)]  # as make_shards deals the blocks
    future = cluster_vocab.submit_counts(client, paths, config.corpus.lowercase, block_bytes=block_bytes,
                                         keep_for=(run_id, workers))
    warming = replica.warm_up(client, config, priority=-1)  # once a worker's counting is done
    return cluster_vocab.counted(future) + (warming,)


@contextlib.contextmanager
def _run_on(client):
    """A new run's id; on the way out, whatever the run left on the workers is dropped (`replica.stop`)."""
    memory.keep_freed_buffers()  # the driver's merge, round after round (the workers': replica.load_kernel)
    run_id = uuid.uuid4().hex
    try:
        yield run_id
    finally:
        with contextlib.suppress(Exception):
            client.run(replica.stop, run_id, on_error="ignore")


def _send_words(client, vocab):
    """The vocabulary's words sent to a worker (`faults.Scattered`)."""
    words = faults.Scattered(client, replica.join_words(vocab.words), lambda: None)
    words.get()
    return words


def make_shards(client, paths, config, layout=None):
    """The corpus dealt block by block into shards, each given a worker; (shards, block bytes).

    A new run makes one shard per worker, with that worker's threads; a resumed one the
    `layout` (block bytes, threads of each shard, RNG states of each shard) of its checkpoint.
    """
    urls = blocks_mod.expand(paths)
    workers = connect.workers(client)
    if layout is None:
        threads = [n for _, n in workers]
        firsts = np.cumsum([0] + threads)
        rngs = [np.stack([loop.thread_seed(config.train.seed, int(firsts[i]) + t) for t in range(n)])
                for i, n in enumerate(threads)]
        layout = blocks_mod.block_bytes_for(client, urls), threads, rngs
    block_bytes, threads, rngs = layout
    n = len(threads)
    parts = blocks_mod.units(urls, block_bytes, n)
    shards = [faults.Shard(i, parts[i::n], threads[i], rngs[i], workers[i % len(workers)][0]) for i in range(n)]
    return shards, block_bytes


class Driver:
    """The driver's copy of the weights, the shards and the round loop."""

    def __init__(self, client, vocab, config, shards, reporter, weights, seeded, words, run_id):
        self.client, self.vocab, self.config, self.shards, self.reporter = client, vocab, config, shards, reporter
        # a seeded run's weights may still be drawn (a Future): the driver needs them once the shards are built
        self.initial = weights if isinstance(weights, concurrent.futures.Future) else None
        self.w_in, self.w_out = (None, None) if self.initial is not None else weights
        self.seeded = seeded  # replicas may draw the starting weights themselves, as the driver did
        self.run = faults.Run(run_id, vocab, config, words)
        self.placement = faults.Placement(client, self.run, shards, self.weights, reporter.log)
        self.applied, self.sent = 0, 0  # rounds merged and sent so far: round k's merged update is number k
        self.updates, self.confirmed = {}, {}  # {number: faults.Scattered}; {worker: updates its replica holds}
        self.lag = config.train.sync_lag
        self.inflight, self.moved, self.last = None, False, {}  # the round sent ahead; {shard: (task, worker)}
        self.merged_at = 0.0
        self.previous = self.last_deltas = None  # (see _merge)
        self.rollback = None  # after a partial round: the rows its update changed, as they were (see `tiers`)
        self.resumed = False  # resumed in mid-epoch with train.sync_lag 1: see merge_again
        self.epoch, self.round, self.epoch_seconds = 0, 0, 0.0
        self.metrics, self.round_log = [], []
        self.tallies = np.zeros((sum(shard.threads for shard in shards), 3))
        self.rounds = self.total_words = self.shard_words = self.workers = None  # known once the shards are built
        self.stop_signal = None  # set by a signal handler; honoured at the next round boundary
        self.merging = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="w2v-merge")  # see _merge
        # with train.sync_lag 0, rounds are calls on each worker's `replica.Rounds` actor, not tasks (see _call);
        # with 1, a round sent ahead must follow the last on its worker, which only tasks' order ensures
        self.direct, self.actors = not self.lag, {}
        self.checkpoint_due = False  # the driver waits for the round in flight, if any, then saves
        self.on_round = None  # callable(driver, epoch, round) once a round's tasks are sent (tests kill workers there)
        self.before_round = None  # the same, just before they are sent

    def weights(self):
        """None while the replicas may seed their own weights, else (w_in, w_out, updates they hold) to send
        them: in mid-epoch with train.sync_lag 1 those before the last merge, which the next round trains from."""
        if self.seeded and self.applied == 0:
            return None
        if self._held_back():
            w_in, w_out = self.w_in.copy(), self.w_out.copy()
            for weights, (rows, _), before in zip((w_in, w_out), self.updates[self.applied].value, self.previous):
                weights[rows] = before
            return w_in, w_out, self.applied - 1
        return self.w_in, self.w_out, self.applied

    def _held_back(self):
        """True when the round being sent or collected trains from the weights before the last merge."""
        return bool(self.lag and self.run.position[1] and self.previous is not None and self.applied in self.updates)

    def start(self):
        """Build every shard on its worker; each shard's (words per epoch, digest, raw tokens, invalid bytes)."""
        if self.direct:  # made while the shards are built
            for worker, _ in connect.workers(self.client):
                self._actor(worker)
        pending = self.placement.send(lambda worker, indexes, ready: ready, place=True)
        load_merge()  # the driver's compiled merge, loaded while the workers build the shards
        built = self.placement.collect(pending)
        if self.initial is not None:
            self.w_in, self.w_out = self.initial.result()
        summaries = [built[shard.index] for shard in self.shards]
        self.shard_words = [summary[0] for summary in summaries]
        self.total_words = sum(self.shard_words)
        if not self.total_words:
            raise DataError("no token of the corpus is in the vocabulary")
        # a round is sync_words over the whole cluster, so replicas drift apart by as many words however many there are
        self.rounds = tiers.rounds(self.config, max(1, math.ceil(self.total_words / self.config.train.sync_words)))
        self.workers = len(self.placement.replicas)
        return summaries

    def alpha(self, epoch, done):
        """The learning rate `done` (0..1) of the way through `epoch`. The shards train side by side, as the
        halves of a local run do, so sawtooth and halves both fall half the epoch's share in an epoch."""
        cfg = self.config.train
        share = 1.0 if cfg.alpha_schedule == "linear" else 0.5
        progress = (epoch + share * done) / cfg.epochs
        return cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(progress, 1.0)

    def run_round(self):
        """Merge the next round of every shard; its record goes to `round_log`. With train.sync_lag 1 the
        round after it is sent first, so that the workers train it while this one is merged and sent back."""
        if self.inflight is None:
            self.inflight = self._send(self.epoch, self.round)
        epoch, index, pending, seq, upto, started = self.inflight
        self.inflight, moves = None, self.placement.moves
        if self.lag and index + 1 < self.rounds and not self.draining and not self.moved:
            self.inflight = self._send(epoch, index + 1)  # before waiting: its tasks queue behind this round's
        self.run.position = (epoch, index)
        done = self.placement.collect(pending)
        self.moved = self.placement.moves > moves  # a moved shard's next round waits for this one's retry
        for shard in self.shards:  # each replica that trained this round holds the updates it was sent
            self.confirmed[shard.worker] = max(self.confirmed.get(shard.worker, 0), upto)
        results = [done[shard.index] for shard in self.shards]
        compute = max(sum(done[i][3] for i in indexes) for indexes in self.placement.by_worker().values())
        sent, rows = self._merge(results, seq, tiers.partial(self.config, index))
        now = time.perf_counter()
        seconds, self.merged_at = now - max(started, self.merged_at), now  # overlapped: since the last merge
        self.round_log.append({"epoch": epoch + 1, "round": index + 1, "bytes": sent, "rows_in": rows[0],
                               "rows_out": rows[1], "seconds": round(seconds, 4), "compute_seconds": round(compute, 4),
                               "sync_seconds": round(max(seconds - compute, 0.0), 4)})
        self.round += 1
        return seconds

    def _send(self, epoch, index):
        """Send the tasks of round `index` of `epoch` (see `faults.Placement.send`); the in-flight record."""
        self.sent += 1
        seq, self.run.position = self.sent, (epoch, index)
        # the updates it trains from: all but the last `lag` (none held back at an epoch's start), whether it is
        # sent ahead or not, so that waiting (for a checkpoint, after a loss) changes nothing
        upto = max(seq - 1 - (self.lag if index else 0), 0)
        alphas = (self.alpha(epoch, index / self.rounds), self.alpha(epoch, (index + 1) / self.rounds))
        position = (epoch, index, self.rounds, alphas, seq, upto)

        def task(worker, indexes, ready):
            # the updates that worker's replica may lack: a replica placed just now holds the driver's weights
            # or the update before (see `replica.start`); it skips those it holds
            placed = worker not in self.placement.replicas
            have = self.confirmed.get(worker, 0) if not placed else max(self.applied - 1 - self._held_back(), 0)
            rngs = [self.shards[i].rngs if self.shards[i].rngs_at == seq else None for i in indexes]
            # a shard placed just now (or resumed) lacks its deltas of the last round, which this one trains from
            moved = ready is not None or (seq == 2 and self.resumed)
            pending = [self.last_deltas[i] for i in indexes] if moved and upto < seq - 1 else None
            # a shard placed just now after a partial round trains that round again first (see `tiers`)
            replays = [self._replay(i, epoch, index) for i in indexes] if ready is not None and carrying else None
            if self.direct:
                return self._call(worker, ready, have, upto, indexes, rngs, position, pending, replays)
            updates = [(s, self.updates[s].get()) for s in range(have + 1, upto + 1)]
            # a cancelled try of this very round is no task to wait for: waiting on it cancelled every retry
            after = [ready] + [future for future, there in (self.last.get(i, (None, None)) for i in indexes)
                               if there == worker and future.status not in faults.GONE]
            future = self.client.submit(replica.train_round, self.run.run_id, updates, indexes, rngs, position,
                                        after, pending, replays, workers=[worker], pure=False)
            self.last.update((i, (future, worker)) for i in indexes)
            return future

        hook = self.on_round and (lambda: self.on_round(self, epoch, index))
        carrying = tiers.carrying(self.config, index)  # the workers hold rows over: no shard moves by choice
        placing = self.placement.rebalance() if self.inflight is None and not carrying else set()
        if self.before_round is not None:
            self.before_round(self, epoch, index)
        return epoch, index, self.placement.send(task, placing, sent=hook), seq, upto, time.perf_counter()

    def _actor(self, worker):
        """The future of `worker`'s `replica.Rounds` actor, made if it has none (the watch cancels it if the
        worker goes)."""
        made = self.actors.get(worker)
        if made is None or made.status in faults.GONE:
            made = self.actors[worker] = self.client.submit(replica.Rounds, workers=[worker], actor=True, pure=False)
            self.placement.watch.track(made, worker)
        return made

    def _call(self, worker, ready, have, upto, indexes, rngs, position, pending, replays):
        """A round of shards `indexes` as a call on `worker`'s actor, the merged updates it lacks sent with it;
        after their placement (`ready`), if they were placed just now."""
        if ready is not None:
            ready.result()
        updates = [(s, self.updates[s].value) for s in range(have + 1, upto + 1)]
        try:
            actor = self._actor(worker).result()
            return faults.Call(actor.train_round(self.run.run_id, updates, indexes, rngs, position, None, pending,
                                                 replays))
        except RuntimeError as exc:  # "Worker holding Actor was lost"
            raise faults.LostWorker(str(exc)) from None

    def _replay(self, index, epoch, round_index):
        """What shard `index` needs to train the partial round before `round_index` again (see
        `replica.Replica._replay`): its learning rates, the rows its update changed as they were, its RNGs."""
        alphas = (self.alpha(epoch, (round_index - 1) / self.rounds), self.alpha(epoch, round_index / self.rounds))
        return alphas, self.rollback, self.shards[index].previous_rngs

    def _merge(self, results, seq, partial=False):
        """Merge the shards' deltas into update `seq` (see `merge`), apply it here; (bytes sent, (rows of w_in,
        rows of w_out)). Before a partial round's update, the frequent rows are kept as they were (`rollback`)."""
        matrices = (self.w_in, self.w_out)
        self.rollback = None
        if partial:
            top = tiers.frequent_rows(self.config, len(self.vocab), [w.shape for w in matrices])
            self.rollback = tuple((rows, weights[rows].copy()) for weights, rows in zip(matrices, top))
        if self.lag:  # what a checkpoint in mid-epoch needs: the weights before this update, the shards' deltas
            update = tuple(merge([result[0][m] for result in results]) for m in (0, 1))
            self.previous = tuple(weights[rows] for weights, (rows, _) in zip(matrices, update))
            self.last_deltas = [result[0] for result in results]
            for weights, part in zip(matrices, update):
                apply(weights, part)
        else:  # merged and applied in one pass, w_out's in a thread while w_in's runs here (the passes release
            # the GIL, and the workers wait for this merge: their cores are free)
            w_out = self.merging.submit(merge, [result[0][1] for result in results], matrices[1])
            update = (merge([result[0][0] for result in results], matrices[0]), w_out.result())
        placement = self.placement
        holders = lambda: sorted(placement.replicas & placement.watch.live)  # noqa: E731
        self.updates[seq] = faults.Scattered(self.client, update, holders)
        self.applied = seq
        first = 0
        for shard, (_, tallies, rngs, _) in zip(self.shards, results):
            shard.previous_rngs, shard.rngs, shard.rngs_at = shard.rngs, rngs, seq + 1
            self.tallies[first:first + shard.threads] += tallies
            first += shard.threads
        oldest = min(self.confirmed.get(worker, 0) for worker in placement.replicas) if placement.replicas else seq
        for old in [s for s in self.updates if s <= min(oldest, seq - 2)]:
            del self.updates[old]  # every replica holds it
        sent = sum(rows.nbytes + deltas.nbytes for result in results for rows, deltas in result[0])
        sent += len(placement.replicas) * sum(rows.nbytes + deltas.nbytes for rows, deltas in update)
        return int(sent), tuple(len(rows) for rows, _ in update)

    def merge_again(self, parts):
        """Resume in mid-epoch with train.sync_lag 1: the driver holds the weights before the last merge, and
        `parts` the shards' deltas of that round; merge them again as update 1, and send each shard its own."""
        self.sent = 1
        self._merge([(part, 0.0, shard.rngs, 0.0) for part, shard in zip(parts, self.shards)], 1)
        self.resumed = True

    def finish_epoch(self):
        """Check and record the epoch that just ended (its metrics.json entry), and start the next."""
        loss_sum, predictions, words = self.tallies.sum(axis=0)
        loss = loss_sum / max(predictions, 1)
        if not np.isfinite(loss) or not np.isfinite(self.w_in[:: max(1, len(self.w_in) // 256)]).all():
            raise DivergenceError(f"training diverged in epoch {self.epoch + 1} (mean loss {loss}); "
                                  f"try a lower train.alpha (now {self.config.train.alpha})")
        rounds = [entry for entry in self.round_log if entry["epoch"] == self.epoch + 1]
        seconds = self.epoch_seconds
        record = {"epoch": self.epoch + 1, "loss": float(loss), "predictions": int(predictions), "words": int(words),
                  "seconds": round(seconds, 4), "words_per_sec": round(float(words) / max(seconds, 1e-9), 1),
                  "rounds": len(rounds), "bytes_per_round": int(sum(r["bytes"] for r in rounds) / max(len(rounds), 1)),
                  "compute_seconds": round(sum(r["compute_seconds"] for r in rounds), 4),
                  "sync_seconds": round(sum(r["sync_seconds"] for r in rounds), 4)}
        self.metrics.append(record)
        if self.reporter.on_epoch is not None:
            self.reporter.on_epoch(record, self.config.train.epochs, sum(r["seconds"] for r in self.metrics))
        self.tallies[:] = 0.0
        self.epoch, self.round, self.epoch_seconds = self.epoch + 1, 0, 0.0

    @property
    def draining(self):
        """True when a checkpoint is to be saved: no round is sent ahead, so that the driver's weights are the
        whole state once the round in flight is merged."""
        return self.stop_signal is not None or self.checkpoint_due

    def train(self, bar, save):
        """Run the remaining rounds of every epoch. `save()` writes a checkpoint at the end of each epoch but the
        last, every train.checkpoint_every seconds, and on a signal, before raising Interrupted (with
        train.sync_lag 1, after the round in flight; with frequency tiers, after the next sync of every row: at
        most one round later)."""
        every, last_save = self.config.train.checkpoint_every, time.monotonic()
        while self.epoch < self.config.train.epochs:
            self.epoch_seconds += self.run_round()
            bar.update(self.epoch * self.total_words + round(self.total_words * self.round / self.rounds) - bar.n)
            self.checkpoint_due |= every > 0 and time.monotonic() - last_save >= every
            if self.round == self.rounds:
                self.finish_epoch()
                if self.epoch == self.config.train.epochs:
                    return  # a stop asked for in the last round is honoured by saving the model
                self.checkpoint_due = True
            if self.draining and self.inflight is None and not tiers.carrying(self.config, self.round):
                save()
                last_save, self.checkpoint_due = time.monotonic(), False
                if self.stop_signal is not None:
                    raise Interrupted(self.stop_signal)


def train(paths, config, output, address, reporter=None, vocab=None, hooks=None, inputs=()):
    """What `w2v train --cluster ADDRESS` runs: count, encode and train on the cluster, save in `output`.

    Returns (vocab, word vectors, metrics dict), as `training.loop.train` does.
    """
    reporter, hooks = reporter or loop.Reporter(), hooks or loop.Hooks()
    connect.parse_address(address)
    loop._check_inputs(paths, config, output, hooks, inputs)
    with interrupts.SignalGuard() as guard, modeldir.locked(output, reporter.log), \
            connect.connect(address, reporter.log, connect.TRAINING) as client, _run_on(client) as run_id:
        started = time.perf_counter()
        vocab, warming = _vocabulary(client, paths, config, vocab, reporter.log, run_id)
        sent = _send_words(client, vocab)
        shards, block_bytes = make_shards(client, paths, config)
        weights = _soon(replica.initial_weights, vocab, config)  # drawn while the workers build the shards
        driver = Driver(client, vocab, config, shards, reporter, weights, seeded=True, words=sent, run_id=run_id)
        vectors, metrics = _run(driver, output, paths, block_bytes, hooks, guard, started)
    return _evaluate(driver, vectors, metrics, output, hooks)


def continue_training(paths, config, output, address, start, reporter=None, hooks=None, inputs=()):
    """What `w2v train --init MODEL --cluster ADDRESS` runs: train `start` (a `training.continuation.Start`)
    further on `paths`, as `training.continuation.continue_training` does on this machine."""
    reporter, hooks = reporter or loop.Reporter(), hooks or loop.Hooks()
    continuation.check_config(start, config)
    connect.parse_address(address)
    loop._check_inputs(paths, config, output, hooks, inputs)
    with interrupts.SignalGuard() as guard, modeldir.locked(output, reporter.log), \
            connect.connect(address, reporter.log, connect.TRAINING) as client, _run_on(client) as run_id:
        started = time.perf_counter()
        words, counts, table, warming = _count(client, paths, config, run_id)
        if cluster_vocab.pruning_note(table):
            reporter.log(cluster_vocab.pruning_note(table))
        vocab, _, moved = vocab_mod.extend(start.vocab, words, counts, config.vocab.min_count)
        reporter.log(f"vocabulary: {len(start.vocab)} words, {len(vocab) - len(start.vocab)} new")
        sent = _send_words(client, vocab)
        shards, block_bytes = make_shards(client, paths, config)
        weights = continuation.grow_weights(start, moved, len(vocab), config)
        driver = Driver(client, vocab, config, shards, reporter, weights, seeded=False, words=sent, run_id=run_id)
        vectors, metrics = _run(driver, output, paths, block_bytes, hooks, guard, started)
    return _evaluate(driver, vectors, metrics, output, hooks)


def resume(output, paths, address, reporter=None, hooks=None):
    """What `w2v train --resume OUTPUT --cluster ADDRESS` runs: continue the cluster run checkpointed in `output`."""
    reporter, hooks = reporter or loop.Reporter(), hooks or loop.Hooks()
    connect.parse_address(address)
    with interrupts.SignalGuard() as guard, modeldir.locked(output, reporter.log):
        arrays, meta = checkpoints.load(output)
        config = config_mod.from_dict(meta["config"])
        paths = list(paths) if paths else meta["paths"]
        loop._check_inputs(paths, config, output, hooks, ())
        vocab = vocab_mod.Vocab(meta["words"], arrays["counts"])
        with connect.connect(address, reporter.log, connect.TRAINING) as client, _run_on(client) as run_id:
            started = time.perf_counter()
            sent = _send_words(client, vocab)  # before the kernel's load: a worker loading it answers no transfer
            warming = replica.warm_up(client, config)
            shards, block_bytes = make_shards(client, paths, config, checkpoints.layout(arrays, meta))
            weights = checkpoints.pending(arrays)[1]  # the replicas start from the weights before the last merge
            driver = Driver(client, vocab, config, shards, reporter, weights, seeded=False, words=sent, run_id=run_id)
            vectors, metrics = _run(driver, output, paths, block_bytes, hooks, guard, started, (arrays, meta))
            del warming  # held until training ended: a dropped future is cancelled
    return _evaluate(driver, vectors, metrics, output, hooks)


def _soon(function, *args):
    """`function(*args)` run in a thread of its own: its Future."""
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="w2v-soon")
    future = pool.submit(function, *args)
    pool.shutdown(wait=False)  # the thread ends once the call is done
    return future


def _run(driver, output, paths, block_bytes, hooks, guard, started, resumed=None):
    """Build the shards, train (checkpointing), save the model and drop the checkpoint; (word vectors, metrics)."""
    reporter, client = driver.reporter, driver.client
    driver.on_round, driver.before_round = hooks.on_round, hooks.before_round
    with faults.Watch(client) as watch, driver.merging:  # the merge thread ends with the run
        driver.placement.watch = watch
        summaries = driver.start()
        corpus_digest = checkpoints.digest([summary[1] for summary in summaries])
        corpus_mod.warn_bad_bytes(sum(summary[3] for summary in summaries), reporter.log)
        if resumed is not None:
            checkpoints.restore(driver, *resumed, corpus_digest, paths, output)
        raw = sum(summary[2] for summary in summaries)
        reporter.log(f"vocabulary: {len(driver.vocab)} words; corpus: {raw} tokens in {len(driver.shards)} shards "
                     f"on {len(driver.placement.replicas)} workers, {driver.rounds} rounds an epoch "
                     f"({time.perf_counter() - started:.1f}s)")
        if resumed is not None:
            reporter.log(f"resuming at epoch {driver.epoch + 1}, round {driver.round + 1} of {driver.rounds}")
        guard.phase = f"after training; the model is saved in {output}"
        with guard.deferred():
            _train(driver, output, paths, block_bytes, corpus_digest)
            return _save(driver, output, raw)


def _train(driver, output, paths, block_bytes, corpus_digest):
    writer = checkpoints.Writer(output, driver.reporter.log)

    def save():  # in the background, but for a stop: then the checkpoint is on disk before the driver exits
        writer.save(*checkpoints.snapshot(driver, paths, block_bytes, corpus_digest),
                    wait=driver.stop_signal is not None)

    epochs = driver.config.train.epochs
    bar = driver.reporter.bar(epochs * driver.total_words,
                              driver.epoch * driver.total_words + driver.total_words * driver.round // driver.rounds)
    try:
        with interrupts.StopOnSignals(driver):
            driver.train(bar, save)
        writer.join()  # before the model is saved and the checkpoint dropped
    except Interrupted as exc:
        raise exc.at(output, " --cluster ADDRESS") from None
    finally:
        bar.close()
        with contextlib.suppress(Exception):  # on the way out with an error already: the write ends first
            writer.join()


def _save(driver, output, raw):
    """Save the model as a local run does, and drop the checkpoint; (word vectors, metrics)."""
    config, vocab = driver.config, driver.vocab
    layout = subword_model.make_layout(vocab, config) if subword_model.enabled(config) else None
    tables = (layout.offsets, layout.rows, layout.overlap) if layout is not None else ()
    vectors = subword_model.word_vectors(tables, driver.w_in, config)
    metrics = {"epochs": driver.metrics, "vocab_size": len(vocab), "corpus_tokens": raw,
               "threads": len(driver.tallies), "workers": driver.workers,
               "shards": len(driver.shards), "shard_words": driver.shard_words, "sync_words": config.train.sync_words,
               "round_log": driver.round_log, "lost_workers": driver.placement.losses}
    modeldir.save_trained(output, vocab, vectors, config, metrics, w_out=driver.w_out,
                          **subword_model.model_arrays(config, vocab, driver.w_in, driver.w_out, raw, vectors, layout))
    checkpoint.remove_checkpoint(output)
    return vectors, metrics


def _evaluate(driver, vectors, metrics, output, hooks):
    if hooks.evaluate is not None:
        scores = hooks.evaluate(driver.config, driver.vocab, vectors)
        if scores:
            metrics.update(scores)
            modeldir.write_json(f"{output}/metrics.json", metrics)
    return driver.vocab, vectors, metrics
