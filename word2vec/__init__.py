"""w2v: a complete word2vec trainer for the command line (skip-gram/CBOW; neg, hs and exact softmax).

    import word2vec
    vectors = word2vec.train("corpus.txt", {"train": {"epochs": 3}}, output="model")
    vectors = word2vec.load("model")
    vectors.most_similar("paris", topn=5)
"""

from .version import __version__

__all__ = ["load", "load_model", "resume", "train", "Model", "Vectors", "load_word2vec_format", "__version__"]


def __getattr__(name):
    """The API, imported on first use: the `w2v` command starts without it (see `cli`), a cluster's forkserver
    sooner."""
    if name in ("Model", "load", "load_model", "resume", "train"):
        from . import api

        return getattr(api, name)
    if name in ("Vectors", "load_word2vec_format"):
        from .query.vectors import Vectors

        return Vectors if name == "Vectors" else Vectors.load_word2vec_format
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
