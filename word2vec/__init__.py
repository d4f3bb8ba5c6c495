"""w2v: a complete word2vec trainer for the command line (skip-gram/CBOW; neg, hs and exact softmax).

    import word2vec
    vectors = word2vec.train("corpus.txt", {"train": {"epochs": 3}}, output="model")
    vectors = word2vec.load("model")
    vectors.most_similar("paris", topn=5)
"""

from .api import Model, load, load_model, resume, train
from .query.vectors import Vectors
from .version import __version__

load_word2vec_format = Vectors.load_word2vec_format

__all__ = ["load", "load_model", "resume", "train", "Model", "Vectors", "load_word2vec_format", "__version__"]
