"""Lost workers: where each shard lives, the watch on the workers, and moving a lost worker's shards elsewhere.

The driver knows everything needed to redo a lost worker's part: the weights at the start of
the round (its own copy), each shard's RNG states at the start of the round (returned every
round), and each shard's source blocks (the byte ranges of the corpus files). So when a worker
disappears, each of its shards is placed on the live worker holding the fewest shards: its
blocks are read and encoded there again from the source, a worker without a replica first gets
the driver's weights, and the round is run again for that shard. The merged update is then the
one the lost worker would have made: with one thread per shard, the run ends with the same
weights, to the bit, as a run without the fault. With train.sync_lag 1 the round sent ahead to
the lost worker is lost too: it runs again once the round before it is merged, and the driver
sends a moved shard its deltas of the last round and the weights before the last merge (a
replica past them rolls its last update back for that shard's round). With frequency tiers, a
shard moved in the round after a partial one first trains that partial round again (see
`tiers`). A round is a task, or a call on the worker's actor (`Call`): a call that cannot reach
its worker, or whose worker the watch sees gone, is a loss like a task's.
"""

import concurrent.futures
import contextlib
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..errors import W2VError
from . import blocks, replica

POLL_SECONDS = 0.1  # how often the watch asks the scheduler which workers are alive
CALL_POLL_SECONDS = 0.0005  # how often the driver looks whether a round's calls on the workers are done
WORKER_WAIT_SECONDS = 60.0  # how long to wait for a worker to (re)join when none is left
RETRIES = 3  # cancelled tasks run again on their own (live) worker per batch before the run gives up
GONE = ("cancelled", "error", "lost")  # statuses of a future whose result no task can wait for
SCATTER_SECONDS = 120  # longest a scatter may take before it is tried again (a target may die during it)


SCATTER_ERRORS = (OSError, TimeoutError, KeyError, ValueError)  # what scatter raises when its worker goes


class LostWorker(Exception):
    """Data could not be sent to a worker, again and again: it is lost."""


def scatter(client, value, workers):
    """One future of `value`, sent to one of `workers` (None: any); sent again if that worker goes meanwhile."""
    for attempt in range(RETRIES):
        try:
            return client.scatter([value], workers=workers() if callable(workers) else workers, hash=False,
                                  timeout=SCATTER_SECONDS)[0]
        except SCATTER_ERRORS as exc:
            if attempt == RETRIES - 1:
                raise LostWorker(f"could not send data to {workers}: {type(exc).__name__}: {exc}") from None
            time.sleep(2 * POLL_SECONDS)  # let the watch and the scheduler see the loss


class Scattered:
    """A value sent once to a worker for tasks to use, which the others fetch from it (or from each other) as
    they need it; sent again when every worker holding it was lost. Dask's broadcast is not used: it can hang
    when a target dies during it."""

    def __init__(self, client, value, workers):
        self.client, self.value, self.workers, self.future = client, value, workers, None

    def get(self):
        if self.future is None or self.future.status != "finished":
            self.future = scatter(self.client, self.value, lambda: self.workers() or None)
        return self.future


@dataclass
class Run:
    """What every task of a run needs: its id, vocabulary and config, and where the driver stands."""

    run_id: str
    vocab: object
    config: object
    words: Scattered  # the vocabulary's words, on every worker
    position: tuple = (0, 0)  # (epoch, round) being run, for the messages

    def encode(self, part):
        """The delayed ids of one byte block (see `replica.encode_block`), read there only if it was not counted
        there (`blocks.Lazy`)."""
        from dask import delayed

        corpus = self.config.corpus
        return delayed(replica.encode_block, pure=False)(blocks.Lazy(part), part.key, self.run_id, self.words.get(),
                                                         corpus.lowercase, corpus.max_sentence_length)


@dataclass
class Shard:
    """The driver's record of a shard: its blocks (delayed bytes), its threads, RNG states and worker."""

    index: int
    parts: list
    threads: int
    rngs: np.ndarray  # uint64 (threads, 1), as of the start of round number `rngs_at`
    worker: str = None
    rngs_at: int = 1  # the rounds of a run (or resumed run) are numbered from 1, as their merged updates
    previous_rngs: np.ndarray = None  # as of the start of the round before (see `driver.Driver._replay`)


