"""Phrase detection as word2phrase does it: count words and adjacent pairs, then join pairs that score high."""

import codecs
import contextlib
import math
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from ..errors import ConfigError, DataError
from ..fileio import open_binary, read_chunks

SCORINGS = ("default", "npmi")
_FLUSH_KEYS = 1 << 22  # pair occurrences buffered before they are merged into the table
_CHUNK = 1 << 20  # bytes of text read at a time


@dataclass(frozen=True)
class PhraseOptions:
    """How phrases are found and written.

    `threshold=None` means the scoring's usual value: 100 for default, 0.5 for npmi.
    """

    threshold: float = None
    min_count: int = 5
    delimiter: str = "_"
    scoring: str = "default"
    max_pairs: int = 10_000_000
    lowercase: bool = False

    def resolved_threshold(self):
        return float(self.threshold) if self.threshold is not None else 0.5 if self.scoring == "npmi" else 100.0

    def check(self):
        if self.scoring not in SCORINGS:
            raise ConfigError(f"--scoring {self.scoring!r} is not one of: {', '.join(SCORINGS)}")
        if not self.delimiter or any(c.isspace() for c in self.delimiter):
            raise ConfigError(f"--delimiter {self.delimiter!r} must be non-empty and hold no whitespace")
        if self.min_count < 1 or self.max_pairs < 1:
            raise ConfigError("--min-count and --max-pairs must be 1 or more")
        if math.isnan(self.resolved_threshold()):
            raise ConfigError("--threshold must be a number, not nan")


@dataclass
class Counts:
    """What the counting pass found.

    Attributes
    ----------
    index : dict word → id, ids in order of first appearance.
    word_counts : int64 (n_words,), occurrences of each id.
    pair_keys : int64 (n_pairs,), sorted, `a << 32 | b` for the pair (a, b) of ids.
    pair_counts : int64 (n_pairs,), occurrences of each pair (an undercount once pruned).
    n_tokens : total number of tokens.
    """

    index: dict
    word_counts: np.ndarray
    pair_keys: np.ndarray
    pair_counts: np.ndarray
    n_tokens: int


@dataclass
class Phrases:
    """The pairs that join: keys (sorted, as in Counts), float64 scores and int64 counts, each (n_phrases,)."""

    keys: np.ndarray
    scores: np.ndarray
    counts: np.ndarray


def pieces(handle, path, lowercase=False, chunk_bytes=_CHUNK):
    """Yield the text as (tokens, breaks), one piece per block read.

    `tokens` is a list of str; `breaks` lists the positions in `tokens` where a line ends
    (a position repeats for empty lines). A piece's first tokens continue the line the
    previous piece left open. A last line without a newline still gets its break.
    Invalid UTF-8 bytes survive as surrogate escapes, so the rewrite writes them back unchanged.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    carry, line_open = "", False
    for block in read_chunks(handle, path, chunk_bytes):
        if b"\0" in block:
            raise DataError(f"{path} looks like a binary file (it holds NUL bytes), not text")
        text = carry + decoder.decode(block)
        cut = _complete_part(text)
        text, carry = text[:cut], text[cut:]
        if text:
            line_open = _line_open(text, line_open)
            yield _tokenize(text, lowercase)
    text = carry + decoder.decode(b"", final=True)
    line_open = _line_open(text, line_open)
    tokens, breaks = _tokenize(text, lowercase)
    if line_open:
        breaks.append(len(tokens))
    if tokens or breaks:
        yield tokens, breaks


def _complete_part(text):
    """Length of `text` up to its last whitespace: the rest may be a token cut by the block end."""
    if not text or text[-1].isspace():
        return len(text)
    return len(text) - len(text.rsplit(None, 1)[-1])


def _line_open(text, was_open):
    """Whether characters follow the last newline once `text` is read."""
    _, newline, tail = text.rpartition("\n")
    return bool(tail) if newline else (was_open or bool(text))


def _tokenize(text, lowercase):
    if lowercase:
        text = text.lower()
    lines = text.split("\n")
    tokens, breaks = [], []
    for line in lines[:-1]:
        tokens += line.split()
        breaks.append(len(tokens))
    tokens += lines[-1].split()
    return tokens, breaks


def _pairs_in_piece(ids, breaks, last):
    """Ids (n+1,) of `last` then the piece, and a mask (n,) of the adjacent pairs inside one line."""
    ext = np.concatenate(([last], ids)).astype(np.int64)
    inside = (ext[:-1] >= 0) & (ext[1:] >= 0)
    cuts = np.asarray(breaks, dtype=np.int64)
    inside[cuts[cuts < len(ids)]] = False
    return ext, inside


def _next_last(ids, breaks, last):
    """The id that the next piece's first token may pair with, or -1."""
    if breaks and breaks[-1] == len(ids):
        return -1
    return int(ids[-1]) if len(ids) else last


