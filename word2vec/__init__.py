"""w2v: a complete word2vec trainer for the command line (skip-gram/CBOW; neg, hs and exact softmax)."""

__version__ = "0.1.0"
