"""CLI commands for the C tool's remaining features: phrases and word classes."""

import json
import sys
import time

import click

from .common import echo, format_option, load_model, model_option, quiet_option, warn
from ..fileio import open_output


@click.command()
@click.argument("corpus", nargs=-1)
@click.option("--threshold", type=float, default=None,
              help="Join a pair when its score is above this. [default: 100; 0.5 with --scoring npmi]")
@click.option("--min-count", default=5, show_default=True, type=click.IntRange(min=1),
              help="Words and pairs seen fewer times never join.")
@click.option("--delimiter", default="_", show_default=True, help="Put between the words of a phrase.")
@click.option("--scoring", type=click.Choice(["default", "npmi"]), default="default", show_default=True,
              help="default: word2phrase's (n(ab) - min_count) / (n(a) n(b)) * total; npmi: normalized PMI in [-1, 1].")
@click.option("--max-pairs", default=10_000_000, show_default=True, type=click.IntRange(min=1),
              help="Prune rare pairs when more distinct pairs than this are counted (bounds memory).")
@click.option("--save-phrases", type=click.Path(dir_okay=False), help="Write phrase<TAB>score<TAB>count here.")
@click.option("--lowercase", is_flag=True, help="Lowercase the text first.")
@quiet_option
def phrases(corpus, threshold, min_count, delimiter, scoring, max_pairs, save_phrases, lowercase, quiet):
    """Join frequent word pairs of CORPUS files (`-` or none: stdin) into phrases; write the text to stdout.

    Two passes, as the C tool's word2phrase: count words and pairs over all the files,
    then rewrite each in turn, greedily left to right. Pairs never span a line break
    or the end of a file; lines stay lines. Run it
    again on its own output for longer phrases:

    \b
    w2v phrases corpus.txt | w2v phrases - --threshold 50 > phrased.txt
    """
    from ..text import phrases as phrases_mod

    options = phrases_mod.PhraseOptions(threshold, min_count, delimiter, scoring, max_pairs, lowercase)
    started = time.perf_counter()
    out = sys.stdout.buffer
    counts, found = phrases_mod.run(list(corpus) or ["-"], out, options, warn=None if quiet else warn)
    out.flush()
    if save_phrases:
        with open_output(save_phrases, "wb") as handle:
            for phrase, score, n in phrases_mod.phrase_rows(counts, found, delimiter):
                handle.write(f"{phrase}\t{score:.4f}\t{n}\n".encode("utf-8", "surrogateescape"))
    if not quiet:
        warn(f"joined {len(found.keys)} distinct pairs; {counts.n_tokens} tokens "
             f"({time.perf_counter() - started:.1f}s)")


@click.command()
@model_option
@click.option("--classes", "-n", required=True, type=click.IntRange(min=1), metavar="N", help="Number of classes.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0), help="Seed of the k-means++ start.")
@click.option("--iterations", default=10, show_default=True, type=click.IntRange(min=1),
              help="Most rounds of k-means (stops earlier when nothing moves).")
@format_option
@quiet_option
def cluster(model, classes, seed, iterations, fmt, quiet):
    """Group the words into N classes by k-means on unit vectors; print word<TAB>class.

    Rows are sorted by class, then word, as the C tool's -classes output; with
    --format json, one {"word": …, "class": …} object per line.
    """
    from ..query import cluster as cluster_mod

    words = load_model(model, quiet=quiet)
    labels = cluster_mod.kmeans(words.normed, classes, seed=seed, iterations=iterations)
    for word, label in cluster_mod.sorted_classes(words.words, labels):
        echo(json.dumps({"word": word, "class": label}, ensure_ascii=False) if fmt == "json" else f"{word}\t{label}")


COMMANDS = [phrases, cluster]
