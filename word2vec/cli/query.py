"""CLI commands that query trained vectors: similar, analogy, outlier, `eval analogy|similarity`, cluster."""

import json
import math
import warnings

import click

from ..errors import quote_word
from ..query.evaluate import METHODS
from .common import (Tally, echo, emit_ranked, emit_records, format_option, load_model, model_option, model_options,
                     note_subwords, queries, quiet_option, topn_option, warn)

ANALOGY_COLUMNS = ("section", "correct", "questions", "skipped", "accuracy")
PAIRS_COLUMNS = ("file", "spearman", "pearson", "pairs", "oov")

method_option = click.option(
    "--method", type=click.Choice(METHODS), default="add", show_default=True,
    help="add: 3CosAdd, nearest to b - a + c; mul: 3CosMul (Levy & Goldberg 2014, epsilon 0.001).",
)


@click.command()
@click.argument("words", nargs=-1)
@model_options
@topn_option(10, "Neighbours per word.")
@format_option
@quiet_option
def similar(words, model, limit, no_header, topn, fmt, quiet):
    """Nearest neighbours of each WORD by cosine similarity (stdin lines when no WORD is given).

    An unknown word is an `Error: …` line on stderr (with a close spelling when there is one);
    with --format json it also gets {"query": …, "error": "not in vocabulary", "word": …},
    so each query has one output line. The exit status is then 1.
    """
    vectors = load_model(model, limit, no_header, quiet)
    tally = Tally(fmt)
    for word in queries(words):
        results = tally.run(word, vectors.most_similar, word, (), topn)
        if results is not None:
            emit_ranked(word, results, fmt)
    note_subwords(vectors, quiet)
    tally.exit()


