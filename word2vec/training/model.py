"""Reference word2vec losses and gradients in plain numpy: the ground truth the compiled kernels are tested against."""

import numpy as np


def sigmoid(x):
    """Logistic function σ(x) = 1 / (1 + e^(−x)), without overflow for any x.

    Parameters
    ----------
    x : float or array_like, any shape

    Returns
    -------
    float or ndarray
        σ(x) in float64: a numpy scalar for scalar input, else the shape of `x`.
    """
    x = np.asarray(x, dtype=np.float64)
    # e^(−|x|) lies in (0, 1], so neither branch can overflow.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()]


def _log_sigmoid(x):
    """log σ(x) = −log(1 + e^(−x)), finite for any x (shape of `x`)."""
    return -np.logaddexp(0.0, -x)


def naive_softmax_loss_and_gradient(center_vec, outside_word_idx, outside_vectors):
    """Full-softmax loss of one (center, outside) pair and its gradients.

    J = −log softmax(U v_c)_o.

    Parameters
    ----------
    center_vec : ndarray, shape (d,)
        Input vector v_c of the center word.
    outside_word_idx : int
        Index o of the observed outside word.
    outside_vectors : ndarray, shape (W, d)
        Output vectors U of the whole vocabulary.

    Returns
    -------
    loss : float
    grad_center_vec : ndarray, shape (d,)
        ∂J/∂v_c = Uᵀ(ŷ − y).
    grad_outside_vectors : ndarray, shape (W, d)
        ∂J/∂U = (ŷ − y) v_cᵀ.
    """
    scores = outside_vectors @ center_vec
    shifted = scores - scores.max()
    log_norm = np.log(np.exp(shifted).sum())
    delta = np.exp(shifted - log_norm)  # ŷ, then ŷ − y below
    loss = float(log_norm - shifted[outside_word_idx])
    delta[outside_word_idx] -= 1.0
    grad_center_vec = outside_vectors.T @ delta
    grad_outside_vectors = np.outer(delta, center_vec)
    return loss, grad_center_vec, grad_outside_vectors


def _signed_logistic_loss(center_vec, rows, signs, vectors):
    """Sum over i of −log σ(s_i · u_{rows_i}ᵀ v), with gradients.

    Shared by negative sampling (s = +1 for the outside word, −1 for negatives)
    and hierarchical softmax (s = 1 − 2·code for each node on the path).

    Parameters
    ----------
    center_vec : ndarray, shape (d,)
    rows : ndarray of int, shape (n,)
        Rows of `vectors`; repeats are allowed and accumulate.
    signs : ndarray, shape (n,)
        +1 or −1 for each row.
    vectors : ndarray, shape (N, d)

    Returns
    -------
    loss : float
    grad_center_vec : ndarray, shape (d,)
    grad_vectors : ndarray, shape (N, d)
    """
    picked = vectors[rows]
    scores = signs * (picked @ center_vec)
    loss = float(-_log_sigmoid(scores).sum())
    # d/dx of −log σ(s·x) is −s·σ(−s·x).
    coeff = -signs * sigmoid(-scores)
    grad_center_vec = coeff @ picked
    grad_vectors = np.zeros(vectors.shape, dtype=np.float64)
    np.add.at(grad_vectors, rows, np.outer(coeff, center_vec))
    return loss, grad_center_vec, grad_vectors


def neg_sampling_loss_and_gradient(center_vec, outside_word_idx, outside_vectors, negative_indices):
    """Negative-sampling loss of one (center, outside) pair and its gradients.

    J = −log σ(u_oᵀv_c) − Σ_k log σ(−u_kᵀv_c). A word drawn several times as a
    negative contributes once per draw; a negative equal to o adds its negative
    term to u_o's gradient as well.

    Parameters
    ----------
    center_vec : ndarray, shape (d,)
        Input vector v_c of the center word.
    outside_word_idx : int
        Index o of the observed outside word.
    outside_vectors : ndarray, shape (W, d)
        Output vectors U.
    negative_indices : array_like of int, shape (K,)
        Sampled negative words k_1..k_K.

    Returns
    -------
    loss : float
    grad_center_vec : ndarray, shape (d,)
    grad_outside_vectors : ndarray, shape (W, d)
        Nonzero only in row o and the negative rows.
    """
    negatives = np.asarray(negative_indices, dtype=np.intp).reshape(-1)
    rows = np.concatenate(([outside_word_idx], negatives)).astype(np.intp)
    signs = np.concatenate(([1.0], -np.ones(negatives.size)))
    return _signed_logistic_loss(center_vec, rows, signs, outside_vectors)