@contextlib.contextmanager
def rereadable(path):
    """Yield an opener for `path` that can be called twice; stdin (`-`) is spooled to a temporary file."""
    if path != "-":
        yield lambda: open_binary(path)
        return
    with tempfile.TemporaryFile(prefix="w2v-phrases-") as spool, open_binary("-") as stdin:
        shutil.copyfileobj(stdin, spool, _CHUNK)

        def reopen():
            spool.seek(0)
            return contextlib.nullcontext(spool)

        yield reopen


class PairTable:
    """Counts of id pairs in sorted int64 arrays, pruned with a rising floor past `max_pairs`."""

    def __init__(self, max_pairs, warn=None):
        self.max_pairs, self.warn = max_pairs, warn
        self.keys = np.zeros(0, np.int64)
        self.counts = np.zeros(0, np.int64)
        self.buffer, self.buffered = [], 0
        self.floor, self.pruned = 1, False

    def add(self, keys):
        self.buffer.append(keys)
        self.buffered += len(keys)
        if self.buffered >= _FLUSH_KEYS:
            self.flush()

    def flush(self):
        """Merge the buffered pairs into the table, then prune if it grew too large."""
        if not self.buffer:
            return
        new_keys, new_counts = np.unique(np.concatenate(self.buffer), return_counts=True)
        self.buffer, self.buffered = [], 0
        keys, where = np.unique(np.concatenate([self.keys, new_keys]), return_inverse=True)
        self.counts = np.bincount(where, np.concatenate([self.counts, new_counts]), len(keys)).astype(np.int64)
        self.keys = keys
        if len(self.keys) > self.max_pairs:
            self.prune()

    def prune(self):
        """Drop the pairs seen `floor` times or fewer, the floor rising each time (as ReduceVocab)."""
        excess = len(self.counts) - self.max_pairs
        needed = int(np.partition(self.counts, excess - 1)[excess - 1])
        floor = max(self.floor, needed)
        keep = self.counts > floor
        self.keys, self.counts = self.keys[keep], self.counts[keep]
        self.floor = floor + 1
        if not self.pruned and self.warn:
            self.warn(f"more than {self.max_pairs} distinct pairs (--max-pairs): dropping pairs seen "
                      f"{floor} time{'s' if floor != 1 else ''} or fewer, a floor that rises as counting goes on")
        self.pruned = True


def count(handle, path, options, warn=None, chunk_bytes=_CHUNK):
    """First pass: count words and the adjacent pairs within each line. Returns Counts."""
    return count_files([(handle, path)], options, warn, chunk_bytes)


def count_files(sources, options, warn=None, chunk_bytes=_CHUNK, table=None):
    """`count` over several (handle, path) sources in turn; a pair never spans two files.

    `table`, an empty PairTable, receives the pairs (its floor and `pruned` then tell what pruning did).
    """
    index = defaultdict()
    index.default_factory = index.__len__  # a new word gets the next free id
    word_counts = np.zeros(0, np.int64)
    table = table if table is not None else PairTable(options.max_pairs, warn)
    n_tokens = 0
    for handle, path in sources:
        last = -1
        for tokens, breaks in pieces(handle, path, options.lowercase, chunk_bytes):
            ids = np.fromiter(map(index.__getitem__, tokens), np.int64, len(tokens))
            ext, inside = _pairs_in_piece(ids, breaks, last)
            table.add((ext[:-1][inside] << 32) | ext[1:][inside])
            word_counts = _grow(word_counts, len(index)) + np.bincount(ids, minlength=len(index))
            last, n_tokens = _next_last(ids, breaks, last), n_tokens + len(ids)
    table.flush()
    return Counts(dict(index), _grow(word_counts, len(index)), table.keys, table.counts, n_tokens)


def _grow(array, size):
    return np.concatenate([array, np.zeros(size - len(array), array.dtype)]) if size > len(array) else array


