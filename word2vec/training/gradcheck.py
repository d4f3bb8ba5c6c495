"""Finite-difference gradient checks of the reference losses in `word2vec.model` (behind `w2v gradcheck`)."""

import functools

import numpy as np

from . import model

# Denominator floor of the relative error. Central differences carry round-off
# of about 1e-16·|f| / eps ≈ 1e-10·|f|; where the true gradient is zero (or
# tiny) a pure relative error would blow that noise up into a false failure,
# so entries with |a| + |n| below 1 are compared by absolute error instead.
_ERROR_FLOOR = 1.0


def _max_relative_error(analytic, numeric):
    """Max over entries of |a − n| / max(|a| + |n|, 1), for arrays of one shape."""
    if analytic.size == 0:
        return 0.0
    denominator = np.maximum(np.abs(analytic) + np.abs(numeric), _ERROR_FLOOR)
    return float(np.max(np.abs(analytic - numeric) / denominator))


def gradient_check(f, x, eps=1e-6):
    """Compare an analytic gradient with central finite differences.

    The error of one entry is |a − n| / max(|a| + |n|, 1): relative where the
    gradient is of order one or more, absolute where it is smaller, so that
    finite-difference round-off on zero gradients is not mistaken for a bug.
    Correct float64 gradients give errors around 1e-9 and below.

    Parameters
    ----------
    f : callable
        `f(x)` returns `(loss, grad)`, loss a float and grad the shape of x.
    x : array_like, any shape
        Point at which to check; not modified.
    eps : float
        Step of the central difference (f(x + eps) − f(x − eps)) / (2 eps).

    Returns
    -------
    float
        The largest error over all entries of x.
    """
    x = np.array(x, dtype=np.float64)
    analytic = np.asarray(f(x.copy())[1], dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"gradient has shape {analytic.shape} but x has shape {x.shape}")
    numeric = np.empty_like(x)
    flat = x.reshape(-1)  # a view: writing flat[i] moves x
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        loss_plus = f(x.copy())[0]
        flat[i] = original - eps
        loss_minus = f(x.copy())[0]
        flat[i] = original
        numeric.flat[i] = (loss_plus - loss_minus) / (2.0 * eps)
    return _max_relative_error(analytic, numeric)


def _check_jointly(fn, arrays, eps=1e-6):
    """Gradient-check `fn(*arrays) -> (loss, *grads)` wrt all arrays at once."""
    shapes = [np.shape(a) for a in arrays]
    splits = np.cumsum([np.size(a) for a in arrays])[:-1]

    def flat_fn(flat):
        parts = [part.reshape(shape) for part, shape in zip(np.split(flat, splits), shapes)]
        loss, *grads = fn(*parts)
        return loss, np.concatenate([np.ravel(g) for g in grads])

    return gradient_check(flat_fn, np.concatenate([np.ravel(a) for a in arrays]), eps)


def _hs_by_word(paths):
    """A `loss_and_gradient(vec, word_idx, node_vectors)` using each word's (nodes, codes) path."""

    def loss_and_gradient(center_vec, word_idx, node_vectors):
        nodes, codes = paths[word_idx]
        return model.hierarchical_softmax_loss_and_gradient(center_vec, nodes, codes, node_vectors)

    return loss_and_gradient


def _problem(rng, vocab_size=10, dim=5):
    """Small random vectors and indices; repeats are planted on purpose."""
    center_vectors = 0.5 * rng.standard_normal((vocab_size, dim))
    outside_vectors = 0.5 * rng.standard_normal((vocab_size, dim))
    node_vectors = 0.5 * rng.standard_normal((vocab_size - 1, dim))
    center, outside = (int(i) for i in rng.choice(vocab_size, size=2, replace=False))
    negatives = rng.integers(0, vocab_size, size=5)
    negatives[1] = negatives[0]  # a word drawn twice
    negatives[2] = outside  # a negative equal to the outside word
    window = rng.integers(0, vocab_size, size=4)
    window[1] = window[0]
    paths = []
    for _ in range(vocab_size):
        length = int(rng.integers(1, 5))
        paths.append((rng.choice(vocab_size - 1, size=length, replace=False), rng.integers(0, 2, size=length)))
    return {
        "V": center_vectors, "U": outside_vectors, "nodes": node_vectors, "center": center,
        "outside": outside, "negatives": negatives, "window": window, "paths": paths,
    }


def _sigmoid_error(rng):
    """Finite-difference check of σ'(x) = σ(x)(1 − σ(x)) on a few points."""
    def f(x):
        s = model.sigmoid(x)
        return float(np.sum(s)), s * (1.0 - s)

    return gradient_check(f, 3.0 * rng.standard_normal(10))


