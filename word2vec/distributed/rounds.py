"""What `w2v train --cluster` runs: count the words on the workers, build the shards there, train them in
synchronous rounds (`driver.Driver`), checkpoint, save; also `--init` and `--resume` on a cluster.
scripts/bench_cluster.py measures it all.
"""

import concurrent.futures
import contextlib
import time
import uuid

import numpy as np

from .. import config as config_mod
from ..errors import Interrupted
from ..store import modeldir
from ..text import corpus as corpus_mod
from ..text import vocab as vocab_mod
from ..training import checkpoint, continuation, interrupts, loop, subword_model
from . import blocks as blocks_mod
from . import checkpoints, connect, faults, memory, replica
from . import vocab as cluster_vocab
from .driver import Driver


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
