"""fastText's subwords: the character n-grams of a word, their FNV-1a hash, and each word's rows.

A word is wrapped as `<word>`; its n-grams are the substrings of minn..maxn Unicode
characters (a UTF-8 continuation byte never starts or ends one), the wrapped word
included when it is short enough. An n-gram's row in the input matrix is
`nwords + hash % buckets`, after the word rows. This follows fastText's
`Dictionary::computeSubwords` and `Dictionary::hash` byte for byte, so a model is
interchangeable with fastText's `.bin` files.
"""

import numpy as np

# fastText gives its end-of-sentence word "</s>" no n-grams; gensim (which reads and writes
# fastText's files) gives it n-grams like any word. A literal "</s>" follows gensim here, so
# that every vector matches gensim's for the same file.
BOW, EOW = "<", ">"
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619


def fnv1a(data):
    """fastText's 32-bit FNV-1a of `data` (bytes): each byte is sign-extended as an int8 first.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    int
        The hash in [0, 2**32).
    """
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ ((byte - 256) & 0xFFFFFFFF if byte >= 128 else byte)) * FNV_PRIME) & 0xFFFFFFFF
    return h


def ngrams(word, minn, maxn):
    """The n-grams of `word` in fastText's order: by start character, then by length.

    Parameters
    ----------
    word : str
    minn, maxn : int
        Lengths in characters of the wrapped word `<word>`; none when maxn is 0.

    Returns
    -------
    list of str
    """
    if maxn <= 0:
        return []
    wrapped = BOW + word + EOW
    out = []
    for i in range(len(wrapped)):
        for n in range(minn, maxn + 1):
            if i + n > len(wrapped):
                break
            if n == 1 and (i == 0 or i + n == len(wrapped)):
                continue  # fastText never takes "<" or ">" alone
            out.append(wrapped[i:i + n])
    return out


def ngram_buckets(word, minn, maxn, buckets):
    """`hash % buckets` of each n-gram of `word`, in fastText's order (a list of int)."""
    return [fnv1a(gram.encode("utf-8")) % buckets for gram in ngrams(word, minn, maxn)]


def word_rows(words, minn, maxn, buckets):
    """Each word's rows of the input matrix as CSR: its own row first, then its n-gram rows.

    Word i's rows are `rows[offsets[i]:offsets[i + 1]]`: `i`, then `len(words) + hash % buckets`
    of each n-gram in fastText's order (repeats kept). Vectorized over all words at once.

    Parameters
    ----------
    words : sequence of str, length W
    minn, maxn, buckets : int
        As in the config; with maxn 0 each word has only its own row.

    Returns
    -------
    offsets : ndarray of int64, shape (W + 1,)
    rows : ndarray of int32, shape (offsets[-1],)
    """
    n_words = len(words)
    word_of, gram_hash = _all_ngrams(words, minn, maxn)
    counts = np.bincount(word_of, minlength=n_words) + 1
    offsets = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    rows = np.empty(int(offsets[-1]), dtype=np.int32)
    rows[offsets[:-1]] = np.arange(n_words, dtype=np.int32)
    # n-grams come grouped by word, in order: the g-th lands after the own rows of words 0..word_of[g]
    rows[np.arange(len(word_of)) + word_of + 1] = n_words + (gram_hash % np.uint32(buckets)).astype(np.int64)
    return offsets, rows