def hierarchical_softmax_loss_and_gradient(center_vec, path_nodes, path_codes, node_vectors):
    """Hierarchical-softmax loss of one word and its gradients.

    J = −Σ_n log σ((1 − 2·code_n) · u_nᵀv): code 0 means sign +, code 1 sign −
    (the C word2vec convention, where the target label is 1 − code).

    Parameters
    ----------
    center_vec : ndarray, shape (d,)
        Input (or hidden) vector v.
    path_nodes : array_like of int, shape (L,)
        Inner nodes on the word's path from the root.
    path_codes : array_like of {0, 1}, shape (L,)
        Branch taken at each node.
    node_vectors : ndarray, shape (N, d)
        Inner-node vectors, usually N = W − 1.

    Returns
    -------
    loss : float
    grad_center_vec : ndarray, shape (d,)
    grad_node_vectors : ndarray, shape (N, d)
    """
    nodes = np.asarray(path_nodes, dtype=np.intp).reshape(-1)
    codes = np.asarray(path_codes).reshape(-1)
    if nodes.shape != codes.shape:
        raise ValueError(f"path_nodes has {nodes.size} entries but path_codes has {codes.size}")
    signs = 1.0 - 2.0 * codes.astype(np.float64)
    return _signed_logistic_loss(center_vec, nodes, signs, node_vectors)


def skipgram(center_word_idx, outside_word_indices, center_vectors, outside_vectors, loss_and_gradient):
    """Skip-gram loss of one center word over its window, and its gradients.

    Parameters
    ----------
    center_word_idx : int
        Index c of the center word.
    outside_word_indices : sequence of int, length 2m (or fewer at a border)
        The words in the window around c.
    center_vectors : ndarray, shape (W, d)
        Input vectors V.
    outside_vectors : ndarray, shape (W, d)
        Output vectors U (or any matrix `loss_and_gradient` accepts).
    loss_and_gradient : callable
        `loss_and_gradient(center_vec, outside_word_idx, outside_vectors)`
        returning `(loss, grad_center_vec, grad_outside_vectors)`.

    Returns
    -------
    loss : float
        Sum of the per-pair losses.
    grad_center_vectors : ndarray, shape (W, d)
        Nonzero only in row c.
    grad_outside_vectors : ndarray, shape of `outside_vectors`
    """
    center_vec = center_vectors[center_word_idx]
    loss = 0.0
    grad_center_vectors = np.zeros(center_vectors.shape, dtype=np.float64)
    grad_outside_vectors = np.zeros(outside_vectors.shape, dtype=np.float64)
    for outside_word_idx in outside_word_indices:
        pair_loss, grad_center, grad_outside = loss_and_gradient(center_vec, outside_word_idx, outside_vectors)
        loss += pair_loss
        grad_center_vectors[center_word_idx] += grad_center
        grad_outside_vectors += grad_outside
    return loss, grad_center_vectors, grad_outside_vectors


