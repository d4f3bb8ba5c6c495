"""`python -m word2vec` runs the w2v command line."""

from .cli import main

main()
