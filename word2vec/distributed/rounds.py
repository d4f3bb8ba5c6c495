"""The driver of a cluster run: count, encode on the workers, train in synchronous rounds of summed deltas, save.

A round is `train.sync_words` words over all workers: each trains its share of them (its share
of the epoch, cut into the same number of rounds on every worker), then sends the rows it
changed as (row ids, deltas). The driver adds up each row's deltas, as the updates of a local
run's Hogwild threads add up, capped at twice their mean (see `merge`), and every replica, the
driver's own included, applies the result.

Averaging instead (Spark's fix for the divergence of SPARK-24666) divides the learning rate of
every row that k workers touch by k: on the text8 prefix with 2 workers it cost 3 to 4 analogy
points and 0.1 of WS-353 and MEN. Uncapped sums diverged with 8 workers. A round is counted over
the whole cluster so that the replicas drift apart by the same number of words however many
workers there are. scripts/bench_cluster.py measures all of it.
"""

import math
import time
import uuid

import numpy as np

from ..errors import DataError, DivergenceError
from ..store import modeldir
from ..text import corpus as corpus_mod
from ..text import vocab as vocab_mod
from ..training import loop
from . import blocks as blocks_mod
from . import connect, replica
from . import vocab as cluster_vocab



MAX_SUMMED = 2  # a row moves at most this many times its mean delta: the stability limit (see merge)


def merge(parts):
    """The merged update of one matrix: (unique rows int32, deltas float32), each row's deltas added up
    over the workers that sent it, but at most MAX_SUMMED times their mean.

    A row few workers touch learns as in a local run, where the threads' updates add up. A row
    that k workers all pull to the same point in a round (a frequent word, saturated) would move
    k times too far if summed, and x ← x + f (t − x) stays stable only for f < 2: summed deltas
    from 8 workers diverged. Each part lists a row at most once, so adding the parts in turn into
    the union of their rows sums them without sorting the deltas.
    """
    rows = np.unique(np.concatenate([p[0] for p in parts])).astype(np.int32)
    total = np.zeros((len(rows), parts[0][1].shape[1]), np.float32)
    touched = np.zeros(len(rows), np.float32)
    for part_rows, deltas in parts:
        where = np.searchsorted(rows, part_rows)
        total[where] += deltas
        touched[where] += 1.0
    crowded = touched > MAX_SUMMED
    total[crowded] *= (MAX_SUMMED / touched[crowded])[:, None]
    return rows, total


def _vocabulary(client, paths, config, vocab, log):
    if vocab is not None:
        return vocab
    words, counts, table = cluster_vocab.count_words(client, paths, config.corpus.lowercase)
    note = cluster_vocab.pruning_note(table)
    if note:
        log(note)
    vocab, _ = vocab_mod.build(words, counts, config.vocab.min_count, config.vocab.max_size)
    return vocab


def _start_replicas(client, paths, config, vocab, run_id, log):
    """Encode every block on its worker and build the replicas; [(worker address, words per epoch)], tokens."""
    from dask import delayed

    urls = blocks_mod.expand(paths)
    parts = blocks_mod.read_blocks(urls, blocks_mod.block_bytes_for(client, urls))
    workers = connect.workers(client)
    # one future (a bare list scatters word by word); no broadcast=True, which hangs with 8 workers
    words = client.scatter([vocab.words], hash=False)[0]
    encoded = [client.compute(delayed(replica.encode_block, pure=False)(
        part, run_id, words, config.corpus.lowercase, config.corpus.max_sentence_length),
        workers=[workers[i % len(workers)][0]]) for i, part in enumerate(parts)]
    started = [client.submit(replica.start, run_id, vocab.words, vocab.counts, config,
                             encoded[i::len(workers)], i, threads, workers=[address], pure=False)
               for i, (address, threads) in enumerate(workers)]
    sizes = client.gather(started)
    raw = sum(client.gather(client.map(lambda part: part[2], encoded)))
    bad = sum(client.gather(client.map(lambda part: part[3], encoded)))
    corpus_mod.warn_bad_bytes(bad, log)
    if not sum(sizes):
        raise DataError("no token of the corpus is in the vocabulary")
    return [(address, size) for (address, _), size in zip(workers, sizes)], raw


