"""CLI commands that draw: plot (a 2-D map of words) and plot-loss (the loss per epoch)."""

import json
import os

import click

from ..errors import DataError
from .common import Tally, load_model, model_option, model_options, queries, quiet_option, read_data, topn_option, warn



@click.command()
@click.argument("words", nargs=-1)
@model_options
@click.option("--output", "-o", required=True, metavar="FILE", help="The image to write (.png, .svg or .pdf).")
@topn_option(5, "Nearest neighbours drawn around each word.", least=0)
@quiet_option
def plot(words, model, limit, no_header, output, topn, quiet):
    """Draw WORDS (stdin lines when none is given) and their neighbours on a 2-D PCA map.

    Needs matplotlib (pip install matplotlib). Unknown words are reported and left
    out; the exit status is then 1.
    """
    from ..query import plot as plot_mod

    plot_mod.check_available()
    plot_mod.image_format(output)
    table = load_model(model, limit, no_header, quiet)
    tally = Tally()
    known = [word for word in queries(words) if tally.run(word, table.__getitem__, word) is not None]
    if not known:
        raise DataError("no word to draw: give words that are in the vocabulary")
    title = f"{len(dict.fromkeys(known))} words and their {topn} nearest neighbours ({os.path.basename(os.path.abspath(model))})"
    plot_mod.save(plot_mod.word_map(table, known, topn, title), output)
    if not quiet:
        warn(f"wrote {output}")
    tally.exit()


@click.command("plot-loss")
@model_option
@click.option("--output", "-o", required=True, metavar="FILE", help="The image to write (.png, .svg or .pdf).")
@quiet_option
def plot_loss(model, output, quiet):
    """Draw the mean loss of each training epoch, from the model's metrics.json (--model may name that file)."""
    from ..query import plot as plot_mod

    plot_mod.check_available()
    plot_mod.image_format(output)
    path = os.path.join(model, "metrics.json") if os.path.isdir(model) else model
    if not (os.path.isfile(path) and path.endswith(".json")):
        raise DataError(f"{model}: no metrics.json; plot-loss needs a model directory written by w2v train")
    epochs = read_data(path, json.load).get("epochs")
    title = f"training loss ({os.path.basename(os.path.abspath(model))})"
    plot_mod.save(plot_mod.loss_figure(epochs if isinstance(epochs, list) else [], title), output)
    if not quiet:
        warn(f"wrote {output}")


COMMANDS = [plot, plot_loss]