def _doesnt_match(vectors, group):
    """doesnt_match without its Python warning: the command says which words it left out, its own way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return vectors.doesnt_match(group)


@click.command()
@click.argument("words", nargs=-1)
@model_options
@method_option
@topn_option(1, "Answers per question.")
@format_option
@quiet_option
def analogy(words, model, limit, no_header, method, topn, fmt, quiet):
    """Complete "A is to B as C is to ?": `w2v analogy man king woman` answers queen.

    The order is that of the sentence: man is to king as woman is to (queen). The three
    words are never answers; -k 1 by default gives just the best answer. With no WORDS, each stdin line is one question `a b c`.
    Output: `a b c<TAB>answer<TAB>score` rows (best first), or with --format json
    {"query": "a b c", "similar": [{"word": …, "score": …}]} per question (or
    {"query": …, "error": …} for a question that cannot be answered).
    """
    if words and len(words) != 3:
        raise click.UsageError(f"give three words A B C (or none, to read 'a b c' lines from stdin); got {len(words)}")
    vectors = load_model(model, limit, no_header, quiet)
    tally = Tally(fmt)
    for question in _word_groups(words, tally, 3, 3, "three words 'a b c'"):
        results = tally.run(" ".join(question), vectors.analogy, *question, method, topn)
        if results is not None:
            emit_ranked(" ".join(question), results, fmt)
    note_subwords(vectors, quiet)
    tally.exit()


@click.command()
@click.argument("words", nargs=-1)
@model_options
@format_option
@quiet_option
def outlier(words, model, limit, no_header, fmt, quiet):
    """The word of WORDS that fits least: the farthest from their mean (gensim's doesnt_match).

    With no WORDS, each stdin line is one set of words. Output: `words<TAB>outlier`
    per set, or with --format json {"query": "words", "outlier": …}. Unknown words are
    left out with a warning, as gensim does; a set with fewer than two known words is an error.
    """
    if len(words) == 1:
        raise click.UsageError("give at least two words (or none, to read one set of words per stdin line)")
    vectors = load_model(model, limit, no_header, quiet)
    tally = Tally(fmt)
    for group in _word_groups(words, tally, 2, None, "at least two words"):
        query = " ".join(group)
        word = tally.run(query, _doesnt_match, vectors, group)
        if word is None:
            continue
        if not quiet:
            for unknown in dict.fromkeys(w for w in group if not vectors.has_vector(w)):
                warn(f"warning: {quote_word(unknown)} is not in the vocabulary; left out of {quote_word(query)}")
        echo(json.dumps({"query": query, "outlier": word}, ensure_ascii=False) if fmt == "json" else f"{query}\t{word}")
    note_subwords(vectors, quiet)
    tally.exit()


def _word_groups(words, tally, least, most, wanted):
    """The arguments as one group, or else each stdin line split into words; bad lines are errors."""
    if words:
        yield list(words)
        return
    for line in queries(()):
        group = line.split()
        if len(group) < least or (most is not None and len(group) > most):
            tally.fail(line, f"expected {wanted} on a line, got {len(group)}: {quote_word(line[:60])}",
                       {"error": f"expected {wanted}"})
        else:
            yield group


@click.group("eval")
def eval_group():
    """Score vectors on benchmark sets: analogy questions and word-pair similarities."""


@eval_group.command("analogy")
@click.argument("questions")
@model_options
@click.option("--restrict", default=30000, show_default=True, type=click.IntRange(min=1), metavar="N",
              help="Only the N most frequent words take part, as questions and as answers.")
@method_option
@format_option
@quiet_option
def eval_analogy(questions, model, limit, no_header, restrict, method, fmt, quiet):
    """Analogy accuracy on QUESTIONS (`-` is stdin), as word2vec's compute-accuracy and gensim.

    QUESTIONS holds `: section` lines, each followed by `a b c d` lines (a is to b as c is to d).
    A question counts when its four words are among the --restrict most frequent; the others are
    skipped. Words match case-insensitively; a, b and c are never answers.

    One row per section, then `semantic`, `syntactic` (the sections named gram*) and `total`:
    section, correct, questions (answered), skipped, accuracy. A model with subwords also
    answers questions whose a, b or c are not among the --restrict words (only d must be),
    building those words from their n-grams; `subword_questions` counts them, and stderr
    says how many words were built.
    """
    vectors = load_model(model, limit, no_header, quiet)
    sections = vectors.evaluate_analogies(questions, restrict=restrict, method=method)
    columns = ANALOGY_COLUMNS + (("subword_questions",) if vectors.subwords is not None else ())
    emit_records(_for_format(sections, fmt), fmt, columns)
    note_subwords(vectors, quiet)


@eval_group.command("similarity")
@click.argument("files", nargs=-1, required=True)
@model_options
@format_option
@quiet_option
def eval_similarity(files, model, limit, no_header, fmt, quiet):
    """Correlation of cosine similarity with human scores, one row per FILE (WordSim-353, SimLex, …).

    FILE lines hold `word1 word2 score`, separated by tabs or commas; `#` comments and a header
    line are skipped, and words match case-insensitively. Pairs with a word out of the vocabulary
    are left out. Columns: file, spearman, pearson, pairs (used), oov (the share left out, 0 to 1).
    """
    vectors = load_model(model, limit, no_header, quiet)
    scores = [vectors.evaluate_pairs(path) for path in files]  # all first: a bad file leaves stdout empty
    columns = PAIRS_COLUMNS + (("subword_pairs",) if vectors.subwords is not None else ())
    emit_records(_for_format(scores, fmt), fmt, columns)
    note_subwords(vectors, quiet)


def _for_format(records, fmt):
    """For JSON, floats rounded to 6 places and nan (too few pairs to correlate) as null."""
    if fmt != "json":
        return records
    return [{key: _json_number(value) for key, value in record.items()} for record in records]


def _json_number(value):
    if not isinstance(value, float):
        return value
    return None if math.isnan(value) else round(value, 6)


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


COMMANDS = [similar, analogy, outlier, eval_group, cluster]