class Watch:
    """Asks the scheduler which workers are alive, from a thread, and cancels the tasks of those that are not,
    so that nothing waits on a lost worker (a task pinned to a dead worker would wait forever)."""

    def __init__(self, client):
        self.client, self.tasks, self.lock = client, {}, threading.Lock()
        self.live, self.failures, self.done = set(client.nthreads()), 0, threading.Event()
        self.thread = threading.Thread(target=self._poll, name="w2v-watch", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def track(self, future, worker):
        with self.lock:
            self.tasks[future] = worker
        if worker not in self.live:
            future.cancel()

    def untrack(self, future):
        with self.lock:
            self.tasks.pop(future, None)

    def _poll(self):
        while not self.done.wait(POLL_SECONDS):
            try:
                self.live, self.failures = set(self.client.nthreads()), 0
            except Exception:  # the scheduler is unreachable: every tracked task is lost
                self.failures += 1
                self.live = set() if self.failures > 3 else self.live
            with self.lock:
                doomed = [future for future, worker in self.tasks.items() if worker not in self.live]
            for future in doomed:
                future.cancel()


class Call:
    """A call on a worker's `replica.Rounds` actor, as `Placement.collect` sees a task: done, result, cancel."""

    def __init__(self, pending):
        self.pending, self.cancelled = pending, False

    def done(self):
        return self.cancelled or self.pending.done()

    def cancel(self):  # by the watch, its worker gone: the call itself may never end
        self.cancelled = True

    def result(self):
        if self.cancelled:
            raise concurrent.futures.CancelledError()
        try:
            return self.pending.result()
        except OSError as exc:  # the worker could not be reached (a round itself reads and writes no file)
            raise LostWorker(f"{type(exc).__name__}: {exc}") from None


def _wait_any(pending):
    """Until one of `pending` (Dask futures or `Call`s) is done."""
    from distributed import Future, wait

    if all(isinstance(future, Future) for future in pending):
        with contextlib.suppress(concurrent.futures.CancelledError):  # the watch cancelled a lost worker's task
            wait(list(pending), return_when="FIRST_COMPLETED")
        return
    while not any(future.done() for future in pending):
        time.sleep(CALL_POLL_SECONDS)


def is_loss(exc):
    """True for the errors of a lost worker (the task's own errors are re-raised instead)."""
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    return isinstance(exc, (concurrent.futures.CancelledError, KilledWorker, CommClosedError, LostWorker,
                            replica.MissingReplica))


class Placement:
    """Which worker holds each shard, and the tasks that build a shard on a worker.

    `weights()` returns None while every replica may start from the seeded weights, else the
    driver's (w_in, w_out, updates applied) for a worker that must be sent them.
    """

    def __init__(self, client, run, shards, weights, log):
        self.client, self.run, self.shards, self.weights, self.log = client, run, shards, weights, log
        self.replicas = set()  # workers known to hold a replica of the run (a task of theirs succeeded)
        self.watch = None
        self.losses = []  # one record per lost worker, for metrics.json
        self.gone = set()  # workers found lost, before the scheduler may have dropped them (a failed call)
        self.moves = 0  # shards moved off lost workers so far

    def by_worker(self):
        """{worker: [shard indexes]}, in shard order."""
        held = {}
        for shard in self.shards:
            held.setdefault(shard.worker, []).append(shard.index)
        return held

    def place(self, worker, indexes):
        """Tasks on `worker` that build shards `indexes` there; the future of their summaries."""
        run, client = self.run, self.client
        started = None
        if worker not in self.replicas:  # a replica there may be on its way, or gone: `start` keeps a current one
            state = self.weights()
            weights = None if state is None else scatter(client, state[:2], [worker])
            started = client.submit(replica.start, run.run_id, run.words.get(), run.vocab.counts, run.config, weights,
                                    0 if state is None else state[2], workers=[worker], pure=False)
        encoded = [client.compute([run.encode(part) for part in self.shards[i].parts], workers=[worker])
                   for i in indexes]
        for i in indexes:
            self.shards[i].worker = worker
        return client.submit(replica.add_shards, run.run_id, indexes, encoded,
                             [self.shards[i].rngs for i in indexes], started, workers=[worker], pure=False)

    def rebalance(self):
        """Move shards to live workers that hold none (they joined since, as a restarted worker does), one from
        the worker holding the most while it holds two or more; the set of shards moved, to be placed."""
        from distributed import fire_and_forget

        held, moved = self.by_worker(), set()
        for worker in sorted(self.watch.live - set(held) - self.gone):
            busiest = max(held, key=lambda w: (len(held[w]), w))
            if len(held[busiest]) < 2:
                break
            index = held[busiest].pop()
            held[worker] = [index]
            self.shards[index].worker = worker
            moved.add(index)
            fire_and_forget(self.client.submit(replica.drop_shard, self.run.run_id, index, workers=[busiest],
                                               pure=False))
            self.log(f"worker {worker} is idle: shard {index} moves to it from {busiest}, its blocks read from the "
                     "source")
        return moved

    def run_tasks(self, make_task, place=False, sent=None):
        """Run `make_task(worker, indexes, ready)` for each worker's shards; {shard index: result}.

        `ready` is the future of the shards' placement on the worker (see `place`), made first
        for every shard when `place` is True, for those in it when it is a set, else None.
        `sent()` is called once every task is on its way. The shards of a worker lost on the way
        are placed elsewhere and their task made again there.
        """
        return self.collect(self.send(make_task, place, sent))

    def send(self, make_task, place=False, sent=None):
        """The first half of `run_tasks`: the tasks sent, as the `pending` that `collect` waits for."""
        pending = {}
        placing = set(range(len(self.shards))) if place is True else set(place or ())
        for worker, indexes in self.by_worker().items():
            for group, placed in (([i for i in indexes if i not in placing], False),
                                  ([i for i in indexes if i in placing], True)):
                if group:
                    self._submit(pending, make_task, worker, group, placed)
        if sent is not None:
            sent()
        return pending

    def collect(self, pending):
        """The second half of `run_tasks`: wait for the tasks, run a lost one again; {shard index: result}."""
        results, self.retries = {}, 0
        while pending:
            _wait_any(pending)
            for future in [f for f in pending if f.done()]:
                task = pending.pop(future)
                try:
                    values = future.result()
                except Exception as exc:
                    if not is_loss(exc):
                        raise
                    self._retry(pending, task, exc)
                    continue
                finally:
                    self.watch.untrack(future)
                results.update(zip(task[1], values))
                self.replicas.add(task[0])
        return results

    def _submit(self, pending, make_task, worker, indexes, place):
        try:
            future = make_task(worker, indexes, self.place(worker, indexes) if place else None)
        except Exception as exc:  # the worker went while the weights were being sent to it
            if not is_loss(exc):
                raise
            self._move(pending, make_task, worker, indexes)
            return
        pending[future] = (worker, indexes, place, make_task)
        self.watch.track(future, worker)

    def _retry(self, pending, task, exc):
        """Run a lost task again: on its worker if that is alive and holds its replica (a task it depended on
        was lost elsewhere), else on others (see `_move`). Either way the shards start from the driver's state."""
        worker, indexes, placed, make_task = task
        if worker not in self.watch.live or isinstance(exc, (replica.MissingReplica, LostWorker)):
            self._move(pending, make_task, worker, indexes)
            return
        self.retries += 1
        if self.retries > RETRIES * len(self.shards):
            raise W2VError(f"the tasks of worker {worker} were cancelled {self.retries} times, though it is alive "
                           f"({type(exc).__name__}: {exc}); resume from the last checkpoint with --resume")
        self._submit(pending, make_task, worker, indexes, placed)

    def _move(self, pending, make_task, lost, indexes):
        """Place shards `indexes` of the lost worker `lost` elsewhere and make their task again. A shard that
        moved already (its later round was sent to the lost worker before the loss was seen) stays where it went."""
        self.replicas.discard(lost)
        self.gone.add(lost)
        self.moves += 1
        epoch, index = self.run.position
        for shard in indexes:
            there = self.shards[shard].worker
            if there != lost and there in self.watch.live and there in self.replicas:
                self._submit(pending, make_task, there, [shard], False)
                continue
            target = self._choose(lost)
            self.log(f"lost worker {lost} in epoch {epoch + 1}, round {index + 1}: its shard {shard} moves to "
                     f"{target}, its blocks are read again from the source and its round is run again")
            self.losses.append({"worker": lost, "epoch": epoch + 1, "round": index + 1, "shard": shard,
                                "moved_to": target})
            self._submit(pending, make_task, target, [shard], True)

    def _choose(self, lost):
        """The live worker holding the fewest shards (a replica holder first, to spare sending the weights)."""
        deadline = time.monotonic() + WORKER_WAIT_SECONDS
        while True:
            if self.watch.failures > 3:
                raise W2VError("lost the connection to the Dask scheduler; start it and its workers again, then "
                               "resume from the last checkpoint with: w2v train --resume OUTPUT --cluster ADDRESS")
            live = sorted(self.watch.live - {lost} - self.gone)
            if live:
                held = self.by_worker()
                return min(live, key=lambda w: (len(held.get(w, [])), w not in self.replicas, w))
            if time.monotonic() > deadline:
                raise W2VError(f"every worker of the cluster was lost (the last, {lost}, in epoch "
                               f"{self.run.position[0] + 1}); start workers again and resume from the last "
                               "checkpoint with: w2v train --resume OUTPUT --cluster ADDRESS")
            time.sleep(POLL_SECONDS)
