"""The training loop: run the kernels on threads over the encoded corpus (`encoded`), save the model."""

import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .. import config as config_mod
from ..errors import DataError, DivergenceError, Interrupted, W2VError
from ..store import modeldir
from ..text import corpus
from ..text import vocab as vocab_mod
from . import checkpoint, interrupts, merge, padding, pages, subword_model
from .encoded import Corpus, load_vocab, read_corpus, read_while_loading  # noqa: F401 (re-exported for api, cli, tests)
from .jobs import job_layout, make_jobs
from .reporting import Reporter


def init_weights(n_words, config):
    """Input vectors uniform in [-1/d, 1/d) and zero output vectors, as gensim does.

    Twice the C tool's range: the larger start breaks the symmetry of the zero output
    vectors sooner, and scores better on every benchmark (docs/ablation.md).
    """
    dim = config.model.vector_size
    rng = np.random.default_rng(config.train.seed)
    n_out = max(n_words - 1, 1) if config.model.loss == "hs" else n_words
    try:
        w_in = padding.zeros(n_words, dim)
        w_in[...] = (rng.random((n_words, dim), dtype=np.float32) * 2.0 - 1.0) / dim
        w_out = padding.zeros(n_out, dim)
    except (MemoryError, ValueError):
        gib = (n_words + n_out) * dim * 4 / 2**30
        raise DataError(f"{n_words} words of {dim} dimensions need {gib:.3g} GiB for the weights, more than "
                        "memory can hold; lower model.vector_size or vocab.max_size") from None
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


def _compiled():
    """The kernel modules, imported on first use: they load numba, which `train` imports while
    the corpus is read (see `reader`)."""
    from . import kernel_ops, kernels

    return kernel_ops, kernels


def thread_seed(seed, thread):
    """The RNG state of one thread, derived from the run's seed."""
    return np.array([_compiled()[0].seed_state((seed << 16) + thread)], dtype=np.uint64)


@dataclass
class State:
    """Everything that changes during training: weights, RNG states, position, tallies, metrics."""

    w_in: np.ndarray
    w_out: np.ndarray
    rngs: np.ndarray  # uint64 (threads, 1)
    tallies: np.ndarray  # float64 (threads, 3): loss sum, predictions, words
    epoch: int = 0
    job: int = 0
    epoch_seconds: float = 0.0
    metrics: list = field(default_factory=list)


