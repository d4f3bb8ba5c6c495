"""CLI commands over corpora: vocab (count words, merge shards) and phrases (word2phrase)."""

import sys
import time

import click
import numpy as np

from .. import store
from ..errors import DataError
from ..fileio import open_output
from .common import cluster_option, quiet_option, warn, write_lines


@click.command()
@click.argument("corpus", nargs=-1)
@click.option("--min-count", default=1, show_default=True, type=click.IntRange(min=1),
              help="Leave out words seen fewer times.")
@click.option("--max-size", type=click.IntRange(min=1), metavar="N", help="Keep only the N most frequent words.")
@click.option("--lowercase", is_flag=True, help="Lowercase the words first (as corpus.lowercase).")
@click.option("--merge", is_flag=True, help="CORPUS files are word<TAB>count shards: add up their counts.")
@click.option("--output", "-o", default="-", show_default=True, metavar="FILE",
              help="Write the rows here (atomically; .gz/.bz2/.xz compress) instead of stdout.")
@cluster_option
@quiet_option
def vocab(corpus, min_count, max_size, lowercase, merge, output, cluster, quiet):
    """Count the words of CORPUS files (`-` or none: stdin); print word<TAB>count.

    Rows are sorted by count, most frequent first, then by word. Words are split
    on whitespace exactly as `w2v train` splits them. The default --min-count 1
    keeps every word, so shards counted apart merge exactly; apply the threshold
    when merging:

    \b
    ls part-* | xargs -P 4 -I{} sh -c 'w2v vocab {} > {}.tsv'
    w2v vocab --merge part-*.tsv --min-count 5 > vocab.tsv
    w2v train part-* --vocab vocab.tsv

    With --cluster the workers count the files (paths, globs or URLs such as s3://…) block by block.
    """
    from ..text import vocab as vocab_mod

    paths = list(corpus) or ["-"]
    if cluster and merge:
        raise click.UsageError("--merge adds up shards on this machine; drop --cluster")
    if cluster:
        words, counts = _count_on_cluster(paths, lowercase, cluster, quiet)
    else:
        words, counts = _merge_shards(paths, lowercase) if merge else _count_words(paths, lowercase, quiet)
    if not words or counts.sum() == 0:
        raise DataError("the corpus is empty: no tokens were found")
    if counts.max() < min_count:
        raise DataError(f"no word occurs at least {min_count} times (the most frequent occurs "
                        f"{int(counts.max())} times); lower --min-count")
    table, _ = vocab_mod.build(words, counts, min_count, max_size)
    if output == "-":
        write_lines(f"{word}\t{count}\n" for word, count in zip(table.words, table.counts.tolist()))
    else:
        store.write_vocab(output, table.words, table.counts)


def _count_words(paths, lowercase, quiet):
    """One pass of the training tokenizer (`corpus.scan`) over the files: (words, int64 counts)."""
    from ..text import corpus as corpus_mod

    with corpus_mod.make_workdir() as workdir:
        scan = corpus_mod.scan(paths, workdir, lowercase=lowercase)
    if not quiet:
        corpus_mod.warn_bad_bytes(scan.bad_bytes, warn)
    return scan.words, scan.counts


def _count_on_cluster(paths, lowercase, address, quiet):
    """The counts of the files made by the workers of the cluster at `address`: (words, int64 counts)."""
    from ..distributed import connect, vocab as cluster_vocab
    from ..text import corpus as corpus_mod

    log = (lambda message: None) if quiet else warn
    with connect.connect(address, log) as client:
        words, counts, table = cluster_vocab.count_words(client, paths, lowercase)
    corpus_mod.warn_bad_bytes(table.bad_bytes, log)
    note = cluster_vocab.pruning_note(table)
    if note:
        log(note)
    return words, counts


def _merge_shards(paths, lowercase):
    """The summed counts of several `word<TAB>count` files (each lists a word at most once)."""
    totals = {}
    for path in paths:
        words, counts = store.read_vocab(path)
        for word, count in zip(words, counts.tolist()):
            word = word.lower() if lowercase else word
            totals[word] = totals.get(word, 0) + count
    if sum(totals.values()) > store.MAX_COUNT:
        word = max(totals, key=totals.get)
        raise DataError(f"the merged counts add up to more than {store.MAX_COUNT} (2^63 - 1), more than w2v "
                        f"can count ({word!r} alone has {totals[word]})")
    return list(totals), np.fromiter(totals.values(), np.int64, len(totals))


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
@cluster_option
@quiet_option
def phrases(corpus, threshold, min_count, delimiter, scoring, max_pairs, save_phrases, lowercase, cluster, quiet):
    """Join frequent word pairs of CORPUS files (`-` or none: stdin) into phrases; write the text to stdout.

    Two passes, as the C tool's word2phrase: count words and pairs over all the files,
    then rewrite each in turn, greedily left to right. Pairs never span a line break
    or the end of a file; lines stay lines. Run it
    again on its own output for longer phrases:

    \b
    w2v phrases corpus.txt | w2v phrases - --threshold 50 > phrased.txt

    With --cluster the workers count and rewrite the files (paths, globs or URLs such as
    s3://…) block by block; the text still comes out here, in order.
    """
    from ..text import phrases as phrases_mod

    options = phrases_mod.PhraseOptions(threshold, min_count, delimiter, scoring, max_pairs, lowercase)
    started = time.perf_counter()
    out = sys.stdout.buffer
    log = None if quiet else warn
    if cluster:
        counts, found = _phrases_on_cluster(list(corpus) or ["-"], out, options, cluster, log)
    else:
        counts, found = phrases_mod.run(list(corpus) or ["-"], out, options, warn=log)
    out.flush()
    if save_phrases:
        with open_output(save_phrases, "wb") as handle:
            for phrase, score, n in phrases_mod.phrase_rows(counts, found, delimiter):
                handle.write(f"{phrase}\t{score:.4f}\t{n}\n".encode("utf-8", "surrogateescape"))
    if not quiet:
        warn(f"joined {len(found.keys)} distinct pairs; {counts.n_tokens} tokens "
             f"({time.perf_counter() - started:.1f}s)")


def _phrases_on_cluster(paths, out, options, address, log):
    """`w2v phrases` on the workers of the cluster at `address`: (Counts, Phrases)."""
    from ..distributed import connect, phrases as cluster_phrases

    options.check()
    with connect.connect(address, log) as client:
        return cluster_phrases.run(client, paths, out, options, log)


COMMANDS = [vocab, phrases]
