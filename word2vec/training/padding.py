"""Weight matrices whose rows are padded with zero columns to a multiple of 8 floats.

The compiled loops over a row run in SIMD blocks of 8 or 16 floats. A row of 100 floats
leaves a scalar tail of 4 in every dot product and every update, which cost 7% of the
skip-gram kernel's time on the text8 prefix (248 ns a pair at 100 dimensions, 231 at 104).

Training allocates its weights here and hands the kernels the whole padded rows (`storage`);
everything else sees the (n, dim) view. The zero columns stay zero: every update of a column
is a product with the same column of the other matrix, which is zero too. So the dot
products, the gradients and the trained vectors are those of the unpadded rows.
"""

import weakref

import numpy as np

LANE = 8
_OURS = weakref.WeakValueDictionary()  # id -> padded storage allocated here


def width(dim):
    """The padded row length of `dim` floats."""
    return -(-dim // LANE) * LANE


def zeros(n_rows, dim):
    """A zero float32 (n_rows, dim) view of padded storage."""
    storage = np.zeros((n_rows, width(dim)), dtype=np.float32)
    _OURS[id(storage)] = storage
    return storage[:, :dim]


def copy(matrix):
    """`matrix` copied into padded storage; its (n_rows, dim) view."""
    view = zeros(*matrix.shape)
    view[...] = matrix
    return view


def storage(view):
    """The padded storage behind a view made here, or `view` itself for any other array.

    Any other array still trains correctly, only without the padding's speed.
    """
    base = view.base
    if base is None or _OURS.get(id(base)) is not base:
        return view
    if view.shape[0] != base.shape[0] or view.strides != base.strides or view.ctypes.data != base.ctypes.data:
        return view  # a part of the storage, not all of it
    return base