def _all_ngrams(words, minn, maxn):
    """(word index, hash) of every n-gram of every word, in fastText's order."""
    if maxn <= 0 or len(words) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
    encoded = [(BOW + w + EOW).encode("utf-8") for w in words]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    byte_lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    char_pos = np.flatnonzero((data & 0xC0) != 0x80)  # byte offset of every character
    char_word = np.repeat(np.arange(len(words)), byte_lengths)[char_pos]
    char_counts = np.bincount(char_word, minlength=len(words))
    local = np.arange(len(char_pos)) - (np.cumsum(char_counts) - char_counts)[char_word]
    left = (char_counts[char_word] - local)[:, None]  # characters from here to the word's end
    lengths = np.arange(minn, maxn + 1)[None, :]
    ok = lengths <= left
    if minn == 1:  # fastText never takes "<" or ">" alone
        ok[:, 0] &= (local != 0) & (left[:, 0] != 1)
    signed = data.astype(np.int8).astype(np.int32).astype(np.uint32)  # fastText's int8 quirk
    hashes = _prefix_hashes(signed, np.append(char_pos, len(data)), minn, maxn)
    chars, which = np.nonzero(ok)  # row-major: by character, then by length, as fastText
    return char_word[chars], hashes[chars, which]


def _prefix_hashes(signed, bounds, minn, maxn):
    """FNV-1a of the minn..maxn characters from each character on: uint32 (characters, lengths).

    `bounds` holds the byte where each character starts, then the end of the text; spans
    that run past a word's end are computed too (and then dropped by the caller).
    """
    n_chars = len(bounds) - 1
    h = np.full(n_chars, FNV_OFFSET, dtype=np.uint32)
    out = np.empty((n_chars, maxn - minn + 1), dtype=np.uint32)
    for n in range(1, maxn + 1):
        nxt = np.minimum(np.arange(n_chars) + n - 1, n_chars - 1)  # the character that extends the span
        lo, hi = bounds[nxt], bounds[nxt + 1]
        live = np.arange(n_chars)
        k = 0
        while len(live):
            h[live] = (h[live] ^ signed[lo[live] + k]) * np.uint32(FNV_PRIME)
            k += 1
            live = live[lo[live] + k < hi[live]]
        if n >= minn:
            out[:, n - minn] = h
    return out




def mean_rows(matrix, offsets, rows, block=512):
    """Each word's vector: the mean of its rows of `matrix` (as fastText's `getWordVector`).

    Parameters
    ----------
    matrix : ndarray, shape (W + buckets, d)
    offsets, rows : the CSR of `word_rows`
    block : int
        Words gathered at a time, which bounds the scratch memory.

    Returns
    -------
    ndarray of float32, shape (W, d)
    """
    n_words = len(offsets) - 1
    out = np.empty((n_words, matrix.shape[1]), dtype=np.float32)
    for lo in range(0, n_words, block):
        hi = min(lo + block, n_words)
        gathered = matrix[rows[offsets[lo]:offsets[hi]]].astype(np.float64)
        sums = np.add.reduceat(gathered, offsets[lo:hi] - offsets[lo], axis=0)
        out[lo:hi] = sums / np.diff(offsets[lo:hi + 1])[:, None]
    return out


def oov_vector(word, ngram_matrix, minn, maxn, buckets=None, ids=None):
    """The vector of a word out of the vocabulary: the mean of its n-gram rows, zero when it has none.

    Parameters
    ----------
    word : str
    ngram_matrix : ndarray, shape (buckets, d), or (U, d) with `ids`
        The bucket rows only (row b is bucket b), or the rows of the buckets `ids` only.
    minn, maxn : int
    buckets : int, the number of buckets (len(ngram_matrix) when None)
    ids : int64 (U,), sorted, or None — the buckets of the rows; the others are zero

    Returns
    -------
    ndarray of float32, shape (d,)
    """
    grams = ngram_buckets(word, minn, maxn, len(ngram_matrix) if buckets is None else buckets)
    if not grams:
        return np.zeros(ngram_matrix.shape[1], dtype=np.float32)
    rows = np.array(grams, dtype=np.int64)
    if ids is not None:  # the buckets not in `ids` are zero: they count in the mean, but add nothing
        at = np.searchsorted(ids, rows)
        rows = at[(at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == rows)] if len(ids) else rows[:0]
    return (ngram_matrix[rows].astype(np.float64).sum(axis=0) / len(grams)).astype(np.float32)