def _loss_errors(p):
    """(name, error) of the three per-pair losses, each wrt vector and matrix jointly."""
    softmax = functools.partial(model.naive_softmax_loss_and_gradient, outside_word_idx=p["outside"])
    neg = functools.partial(
        model.neg_sampling_loss_and_gradient, outside_word_idx=p["outside"], negative_indices=p["negatives"]
    )
    nodes, codes = p["paths"][p["outside"]]

    def hs(vec, node_vectors):
        return model.hierarchical_softmax_loss_and_gradient(vec, nodes, codes, node_vectors)

    v_c = p["V"][p["center"]]
    return [
        ("naive_softmax_loss_and_gradient", _check_jointly(lambda v, u: softmax(v, outside_vectors=u), [v_c, p["U"]])),
        ("neg_sampling_loss_and_gradient", _check_jointly(lambda v, u: neg(v, outside_vectors=u), [v_c, p["U"]])),
        ("hierarchical_softmax_loss_and_gradient", _check_jointly(hs, [v_c, p["nodes"]])),
    ]


def _model_errors(p):
    """(name, error) of skip-gram and CBOW with every loss, wrt V and U jointly."""
    losses = {
        "softmax": (model.naive_softmax_loss_and_gradient, p["U"]),
        "neg": (functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=p["negatives"]), p["U"]),
        "hs": (_hs_by_word(p["paths"]), p["nodes"]),
    }
    variants = [("skipgram", name, True) for name in losses]
    variants += [("cbow", name, True) for name in losses] + [("cbow", "neg", False)]
    errors = []
    for arch, loss_name, mean in variants:
        loss_fn, out = losses[loss_name]
        if arch == "skipgram":
            fn = functools.partial(model.skipgram, p["center"], p["window"], loss_and_gradient=loss_fn)
        else:
            fn = functools.partial(model.cbow, p["center"], p["window"], loss_and_gradient=loss_fn, mean=mean)
        label = f"{arch}[{loss_name}]" if mean else f"{arch}[{loss_name},sum]"
        errors.append((label, _check_jointly(fn, [p["V"], out])))
    return errors


def _subword_errors(p, rng, buckets=6):
    """(name, error) of the subword skip-gram and CBOW with every loss, wrt V (words + buckets) and U."""
    vocab_size, dim = p["V"].shape
    V = np.concatenate([p["V"], 0.5 * rng.standard_normal((buckets, dim))])
    center_rows = np.array([p["center"], vocab_size, vocab_size + 3, vocab_size + 3, vocab_size + 5])
    context_rows = [np.array([w, vocab_size + int(w) % buckets, vocab_size + 1]) for w in p["window"]]
    losses = {
        "softmax": (model.naive_softmax_loss_and_gradient, p["U"]),
        "neg": (functools.partial(model.neg_sampling_loss_and_gradient, negative_indices=p["negatives"]), p["U"]),
        "hs": (_hs_by_word(p["paths"]), p["nodes"]),
    }
    errors = []
    for name, (loss_fn, out) in losses.items():
        sg = functools.partial(model.subword_skipgram, center_rows, p["window"], loss_and_gradient=loss_fn)
        errors.append((f"subword_skipgram[{name}]", _check_jointly(sg, [V, out])))
        cb = functools.partial(model.subword_cbow, p["center"], context_rows, loss_and_gradient=loss_fn)
        errors.append((f"subword_cbow[{name}]", _check_jointly(cb, [V, out])))
    return errors


def run_all(seed=0, tolerance=1e-6):
    """Gradient-check every reference function on small random data.

    Parameters
    ----------
    seed : int
        Seed of the `np.random.default_rng` that makes the data.
    tolerance : float
        A row is ok when its error is below this.

    Returns
    -------
    list of (str, float, bool)
        `(name, max_relative_error, ok)` per check, e.g. `("skipgram[neg]", 3e-11, True)`.
    """
    rng = np.random.default_rng(seed)
    p = _problem(rng)
    errors = [("sigmoid", _sigmoid_error(rng))] + _loss_errors(p) + _model_errors(p) + _subword_errors(p, rng)
    return [(name, error, error < tolerance) for name, error in errors]


def format_rows(rows):
    """Lines `name<TAB>error<TAB>ok|FAIL` (error as %.3e) for the rows of `run_all`.

    Parameters
    ----------
    rows : iterable of (str, float, bool)

    Returns
    -------
    list of str
        One line per row, without a trailing newline.
    """
    return [f"{name}\t{error:.3e}\t{'ok' if ok else 'FAIL'}" for name, error, ok in rows]