def cbow(center_word_idx, context_word_indices, center_vectors, outside_vectors, loss_and_gradient, mean=True):
    """CBOW loss of one center word predicted from its context, and its gradients.

    The hidden vector h is the mean (or sum) of the context words' input
    vectors; the loss is `loss_and_gradient(h, center_word_idx, outside_vectors)`.

    Parameters
    ----------
    center_word_idx : int
        Index c of the word to predict.
    context_word_indices : sequence of int, length n ≥ 1
        The context words; repeats accumulate.
    center_vectors : ndarray, shape (W, d)
        Input vectors V; the context words' rows form h.
    outside_vectors : ndarray, shape (W, d)
        Output vectors U (or any matrix `loss_and_gradient` accepts).
    loss_and_gradient : callable
        As in `skipgram`.
    mean : bool
        h is the mean of the context rows if True, their sum if False.

    Returns
    -------
    loss : float
    grad_center_vectors : ndarray, shape (W, d)
        ∂J/∂h (divided by n if `mean`) added to each context word's row.
    grad_outside_vectors : ndarray, shape of `outside_vectors`
    """
    context = np.asarray(context_word_indices, dtype=np.intp).reshape(-1)
    if context.size == 0:
        raise ValueError("cbow needs at least one context word")
    scale = 1.0 / context.size if mean else 1.0
    hidden = scale * center_vectors[context].sum(axis=0)
    loss, grad_hidden, grad_outside_vectors = loss_and_gradient(hidden, center_word_idx, outside_vectors)
    grad_center_vectors = np.zeros(center_vectors.shape, dtype=np.float64)
    per_word = np.broadcast_to(scale * grad_hidden, (context.size, grad_hidden.size))
    np.add.at(grad_center_vectors, context, per_word)
    return loss, grad_center_vectors, grad_outside_vectors


# --- subwords (fastText) --------------------------------------------------------------------
# A word's input vector is the mean of its rows of V: its own row and its n-gram rows
# (repeats counted). The functions below return the true gradient, ∂J/∂h / n added to each
# of the n rows. fastText's training step (Model::update, which divides by n only for the
# supervised model) adds the whole ∂J/∂h to every row instead: for skip-gram and CBOW its
# step on V is n times the gradient's, SUBWORD_STEP_SCALE(n) = n.


def subword_step_scale(n_rows):
    """How much larger fastText's step on the input rows is than the gradient step: n_rows."""
    return float(n_rows)


def subword_skipgram(center_rows, outside_word_indices, center_vectors, outside_vectors, loss_and_gradient):
    """Skip-gram with a subword input: v = mean of V[center_rows] predicts each outside word.

    Parameters
    ----------
    center_rows : array_like of int, shape (n,)
        The center word's rows of V (own row, then n-gram rows; repeats allowed).
    outside_word_indices : sequence of int
    center_vectors : ndarray, shape (W + buckets, d)
    outside_vectors, loss_and_gradient :
        As in `skipgram`.

    Returns
    -------
    loss : float
    grad_center_vectors : ndarray, shape of `center_vectors`
        Σ_o ∂J_o/∂v / n, added to each of the n rows (twice to a row listed twice).
    grad_outside_vectors : ndarray, shape of `outside_vectors`
    """
    loss = 0.0
    grad_center_vectors = np.zeros(center_vectors.shape, dtype=np.float64)
    grad_outside_vectors = np.zeros(outside_vectors.shape, dtype=np.float64)
    for outside_word_idx in outside_word_indices:
        pair = cbow(outside_word_idx, center_rows, center_vectors, outside_vectors, loss_and_gradient, mean=True)
        loss += pair[0]
        grad_center_vectors += pair[1]
        grad_outside_vectors += pair[2]
    return loss, grad_center_vectors, grad_outside_vectors


def subword_cbow(center_word_idx, context_rows, center_vectors, outside_vectors, loss_and_gradient, mean=True):
    """CBOW with subword inputs: h is the mean (or sum) of all rows of all context words.

    Parameters
    ----------
    center_word_idx : int
    context_rows : sequence of array_like of int
        Each context word's rows of V; they are pooled, so a word with more n-grams weighs more.
    center_vectors, outside_vectors, loss_and_gradient, mean :
        As in `cbow`.

    Returns
    -------
    As `cbow`, the gradient of V spread over the pooled rows.
    """
    pooled = np.concatenate([np.asarray(r, dtype=np.intp).reshape(-1) for r in context_rows])
    return cbow(center_word_idx, pooled, center_vectors, outside_vectors, loss_and_gradient, mean=mean)