def score_pairs(counts, scoring="default", min_count=5):
    """Score every counted pair; -inf where a pair or one of its words is seen fewer than `min_count` times.

    default: (count(ab) − min_count) / (count(a) · count(b)) · n_tokens, as word2phrase.
    npmi: ln(p(ab) / (p(a) p(b))) / −ln p(ab), with p(x) = count(x) / n_tokens, in [−1, 1].

    Returns
    -------
    float64 (n_pairs,), aligned with `counts.pair_keys`.
    """
    a = counts.word_counts[counts.pair_keys >> 32].astype(np.float64)
    b = counts.word_counts[counts.pair_keys & 0xFFFFFFFF].astype(np.float64)
    ab = counts.pair_counts.astype(np.float64)
    total = float(counts.n_tokens)
    with np.errstate(divide="ignore", invalid="ignore"):
        if scoring == "npmi":
            p_ab = ab / total
            scores = np.log(p_ab * total * total / (a * b)) / -np.log(p_ab)
            scores = np.where(p_ab >= 1.0, 1.0, np.clip(scores, -1.0, 1.0))
        else:
            scores = (ab - min_count) / (a * b) * total
    usable = (ab >= min_count) & (a >= min_count) & (b >= min_count)
    return np.where(usable, scores, -np.inf)


def select(counts, options):
    """The pairs whose score is above the threshold, as Phrases."""
    scores = score_pairs(counts, options.scoring, options.min_count)
    chosen = scores > options.resolved_threshold()
    return Phrases(counts.pair_keys[chosen], scores[chosen], counts.pair_counts[chosen])


def phrase_rows(counts, phrases, delimiter="_"):
    """(phrase, score, count) for each phrase, highest score first, then by phrase."""
    words = list(counts.index)
    rows = [(words[key >> 32] + delimiter + words[key & 0xFFFFFFFF], float(score), int(n))
            for key, score, n in zip(phrases.keys.tolist(), phrases.scores, phrases.counts)]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return rows


def rewrite(handle, path, counts, phrases, out, options, chunk_bytes=_CHUNK):
    """Second pass: write the text to the binary stream `out` with the phrases joined.

    Greedy left to right as word2phrase: when (a, b) joins, `a<delimiter>b` is written and b
    cannot join with the word after it. One output line per input line; single spaces between tokens.
    """
    last, line_has_tokens = -1, False
    for tokens, breaks in pieces(handle, path, options.lowercase, chunk_bytes):
        ids = np.fromiter(map(counts.index.get, tokens, repeat(-1)), np.int64, len(tokens))
        ext, inside = _pairs_in_piece(ids, breaks, last)
        keys = (ext[:-1] << 32) | (ext[1:] & 0xFFFFFFFF)
        joins = _greedy(inside & _member(keys, phrases.keys))
        text = _render(tokens, breaks, joins, line_has_tokens, options.delimiter)
        out.write(text.encode("utf-8", "surrogateescape"))
        last = _next_last(ids, breaks, last)
        if len(ids) and joins[-1]:
            last = -1  # the piece's last word is already the tail of a phrase
        line_has_tokens = False if breaks and breaks[-1] == len(ids) else bool(tokens) or line_has_tokens


def _member(keys, sorted_keys):
    if not len(sorted_keys):
        return np.zeros(len(keys), bool)
    where = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[where] == keys


def _greedy(candidates):
    """Within each run of consecutive candidate pairs take the 1st, 3rd, …: a word joins at most once."""
    position = np.arange(len(candidates))
    starts = candidates & ~np.concatenate(([False], candidates[:-1]))
    run_start = np.maximum.accumulate(np.where(starts, position, 0))
    return candidates & ((position - run_start) % 2 == 0)


def _render(tokens, breaks, joins, line_has_tokens, delimiter):
    """The piece as text; `joins[k]` joins token k to the one before it."""
    separators = [" "] * len(tokens)
    for k in np.flatnonzero(joins).tolist():
        separators[k] = delimiter
    if tokens and not line_has_tokens:
        separators[0] = ""
    newlines = Counter(breaks)
    tail = "\n" * newlines.pop(len(tokens), 0)
    for k, n in newlines.items():
        separators[k] = "\n" * n
    return "".join(map(str.__add__, separators, tokens)) + tail


def run(paths, out, options, warn=None, chunk_bytes=_CHUNK):
    """Both passes over the files `paths` (`-` is stdin): write the rewritten text of each in turn to
    `out`; return (Counts, Phrases). One path may be given as a string."""
    options.check()
    paths = [paths] if isinstance(paths, str) else list(paths)
    with contextlib.ExitStack() as stack:
        openers = [stack.enter_context(rereadable(path)) for path in paths]
        counts = count_files(_opened(openers, paths), options, warn, chunk_bytes)
        phrases = select(counts, options)
        for reopen, path in zip(openers, paths):
            with reopen() as handle:
                rewrite(handle, path, counts, phrases, out, options, chunk_bytes)
    return counts, phrases


def _opened(openers, paths):
    """(handle, path) for each file, opened one at a time (each closed before the next opens)."""
    for reopen, path in zip(openers, paths):
        with reopen() as handle:
            yield handle, path
