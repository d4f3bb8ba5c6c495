"""The training loop: read and encode the corpus, run the kernels on threads, save the model."""

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from . import config as config_mod
from . import corpus, kernels
from . import vocab as vocab_mod
from .errors import DataError, DivergenceError
from .fileio import atomic_write

JOB_WORDS = 10_000  # words per kernel call: small enough to balance threads, large enough to amortize the call


@dataclass
class Corpus:
    """The corpus encoded as vocabulary ids. ids int32 (N,); ends int64 (S,) sentence ends."""

    vocab: vocab_mod.Vocab
    ids: np.ndarray
    ends: np.ndarray
    raw_tokens: int
    bad_bytes: int = 0


@dataclass
class Reporter:
    """Where the loop reports: a progress bar factory and a line logger (both stderr)."""

    progress: bool = False
    log: callable = field(default=lambda message: print(message, file=sys.stderr))


def read_corpus(paths, config, workdir, vocab=None):
    """Scan `paths` once, choose the vocabulary (or use `vocab`) and encode the tokens."""
    scan = corpus.scan(paths, workdir, config.corpus.lowercase, config.corpus.max_sentence_length)
    if vocab is None:
        vocab, remap = vocab_mod.build(scan.words, scan.counts, config.vocab.min_count, config.vocab.max_size)
    else:
        remap = np.array([vocab.index.get(word, -1) for word in scan.words], dtype=np.int32)
    if scan.n_tokens == 0:
        raise DataError("the corpus is empty: no tokens were found")
    ids, ends = corpus.encode(scan, remap, workdir)
    if len(ids) == 0:
        raise DataError("no token of the corpus is in the vocabulary")
    os.unlink(scan.id_path)
    return Corpus(vocab, ids, ends, scan.n_tokens, scan.bad_bytes)


