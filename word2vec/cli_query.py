"""CLI commands that query trained vectors: similar (and, with evaluation, analogy, outlier, eval)."""

import click

from .cli_common import Tally, emit_ranked, format_option, load_model, model_options, queries


@click.command()
@click.argument("words", nargs=-1)
@model_options
@click.option("-k", "--topn", default=10, show_default=True, type=click.IntRange(min=1), help="Neighbours per word.")
@format_option
def similar(words, model_path, limit, no_header, topn, fmt):
    """Nearest neighbours of each WORD by cosine similarity (stdin lines when no WORD is given)."""
    vectors = load_model(model_path, limit, no_header)
    tally = Tally()
    for word in queries(words):
        results = tally.run(vectors.most_similar, word, (), topn)
        if results is not None:
            emit_ranked(word, results, fmt)
    tally.exit()


COMMANDS = [similar]