class Driver:
    """The driver's copy of the weights and the round loop."""

    def __init__(self, client, config, vocab, run_id, shares, reporter):
        self.client, self.config, self.vocab, self.run_id = client, config, vocab, run_id
        self.shares, self.reporter = shares, reporter
        self.w_in, self.w_out = loop.init_weights(len(vocab), config)
        self.total_words = sum(size for _, size in shares)
        self.rounds = max(1, math.ceil(self.total_words / config.train.sync_words))
        self.update, self.metrics = None, []

    def alpha(self, epoch, done):
        """The learning rate `done` (0..1) of the way through `epoch`, on train.alpha_schedule as a local run."""
        cfg = self.config.train
        share = 0.5 if cfg.alpha_schedule == "sawtooth" else 1.0
        progress = (epoch + share * done) / cfg.epochs
        return cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(progress, 1.0)

    def run_round(self, epoch, index):
        """One synchronous round; (tallies (3,), bytes sent, compute seconds, sync seconds)."""
        alphas = (self.alpha(epoch, index / self.rounds), self.alpha(epoch, (index + 1) / self.rounds))
        started = time.perf_counter()
        futures = [self.client.submit(replica.train_round, self.run_id, self._send(address), epoch, index,
                                      self.rounds, alphas, workers=[address], pure=False) for address, _ in self.shares]
        results = self.client.gather(futures)
        computed = time.perf_counter()
        self.update = tuple(merge([result[0][m] for result in results]) for m in (0, 1))
        for weights, (rows, deltas) in zip((self.w_in, self.w_out), self.update):
            weights[rows] += deltas
        sent = sum(r[0][m][0].nbytes + r[0][m][1].nbytes for r in results for m in (0, 1))
        sent += len(self.shares) * sum(rows.nbytes + deltas.nbytes for rows, deltas in self.update)
        tallies = np.sum([result[1] for result in results], axis=0)
        return tallies, sent, computed - started, time.perf_counter() - computed

    def _send(self, address):
        """The last merged update, placed on the worker at `address` (scatter's broadcast=True hangs with 8
        workers: the scheduler's replication and its memory manager undo each other)."""
        if self.update is None:
            return None
        return self.client.scatter([self.update], workers=[address], hash=False)[0]

    def train_epoch(self, epoch, bar):
        started, tallies, sent, compute, sync = time.perf_counter(), np.zeros(3), 0, 0.0, 0.0
        for index in range(self.rounds):
            round_tallies, round_bytes, round_compute, round_sync = self.run_round(epoch, index)
            tallies += round_tallies
            sent, compute, sync = sent + round_bytes, compute + round_compute, sync + round_sync
            bar.update(epoch * self.total_words + round(self.total_words * (index + 1) / self.rounds) - bar.n)
        seconds = time.perf_counter() - started
        loss = tallies[0] / max(tallies[1], 1)
        if not np.isfinite(loss) or not np.isfinite(self.w_in[:: max(1, len(self.w_in) // 256)]).all():
            raise DivergenceError(f"training diverged in epoch {epoch + 1} (mean loss {loss}); "
                                  f"try a lower train.alpha (now {self.config.train.alpha})")
        record = {"epoch": epoch + 1, "loss": float(loss), "predictions": int(tallies[1]), "words": int(tallies[2]),
                  "seconds": round(seconds, 4), "words_per_sec": round(float(tallies[2]) / max(seconds, 1e-9), 1),
                  "rounds": self.rounds, "bytes_per_round": int(sent / self.rounds),
                  "compute_seconds": round(compute, 4), "sync_seconds": round(sync, 4)}
        self.metrics.append(record)
        if self.reporter.on_epoch is not None:
            self.reporter.on_epoch(record, self.config.train.epochs, sum(r["seconds"] for r in self.metrics))


def train(paths, config, output, address, reporter=None, vocab=None, hooks=None, inputs=()):
    """What `w2v train --cluster ADDRESS` runs: count, encode and train on the cluster, save in `output`.

    Returns (vocab, input vectors, metrics dict), as `training.loop.train` does.
    """
    reporter, hooks = reporter or loop.Reporter(), hooks or loop.Hooks()
    if config.model.maxn > 0:
        raise DataError("--cluster does not train subword models yet (model.maxn > 0); "
                        "train them without --cluster, or set model.maxn=0")
    connect.parse_address(address)
    loop._check_inputs(paths, config, output, hooks, inputs)
    run_id = uuid.uuid4().hex
    with modeldir.locked(output, reporter.log), connect.connect(address, reporter.log) as client:
        started = time.perf_counter()
        vocab = _vocabulary(client, paths, config, vocab, reporter.log)
        shares, raw = _start_replicas(client, paths, config, vocab, run_id, reporter.log)
        driver = Driver(client, config, vocab, run_id, shares, reporter)
        reporter.log(f"vocabulary: {len(vocab)} words; corpus: {raw} tokens on {len(shares)} workers, "
                     f"{driver.rounds} rounds an epoch ({time.perf_counter() - started:.1f}s)")
        bar = reporter.bar(config.train.epochs * driver.total_words, 0)
        try:
            for epoch in range(config.train.epochs):
                driver.train_epoch(epoch, bar)
        finally:
            bar.close()
            client.run(replica.stop, run_id)
        metrics = {"epochs": driver.metrics, "vocab_size": len(vocab), "corpus_tokens": raw,
                   "threads": sum(threads for _, threads in connect.workers(client)), "workers": len(shares)}
        modeldir.save_trained(output, vocab, driver.w_in, config, metrics, w_out=driver.w_out)
    if hooks.evaluate is not None:
        scores = hooks.evaluate(config, vocab, driver.w_in)
        if scores:
            metrics.update(scores)
            modeldir.write_json(f"{output}/metrics.json", metrics)
    return vocab, driver.w_in, metrics