def init_weights(n_words, config):
    """Input vectors uniform in [-0.5/d, 0.5/d) and zero output vectors, as the C tool does."""
    dim = config.model.vector_size
    rng = np.random.default_rng(config.train.seed)
    w_in = ((rng.random((n_words, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    n_out = max(n_words - 1, 1) if config.model.loss == "hs" else n_words
    w_out = np.zeros((n_out, dim), dtype=np.float32)
    return w_in, w_out


def make_tables(vocab, config):
    """The kernels' lookup tables (see `kernels` for the layout)."""
    keep = vocab_mod.keep_probabilities(vocab.counts, config.vocab.sample)
    threshold, alias = vocab_mod.alias_table(vocab_mod.noise_distribution(vocab.counts, config.model.ns_exponent))
    if config.model.loss == "hs":
        tree = vocab_mod.huffman_tree(vocab.counts)
        points, codes, lengths = tree.points, tree.codes, tree.lengths
    else:
        points, codes, lengths = np.zeros((1, 1), np.int32), np.zeros((1, 1), np.uint8), np.zeros(1, np.int32)
    return (keep, threshold, alias, points, codes, lengths)


def make_jobs(ends, job_words=JOB_WORDS):
    """Split sentences into jobs of about `job_words` words: int64 (J, 3) rows of (lo, hi, words before)."""
    jobs, lo, start = [], 0, 0
    for s in range(len(ends)):
        if ends[s] - start >= job_words or s == len(ends) - 1:
            jobs.append((lo, s + 1, start))
            lo, start = s + 1, int(ends[s])
    return np.array(jobs, dtype=np.int64).reshape(-1, 3)


def thread_seed(seed, thread):
    """The RNG state of one thread, derived from the run's seed."""
    return np.array([kernels.seed_state((seed << 16) + thread)], dtype=np.uint64)


@dataclass
class State:
    """Everything that changes during training (weights, RNG states, position, tallies)."""

    w_in: np.ndarray
    w_out: np.ndarray
    rngs: list
    epoch: int = 0
    job: int = 0
    tallies: np.ndarray = None
    metrics: list = field(default_factory=list)


class Trainer:
    """Runs the epochs of one training run over an encoded corpus."""

    def __init__(self, data, config, reporter=None):
        self.data, self.config = data, config
        self.reporter = reporter or Reporter()
        self.threads = config_mod.effective_threads(config)
        self.kernel = kernels.KERNELS[(config.model.arch, config.model.loss)]
        self.tables = make_tables(data.vocab, config)
        self.jobs = make_jobs(data.ends)
        self.total_words = int(data.ends[-1])

    def new_state(self):
        w_in, w_out = init_weights(len(self.data.vocab), self.config)
        rngs = [thread_seed(self.config.train.seed, t) for t in range(self.threads)]
        return State(w_in, w_out, rngs, tallies=np.zeros((self.threads, 3)))

    def alpha_at(self, epoch, words_before):
        """Learning rate at a point of the run: linear from alpha to min_alpha over all words of all epochs."""
        cfg = self.config.train
        progress = (epoch * self.total_words + words_before) / (cfg.epochs * self.total_words)
        return cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(progress, 1.0)

    def params(self, epoch, job):
        lo, hi, before = self.jobs[job]
        after = self.data.ends[hi - 1]
        m = self.config.model
        return (m.window, m.negative, self.alpha_at(epoch, before), self.alpha_at(epoch, after), m.cbow_mean)

    def run_job(self, state, job, thread):
        lo, hi, _ = self.jobs[job]
        self.kernel(state.w_in, state.w_out, self.data.ids, self.data.ends, lo, hi,
                    self.tables, self.params(state.epoch, job), state.rngs[thread], state.tallies[thread])

    def warm_up(self, state):
        """Compile (or load from cache) the kernel before the clock starts."""
        if not _kernel_cached(self.kernel):
            self.reporter.log("compiling the training kernel (first run only, about a minute)…")
        scratch = (state.w_in.copy(), state.w_out.copy(), state.rngs[0].copy(), np.zeros(3))
        self.kernel(scratch[0], scratch[1], self.data.ids, self.data.ends, 0, 0, self.tables,
                    self.params(0, 0), scratch[2], scratch[3])

    def train(self, state=None, on_job=None):
        """Run all remaining epochs; returns the final State."""
        state = state or self.new_state()
        self.warm_up(state)
        bar = self._progress_bar(state)
        try:
            while state.epoch < self.config.train.epochs:
                started = time.perf_counter()
                self._run_epoch(state, bar, on_job)
                self._finish_epoch(state, time.perf_counter() - started, bar)
        finally:
            bar.close()
        return state

    def _run_epoch(self, state, bar, on_job):
        lock = threading.Lock()
        errors = []

        def worker(thread):
            try:
                while True:
                    with lock:
                        job = state.job
                        if job >= len(self.jobs) or errors:
                            return
                        state.job += 1
                    self.run_job(state, job, thread)
            except BaseException as exc:  # surfaced in the main thread
                errors.append(exc)

        if self.threads == 1:
            self._run_serial(state, bar, on_job)
            return
        workers = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(self.threads)]
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers):
            workers[0].join(0.2)
            self._update_bar(state, bar)
        if errors:
            raise errors[0]

    def _run_serial(self, state, bar, on_job):
        last = time.perf_counter()
        while state.job < len(self.jobs):
            self.run_job(state, state.job, 0)
            state.job += 1
            if on_job is not None:
                on_job(state)
            if time.perf_counter() - last > 0.2:
                self._update_bar(state, bar)
                last = time.perf_counter()

    def _finish_epoch(self, state, seconds, bar):
        loss_sum, predictions, words = state.tallies.sum(axis=0)
        mean_loss = loss_sum / max(predictions, 1)
        if not np.isfinite(mean_loss) or not np.isfinite(state.w_in[:: max(1, len(state.w_in) // 64)]).all():
            raise DivergenceError(
                f"training diverged in epoch {state.epoch + 1} (loss is {mean_loss}); "
                f"try a lower train.alpha (now {self.config.train.alpha})"
            )
        state.metrics.append({
            "epoch": state.epoch + 1, "loss": float(mean_loss), "predictions": int(predictions),
            "words": int(words), "seconds": round(seconds, 4), "words_per_sec": round(words / max(seconds, 1e-9), 1),
        })
        self._update_bar(state, bar)
        state.tallies[:] = 0.0
        state.epoch += 1
        state.job = 0

    def _progress_bar(self, state):
        from tqdm import tqdm

        return tqdm(total=self.config.train.epochs * self.total_words, initial=state.epoch * self.total_words,
                    unit="w", unit_scale=True, disable=not self.reporter.progress, file=sys.stderr,
                    desc="training", dynamic_ncols=True, smoothing=0.1)

    def _update_bar(self, state, bar):
        loss_sum, predictions, words = state.tallies.sum(axis=0)
        done = state.epoch * self.total_words + int(words)
        bar.update(done - bar.n)
        loss = loss_sum / predictions if predictions else float("nan")
        bar.set_postfix_str(f"epoch {min(state.epoch + 1, self.config.train.epochs)}/{self.config.train.epochs}, "
                            f"alpha {self.alpha_at(state.epoch, int(words)):.5f}, loss {loss:.4f}", refresh=False)


def _kernel_cached(kernel):
    """True when the kernel is compiled in this process or in numba's on-disk cache."""
    if kernel.signatures:
        return True
    try:
        return os.path.exists(kernel._cache._cache_file._index_path)
    except AttributeError:
        return True


def save_model(folder, vocab, w_in, config, metrics):
    from . import formats

    """Write the model directory; every file atomically, the vectors first."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create output directory {folder}: {exc.strerror or exc}") from None
    formats.save_npy(os.path.join(folder, "vectors.npy"), w_in)
    formats.write_vocab(os.path.join(folder, "vocab.tsv"), vocab.words, vocab.counts)
    if "word2vec-bin" in config.output.formats:
        formats.write_word2vec(os.path.join(folder, "vectors.bin"), vocab.words, w_in, binary=True)
    if "word2vec-txt" in config.output.formats:
        formats.write_word2vec(os.path.join(folder, "vectors.txt"), vocab.words, w_in, binary=False)
    with atomic_write(os.path.join(folder, "config.yaml"), "w") as handle:
        handle.write(config_mod.to_yaml(config))
    write_metrics(folder, metrics)


def write_metrics(folder, metrics):
    with atomic_write(os.path.join(folder, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
        handle.write("\n")


def train(paths, config, output, reporter=None, vocab=None):
    """What `w2v train` runs: read, train, save. Returns (vocab, input vectors, metrics dict)."""
    reporter = reporter or Reporter()
    if "npy" not in config.output.formats:
        pass  # vectors.npy is always written: the model directory is read through it
    with corpus.make_workdir() as workdir:
        started = time.perf_counter()
        data = read_corpus(paths, config, workdir, vocab)
        corpus.warn_bad_bytes(data.bad_bytes, reporter.log)
        reporter.log(f"vocabulary: {len(data.vocab)} words; corpus: {data.raw_tokens} tokens, "
                     f"{len(data.ids)} in vocabulary ({time.perf_counter() - started:.1f}s)")
        trainer = Trainer(data, config, reporter)
        state = trainer.train()
        metrics = {"epochs": state.metrics, "vocab_size": len(data.vocab), "corpus_tokens": data.raw_tokens}
        save_model(output, data.vocab, state.w_in, config, metrics)
    return data.vocab, state.w_in, metrics
