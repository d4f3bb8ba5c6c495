"""The driver's round loop of a cluster run: its copy of the weights, the shards, and the synchronous rounds of
summed deltas (what runs it: `rounds`).

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
import math
import time

import numpy as np

from ..errors import DataError, DivergenceError, Interrupted
from . import connect, faults, replica, tiers
from .deltas import apply, merge, warm_up as load_merge


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
        self.direct, self.actors, self.handles = not self.lag, {}, {}  # {worker: future}, {worker: (future, Actor)}
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
            made = self._actor(worker)
            held = self.handles.get(worker)
            if held is None or held[0] is not made:  # its handle, once: a future's result() is a round trip
                held = self.handles[worker] = (made, made.result())  # to the scheduler and the worker
            actor = held[1]
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