class Trainer:
    """Runs the epochs of one training run over an encoded corpus, on one or more threads."""

    subword_by_pair = False  # cluster replicas: skip-gram neg with subwords a step per pair (see subword_model)

    def __init__(self, data, config, reporter=None, threads=None):
        self.data, self.config = data, config
        self.reporter = reporter or Reporter()
        self.threads = threads or config_mod.effective_threads(config)
        self.kernel = _compiled()[1].KERNELS[(config.model.arch, config.model.loss)]
        self.tables = make_tables(data.vocab, config)
        self.layout = None  # fastText's model: subword kernels, and each word's rows in the compact matrix
        if subword_model.enabled(config):
            self.layout = subword_model.make_layout(data.vocab, config)
            self.kernel, self.tables = subword_model.kernel_and_tables(config, self.tables, self.layout,
                                                                       self.subword_by_pair)
        self.jobs = make_jobs(data.ends)
        self.total_words = int(data.ends[-1])
        self.order, self.starts = self.job_layout()
        self.stop_signal = None  # set by a signal handler; honoured at the next job boundary
        self.on_checkpoint = None  # callable(state), called every train.checkpoint_every seconds
        self.prior = None  # continued training: the merge.Prior averaged in after the last epoch

    def new_state(self):
        w_in, w_out = init_weights(len(self.data.vocab), self.config)
        if self.layout is not None:
            w_in = subword_model.init_input(self.layout, self.config)
        rngs = np.stack([thread_seed(self.config.train.seed, t) for t in range(self.threads)])
        return State(w_in, w_out, rngs, np.zeros((self.threads, 3)))

    def job_layout(self):
        """(order, starts) of the epoch's jobs: see `job_layout`."""
        return job_layout(self.jobs, self.total_words, self.config.train.alpha_schedule)

    def alpha_at(self, epoch, words_before):
        """Learning rate at a point of the run, falling from alpha towards min_alpha.

        linear: one straight line over all words of all epochs. sawtooth: epoch e starts
        where the straight line stands at e/epochs and falls half as fast through the epoch.
        halves: the same teeth, one for each half of the corpus, the two halves trained side
        by side (`job_layout`; `words_before` counts within the half). halves is what
        gensim's corpus_file training does with 2 workers; it scores best, for hs above all
        (docs/ablation.md).
        """
        cfg = self.config.train
        share = 0.5 if cfg.alpha_schedule == "sawtooth" else 1.0
        progress = (epoch + share * words_before / self.total_words) / cfg.epochs
        return cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(progress, 1.0)

    def params(self, epoch, job):
        lo, hi, before = self.jobs[job]
        start = self.starts[job]
        end = start + self.data.ends[hi - 1] - before
        m = self.config.model
        return (m.window, m.negative, self.alpha_at(epoch, start), self.alpha_at(epoch, end), m.cbow_mean)

    def run_job(self, state, job, thread):
        lo, hi, _ = self.jobs[job]
        self.kernel(padding.storage(state.w_in), padding.storage(state.w_out), self.data.ids, self.data.ends, lo, hi,
                    self.tables, self.params(state.epoch, job), state.rngs[thread], state.tallies[thread])

    def warm_up(self, state):
        """Compile (or load from cache) the kernel before the clock starts."""
        if not kernel_cached(self.kernel):
            model = self.config.model
            self.reporter.log(f"compiling the {model.arch}/{model.loss} training kernel, about 10 s "
                              "(once for each arch and loss; later runs load it from the cache)…")
        scratch = (state.w_in[:1].copy(), state.w_out[:1].copy(), state.rngs[0].copy(), np.zeros(3))
        self.kernel(scratch[0], scratch[1], self.data.ids, self.data.ends, 0, 0, self.tables,
                    self.params(0, 0), scratch[2], scratch[3])

    def train(self, state=None, on_job=None):
        """Run all remaining epochs and return the final State.

        Raises Interrupted after `stop_signal` is set (the state is then at a job boundary,
        and `on_checkpoint` has saved it).
        """
        state = state or self.new_state()
        self.warm_up(state)
        bar = self._progress_bar(state)
        last_checkpoint = time.monotonic()
        try:
            while state.epoch < self.config.train.epochs:
                started = time.perf_counter()
                done = self._run_segment(state, bar, on_job, last_checkpoint)
                state.epoch_seconds += time.perf_counter() - started
                if done:
                    self._finish_epoch(state, bar)
                    if self.stop_signal is None or state.epoch >= self.config.train.epochs:
                        continue  # a stop asked for in an epoch's last job is honoured at its end
                if self.on_checkpoint is not None:
                    self.on_checkpoint(state)
                last_checkpoint = time.monotonic()
                if self.stop_signal is not None:
                    raise Interrupted(self.stop_signal)
        finally:
            bar.close()
        return state

    def _halt_due(self, last_checkpoint):
        every = self.config.train.checkpoint_every
        due = every > 0 and self.on_checkpoint is not None and time.monotonic() - last_checkpoint >= every
        return due or self.stop_signal is not None

    def _run_segment(self, state, bar, on_job, last_checkpoint):
        """Train jobs of the current epoch until it ends (True) or a halt is due (False)."""
        if self.threads == 1:
            return self._run_serial(state, bar, on_job, last_checkpoint)
        lock, halt, errors = threading.Lock(), threading.Event(), []

        def worker(thread):
            try:
                while not halt.is_set():
                    with lock:
                        job = state.job
                        if job >= len(self.jobs):
                            return
                        state.job += 1
                    self.run_job(state, self.order[job], thread)
            except BaseException as exc:  # re-raised in the main thread
                errors.append(exc)
                halt.set()

        workers = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(self.threads)]
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers):
            workers[0].join(0.2)
            self._update_bar(state, bar)
            if self._halt_due(last_checkpoint):
                halt.set()
        for w in workers:
            w.join()
        if errors:
            raise errors[0]
        return state.job >= len(self.jobs)

    def _run_serial(self, state, bar, on_job, last_checkpoint):
        last_bar = time.monotonic()
        while state.job < len(self.jobs):
            self.run_job(state, self.order[state.job], 0)
            state.job += 1
            if on_job is not None:
                on_job(self, state)
            if time.monotonic() - last_bar > 0.2:
                self._update_bar(state, bar)
                last_bar = time.monotonic()
            if state.job < len(self.jobs) and self._halt_due(last_checkpoint):
                return False  # at least one job per segment: checkpoints never stall training
        return True

    def _finish_epoch(self, state, bar):
        loss_sum, predictions, words = state.tallies.sum(axis=0)
        mean_loss = loss_sum / max(predictions, 1)
        sample = state.w_in[:: max(1, len(state.w_in) // 256)]
        if not np.isfinite(mean_loss) or not np.isfinite(sample).all():
            raise DivergenceError(
                f"training diverged in epoch {state.epoch + 1} (mean loss {mean_loss}); "
                f"try a lower train.alpha (now {self.config.train.alpha})")
        seconds = state.epoch_seconds
        state.metrics.append({
            "epoch": state.epoch + 1, "loss": float(mean_loss), "predictions": int(predictions),
            "words": int(words), "seconds": round(seconds, 4), "words_per_sec": round(float(words) / max(seconds, 1e-9), 1),
        })
        self._update_bar(state, bar)
        if self.reporter.on_epoch is not None:
            elapsed = sum(record["seconds"] for record in state.metrics)
            self.reporter.on_epoch(state.metrics[-1], self.config.train.epochs, elapsed)
        state.tallies[:] = 0.0
        state.epoch, state.job, state.epoch_seconds = state.epoch + 1, 0, 0.0

    def _progress_bar(self, state):
        return self.reporter.bar(self.config.train.epochs * self.total_words, state.epoch * self.total_words)

    def _update_bar(self, state, bar):
        loss_sum, predictions, words = state.tallies.sum(axis=0)
        bar.update(state.epoch * self.total_words + int(words) - bar.n)
        loss = loss_sum / predictions if predictions else float("nan")
        epochs = self.config.train.epochs
        done = int(words) // 2 if self.config.train.alpha_schedule == "halves" else int(words)
        bar.set_postfix_str(f"epoch {min(state.epoch + 1, epochs)}/{epochs}, "
                            f"alpha {self.alpha_at(state.epoch, done):.5f}, loss {loss:.4f}", refresh=False)


def preload(config, reporter=None, trainer_class=None):
    """Load (or compile) the config's kernel before the corpus is read, then drop LLVM's pages.

    The kernel is called once on a two-word stand-in corpus whose arrays have the types of the
    real ones, so training finds it loaded; LLVM is not needed after that (see `pages`), and
    its pages leave the process before the corpus and the weights arrive. `trainer_class`: the
    Trainer that will train (cluster replicas choose their own subword kernel), Trainer by default.
    """
    stand_in = Corpus(vocab_mod.from_counts(["a", "b"], np.array([2, 1], dtype=np.int64)),
                      ids=np.frombuffer(np.zeros(2, np.int32).tobytes(), np.int32),
                      ends=np.frombuffer(np.array([2], np.int64).tobytes(), np.int64), raw_tokens=2)
    trainer = (trainer_class or Trainer)(stand_in, config, reporter, threads=1)
    dim = config.model.vector_size
    trainer.warm_up(State(np.zeros((2, dim), np.float32), np.zeros((2, dim), np.float32),
                          thread_seed(0, 0)[None], np.zeros((1, 3))))
    pages.release_compiler_pages()


def kernel_cached(kernel):
    """True when the kernel is compiled in this process or in numba's on-disk cache."""
    if kernel.signatures:
        return True
    try:
        return os.path.exists(kernel._cache._cache_file._index_path)
    except AttributeError:
        return True


def _run(trainer, state, output, paths, hooks, guard):
    """Train with checkpoints and signal handling, save, drop the checkpoint, evaluate; (word vectors, metrics)."""
    data, config = trainer.data, trainer.config
    trainer.on_checkpoint = checkpoint.saver(output, trainer, paths, checkpoint.corpus_digest(data))
    guard.phase = f"after training; the model is saved in {output}"
    with guard.deferred():  # a signal after training waits for the save: finished work is never thrown away
        try:
            with interrupts.StopOnSignals(trainer):
                state = trainer.train(state, on_job=hooks.on_job)
        except Interrupted as exc:
            raise exc.at(output) from None
        if trainer.prior is not None:
            shared = merge.average(trainer.prior, state.w_in, data.vocab.counts)
            trainer.reporter.log(f"averaged the vectors of the {shared} words both texts hold with the model's")
        metrics = {"epochs": state.metrics, "vocab_size": len(data.vocab), "corpus_tokens": data.raw_tokens,
                   "threads": trainer.threads}
        vectors = subword_model.word_vectors(trainer.tables, state.w_in, config)
        modeldir.save_trained(output, data.vocab, vectors, config, metrics, w_out=state.w_out,
                              **subword_model.saved_arrays(trainer, state, vectors))
        checkpoint.remove_checkpoint(output)
    if hooks.evaluate is not None:
        guard.phase = f"while evaluating; the model is saved in {output}, without the scores"
        try:
            scores = hooks.evaluate(config, data.vocab, vectors)
        except (W2VError, OSError) as exc:
            reason = exc if isinstance(exc, W2VError) else exc.strerror or exc
            raise W2VError(f"evaluation failed: {reason}; the model is saved in {output}, without the scores") from None
        if scores:
            metrics.update(scores)
            modeldir.write_json(os.path.join(output, "metrics.json"), metrics)
    return vectors, metrics


@dataclass
class Hooks:
    """Optional callbacks: on_job(trainer, state) after each job (one thread only);
    evaluate(config, vocab, w_in) -> dict of scores added to metrics.json (run after the save);
    check(config) before anything is read, raising W2VError for an input `evaluate` would fail on;
    on_round(driver, epoch, round) once the tasks of a round of a cluster run are sent, and before_round(driver,
    epoch, round) just before (tests kill workers there)."""

    on_job: callable = None
    evaluate: callable = None
    check: callable = None
    on_round: callable = None
    before_round: callable = None


def train(paths, config, output, reporter=None, vocab=None, hooks=None, inputs=()):
    """What `w2v train` runs: read, train, save. Returns (vocab, input vectors, metrics dict).

    Everything used after training is checked first, and so is `output` (see
    `modeldir.check_output_dir`; `inputs` are more files it must not hold, such as --vocab).
    """
    reporter, hooks = reporter or Reporter(), hooks or Hooks()
    _check_inputs(paths, config, output, hooks, inputs)
    with interrupts.SignalGuard() as guard, modeldir.locked(output, reporter.log), corpus.make_workdir() as workdir:
        data = read_while_loading(paths, config, workdir, vocab, reporter, guard, lambda: preload(config, reporter))
        trainer = Trainer(data, config, reporter)
        vectors, metrics = _run(trainer, None, output, paths, hooks, guard)
    return data.vocab, vectors, metrics


def _check_inputs(paths, config, output, hooks, inputs):
    if hooks.check is not None:
        hooks.check(config)
    evaluation = ([config.eval.analogy] if config.eval.analogy else []) + list(config.eval.similarity)
    modeldir.check_output_dir(output, [*paths, *inputs, *evaluation])


def resume(output, paths=None, reporter=None, hooks=None):
    """Continue the run whose checkpoint is in `output`, with the config saved in it."""
    reporter, hooks = reporter or Reporter(), hooks or Hooks()
    with interrupts.SignalGuard() as guard, modeldir.locked(output, reporter.log), corpus.make_workdir() as workdir:
        arrays, meta = checkpoint.load_checkpoint(output)
        config = config_mod.from_dict(meta["config"])
        paths = list(paths) if paths else meta["paths"]
        _check_inputs(paths, config, output, hooks, ())
        vocab = vocab_mod.Vocab(meta["words"], arrays["counts"])
        data = read_while_loading(paths, config, workdir, vocab, reporter, guard, lambda: preload(config, reporter))
        if checkpoint.corpus_digest(data) != meta["digest"]:
            raise DataError(f"the corpus ({', '.join(paths)}) is not the one this checkpoint was trained on")
        trainer = Trainer(data, config, reporter, threads=meta["threads"])
        trainer.prior = checkpoint.prior_of(arrays)
        checkpoint.check_position(output, meta, len(trainer.jobs))
        w_in = arrays["w_in"]
        if trainer.layout is not None:
            w_in = subword_model.restore_input(trainer.layout, w_in, os.path.join(output, modeldir.CHECKPOINT))
        state = State(padding.copy(w_in), padding.copy(arrays["w_out"]), arrays["rngs"], arrays["tallies"], meta["epoch"],
                      meta["job"], meta["epoch_seconds"], meta["metrics"])
        reporter.log(f"resuming at epoch {state.epoch + 1}, job {state.job} of {len(trainer.jobs)}")
        vectors, metrics = _run(trainer, state, output, paths, hooks, guard)
    return data.vocab, vectors, metrics
