"""An epoch's jobs: the corpus cut into kernel calls of about 10k words, and the order they run in."""

import numpy as np

JOB_WORDS = 10_000  # words per kernel call: small enough to balance threads, large enough to amortize the call


def make_jobs(ends, job_words=JOB_WORDS):
    """Split sentences into jobs of about `job_words` words: int64 (J, 3) rows of (lo, hi, words before)."""
    jobs, lo, start = [], 0, 0
    for s in range(len(ends)):
        if ends[s] - start >= job_words or s == len(ends) - 1:
            jobs.append((lo, s + 1, start))
            lo, start = s + 1, int(ends[s])
    return np.array(jobs, dtype=np.int64).reshape(-1, 3)


def job_layout(jobs, total_words, schedule):
    """The order an epoch's jobs run in, and where each starts on the learning-rate line.

    `halves` trains the corpus's two halves side by side, as gensim's corpus_file training
    does with 2 workers: their jobs alternate, and each half's alpha follows the words before
    the job in its own half. Any other schedule runs the jobs in corpus order.

    Returns (order int64 (J,), starts int64 (J,)): order[k] is the job run k-th in an epoch;
    starts[j] the words before job j, on the schedule's count.
    """
    starts = jobs[:, 2].copy()
    half = int(np.searchsorted(starts, total_words / 2))
    if schedule != "halves" or not 0 < half < len(jobs):
        return np.arange(len(jobs), dtype=np.int64), starts
    starts[half:] -= starts[half]
    first, second = np.arange(half), np.arange(half, len(jobs))
    pairs = min(len(first), len(second))
    order = np.concatenate([np.stack([first[:pairs], second[:pairs]], axis=1).ravel(), first[pairs:], second[pairs:]])
    return order.astype(np.int64), starts
