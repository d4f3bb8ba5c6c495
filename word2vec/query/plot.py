"""Pictures: a 2-D PCA map of words and their neighbours, and the loss curve; matplotlib is optional."""

import os

import numpy as np

from ..errors import ConfigError, DataError, W2VError
from ..fileio import open_output

SIZE_INCHES = (8, 6)
DPI = 100  # 800 × 600 pixels
IMAGE_FORMATS = ("png", "svg", "pdf")
_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def check_available():
    """Raise W2VError saying how to install matplotlib when it cannot be imported."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise W2VError("plotting needs matplotlib: pip install matplotlib") from None


def _figure():
    """A new matplotlib Figure, made without pyplot so no GUI backend or global state is involved."""
    check_available()
    from matplotlib.figure import Figure

    return Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")


def pca_2d(rows):
    """Coordinates of `rows` on their first two principal components.

    The sign of each component is fixed (its largest coordinate is positive), so the same
    vectors always give the same picture.

    Parameters
    ----------
    rows : float array (n, d)

    Returns
    -------
    points : float64 (n, 2); a missing component (n < 3 or d < 2) is all zeros
    explained : float64 (2,), the share of the variance each component holds
    """
    centred = np.asarray(rows, np.float64) - np.mean(rows, axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    points, explained = np.zeros((len(centred), 2)), np.zeros(2)
    keep = min(2, len(singular))
    points[:, :keep] = centred @ components[:keep].T
    flip = np.sign(points[np.abs(points).argmax(axis=0), [0, 1]])
    points *= np.where(flip == 0, 1, flip)
    total = float((singular**2).sum())
    if total > 0:
        explained[:keep] = singular[:keep] ** 2 / total
    return points, explained


def neighbour_groups(vectors, queries, topn):
    """Each query word and its `topn` nearest neighbours, every word once.

    Parameters
    ----------
    vectors : Vectors
    queries : list of str, words in the vocabulary
    topn : int

    Returns
    -------
    words : list of str (n,), the queries first, then the neighbours in order of discovery
    groups : int array (n,), the index of the query each word belongs to (its first one)
    """
    queries = list(dict.fromkeys(queries))
    words, groups, seen = list(queries), list(range(len(queries))), set(queries)
    for group, query in enumerate(queries):
        for word, _ in vectors.most_similar(query, topn=topn):
            if word not in seen:
                seen.add(word)
                words.append(word)
                groups.append(group)
    return words, np.array(groups, dtype=np.int64)


def word_map(vectors, queries, topn, title):
    """A Figure: the queries and their neighbours on the first two principal components of their unit vectors."""
    figure = _figure()
    words, groups = neighbour_groups(vectors, queries, topn)
    points, explained = pca_2d(vectors.normed[[vectors.index[w] for w in words]])
    n_queries = len(dict.fromkeys(queries))
    axes = figure.add_subplot()
    for i, (word, group, (x, y)) in enumerate(zip(words, groups.tolist(), points.tolist())):
        colour, is_query = _COLOURS[group % len(_COLOURS)], i < n_queries
        if not is_query:
            qx, qy = points[group]
            axes.plot([qx, x], [qy, y], color=colour, alpha=0.25, linewidth=0.8, zorder=1)
        axes.scatter([x], [y], s=60 if is_query else 18, color=colour, zorder=2,
                     edgecolors="black" if is_query else "none")
    labels = [axes.annotate(word, tuple(point), xytext=(0, 0), textcoords="offset points", va="bottom", zorder=3,
                            color=_COLOURS[group % len(_COLOURS)], fontsize=11 if i < n_queries else 8.5,
                            fontweight="bold" if i < n_queries else "normal")
              for i, (word, group, point) in enumerate(zip(words, groups.tolist(), points))]
    axes.set_xlabel(f"first principal component ({explained[0]:.0%} of the variance)")
    axes.set_ylabel(f"second principal component ({explained[1]:.0%})")
    axes.set_title(title)
    axes.margins(0.12)
    _place_labels(figure, axes, labels)
    return figure


# label offsets tried in turn, in units of (label width, label height) plus a gap in pixels
_SPOTS = [(0, 0), (0, -1), (-1, 0), (-1, -1), (-0.5, 0.4), (-0.5, -1.4), (0, 1), (0, -2), (-1, 1), (-1, -2)]


def _place_labels(figure, axes, labels, gap=4):
    """Move each label (queries first) to the first spot around its point where it overlaps no
    label placed before it and no marker; when every spot overlaps, to the least crowded one."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # runs the layout, so data → pixel positions are final
    renderer = canvas.get_renderer()
    anchors = axes.transData.transform([label.xy for label in labels])
    taken = [(x - 4, y - 4, x + 4, y + 4) for x, y in anchors]  # the markers
    for label, (x, y) in zip(labels, anchors):
        box = label.get_window_extent(renderer)
        width, height = box.width, box.height
        candidates = []
        for fx, fy in _SPOTS:
            left = x + gap + fx * (width + 2 * gap)
            bottom = y + gap + fy * (height + 2 * gap)
            rect = (left, bottom, left + width, bottom + height)
            candidates.append((sum(_overlap(rect, other) for other in taken), len(candidates), rect))
        crowding, _, rect = min(candidates)
        taken.append(rect)
        label.xyann = ((rect[0] - x) * 72 / figure.dpi, (rect[1] - y) * 72 / figure.dpi)


def _overlap(a, b):
    """The area shared by two (left, bottom, right, top) rectangles."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def loss_figure(epochs, title):
    """A Figure: the mean loss of each epoch, from the `epochs` list of metrics.json."""
    points = [(e["epoch"], e["loss"]) for e in epochs if isinstance(e, dict) and "epoch" in e and "loss" in e]
    if not points:
        raise DataError("metrics.json holds no epochs with a loss to plot")
    x, y = zip(*points)
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(x, y, marker="o", color=_COLOURS[0])
    axes.annotate(f"{y[-1]:.4f}", (x[-1], y[-1]), xytext=(0, 8), textcoords="offset points", ha="center")
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel("mean loss per prediction")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    return figure


def image_format(path):
    """The image format named by the file extension (png when there is none)."""
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if not ext:
        return "png"
    if ext not in IMAGE_FORMATS:
        raise ConfigError(f"cannot draw a .{ext} file ({path}); name it .png, .svg or .pdf")
    return ext


def save(figure, path):
    """Render `figure` to `path` (atomically for a file), in the format its extension names."""
    fmt = image_format(path)
    with open_output(path, "wb") as handle:
        figure.savefig(handle, format=fmt, dpi=DPI, metadata={"Software": None} if fmt == "png" else None)
