#!/usr/bin/env python3
"""Write the bundled demo corpus and its analogy questions.

The corpus is synthetic English-like text about a small "world" with regular
relations: countries with capitals, currencies and nationality adjectives;
gendered pairs (king/queen, father/mother, ...); singular/plural nouns; verbs in
base, third-person, past and -ing forms. Sentences come from templates filled by a seeded
``random.Random``, so word2vec trained on it for a few seconds already shows
sensible neighbours (capitals near capitals, countries near countries) and
solves analogies such as ``france paris germany -> berlin`` or
``king man woman -> queen``.

Output is one sentence per line, lowercase ASCII tokens separated by single
spaces. The bytes depend only on the seed and the sentence count: the script
uses nothing but ``Random.random()`` (whose Mersenne Twister stream is fixed
across Python versions) and lists/tuples in a fixed order.

Usage:
    python scripts/make_demo_corpus.py                      # data/demo_corpus.txt, data/demo_questions.txt
    python scripts/make_demo_corpus.py --sentences 20000 --output /tmp/small.txt --questions /tmp/q.txt

Standard library only; Python 3.10+.
"""

import argparse
import os
import random
import sys

DEFAULT_SENTENCES = 60000
DEFAULT_SEED = 1

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "data")

# --------------------------------------------------------------------------- world

# (country, capital, currency, nationality adjective, region)
COUNTRIES = (
    ("france", "paris", "euro", "french", "europe"),
    ("germany", "berlin", "euro", "german", "europe"),
    ("italy", "rome", "euro", "italian", "europe"),
    ("spain", "madrid", "euro", "spanish", "europe"),
    ("greece", "athens", "euro", "greek", "europe"),
    ("britain", "london", "pound", "british", "europe"),
    ("poland", "warsaw", "zloty", "polish", "europe"),
    ("sweden", "stockholm", "krona", "swedish", "europe"),
    ("norway", "oslo", "krone", "norwegian", "europe"),
    ("switzerland", "bern", "franc", "swiss", "europe"),
    ("hungary", "budapest", "forint", "hungarian", "europe"),
    ("czechia", "prague", "koruna", "czech", "europe"),
    ("russia", "moscow", "ruble", "russian", "europe"),
    ("turkey", "ankara", "lira", "turkish", "asia"),
    ("japan", "tokyo", "yen", "japanese", "asia"),
    ("china", "beijing", "yuan", "chinese", "asia"),
    ("india", "delhi", "rupee", "indian", "asia"),
    ("korea", "seoul", "won", "korean", "asia"),
    ("thailand", "bangkok", "baht", "thai", "asia"),
    ("vietnam", "hanoi", "dong", "vietnamese", "asia"),
    ("indonesia", "jakarta", "rupiah", "indonesian", "asia"),
    ("nigeria", "abuja", "naira", "nigerian", "africa"),
    ("kenya", "nairobi", "shilling", "kenyan", "africa"),
    ("ghana", "accra", "cedi", "ghanaian", "africa"),
    ("morocco", "rabat", "dirham", "moroccan", "africa"),
    ("america", "washington", "dollar", "american", "americas"),
    ("brazil", "brasilia", "real", "brazilian", "americas"),
    ("chile", "santiago", "peso", "chilean", "americas"),
    ("peru", "lima", "sol", "peruvian", "americas"),
)

# (male, female, role) -- the role picks the role-specific templates
GENDER_PAIRS = (
    ("king", "queen", "royal"),
    ("prince", "princess", "royal"),
    ("emperor", "empress", "royal"),
    ("duke", "duchess", "royal"),
    ("man", "woman", "person"),
    ("boy", "girl", "person"),
    ("gentleman", "lady", "person"),
    ("father", "mother", "family"),
    ("brother", "sister", "family"),
    ("husband", "wife", "family"),
    ("uncle", "aunt", "family"),
    ("son", "daughter", "family"),
    ("nephew", "niece", "family"),
    ("grandfather", "grandmother", "family"),
    ("actor", "actress", "work"),
    ("waiter", "waitress", "work"),
)

# Words specific to each gendered pair (shared by both members of the pair).
PAIR_TOPICS = {
    "king": ("throne", "crown"),
    "prince": ("heir", "tutor"),
    "emperor": ("empire", "army"),
    "duke": ("castle", "estate"),
    "man": ("street", "jacket"),
    "boy": ("school", "playground"),
    "gentleman": ("hat", "manners"),
    "father": ("household", "family"),
    "brother": ("sibling", "childhood"),
    "husband": ("marriage", "wedding"),
    "uncle": ("cousins", "visit"),
    "son": ("parents", "birthday"),
    "nephew": ("relatives", "holiday"),
    "grandfather": ("grandchildren", "stories"),
    "actor": ("film", "stage"),
    "waiter": ("restaurant", "orders"),
}

# (singular, plural, category, specific phrase for the singular, for the plural, attribute)
NOUNS = (
    ("dog", "dogs", "animal", "barks at the postman", "bark at the postman", "collar"),
    ("cat", "cats", "animal", "naps on the sofa", "nap on the sofa", "whiskers"),
    ("horse", "horses", "animal", "pulls the cart", "pull the cart", "saddle"),
    ("cow", "cows", "animal", "gives fresh milk", "give fresh milk", "bell"),
    ("bird", "birds", "animal", "nests in the tree", "nest in the tree", "feathers"),
    ("pig", "pigs", "animal", "rolls in the mud", "roll in the mud", "snout"),
    ("mouse", "mice", "animal", "hides in the wall", "hide in the wall", "cheese"),
    ("goose", "geese", "animal", "floats on the pond", "float on the pond", "wings"),
    ("car", "cars", "object", "needs new tires", "need new tires", "engine"),
    ("book", "books", "object", "has many pages", "have many pages", "cover"),
    ("table", "tables", "object", "stands in the kitchen", "stand in the kitchen", "drawer"),
    ("chair", "chairs", "object", "has four legs", "have four legs", "cushion"),
    ("bottle", "bottles", "object", "holds cold water", "hold cold water", "cap"),
    ("key", "keys", "object", "opens the door", "open the door", "ring"),
    ("phone", "phones", "object", "rings all day", "ring all day", "screen"),
    ("city", "cities", "place", "has tall towers", "have tall towers", "harbor"),
    ("village", "villages", "place", "has an old church", "have an old church", "square"),
    ("river", "rivers", "place", "flows to the sea", "flow to the sea", "bridge"),
    ("mountain", "mountains", "place", "has snow on top", "have snow on top", "peak"),
    ("island", "islands", "place", "has sandy beaches", "have sandy beaches", "lighthouse"),
    ("apple", "apples", "food", "grows on a tree", "grow on a tree", "core"),
    ("banana", "bananas", "food", "turns yellow", "turn yellow", "peel"),
    ("egg", "eggs", "food", "comes from a hen", "come from a hen", "shell"),
    ("potato", "potatoes", "food", "grows in the ground", "grow in the ground", "skin"),
    ("child", "children", "person", "giggles in the park", "giggle in the park", "toys"),
    ("baby", "babies", "person", "cries at night", "cry at night", "cradle"),
)

# (base, third person, past, present participle, complement)
VERBS = (
    ("walk", "walks", "walked", "walking", "to the market"),
    ("jump", "jumps", "jumped", "jumping", "over the fence"),
    ("swim", "swims", "swam", "swimming", "in the lake"),
    ("run", "runs", "ran", "running", "around the track"),
    ("sing", "sings", "sang", "singing", "a happy song"),
    ("dance", "dances", "danced", "dancing", "at the party"),
    ("eat", "eats", "ate", "eating", "a big lunch"),
    ("drink", "drinks", "drank", "drinking", "hot tea"),
    ("sleep", "sleeps", "slept", "sleeping", "in the tent"),
    ("talk", "talks", "talked", "talking", "with the coach"),
    ("paint", "paints", "painted", "painting", "a portrait"),
    ("climb", "climbs", "climbed", "climbing", "the hill"),
    ("drive", "drives", "drove", "driving", "the truck"),
    ("cook", "cooks", "cooked", "cooking", "some soup"),
    ("write", "writes", "wrote", "writing", "a letter"),
    ("laugh", "laughs", "laughed", "laughing", "at the joke"),
    ("study", "studies", "studied", "studying", "for the exam"),
    ("teach", "teaches", "taught", "teaching", "the class"),
    ("throw", "throws", "threw", "throwing", "the ball"),
    ("catch", "catches", "caught", "catching", "the fish"),
    ("listen", "listens", "listened", "listening", "to the radio"),
    ("play", "plays", "played", "playing", "the piano"),
)

# ----------------------------------------------------------------------- templates
#
# Each relation type has its own slots, always filled the same way, so words of
# one type share contexts (capitals with capitals, currencies with currencies)
# and the offset between related words (country -> capital) is regular.

COUNTRY_TEMPLATES = (
    # capital relation
    (3, "the capital of {country} is {capital}"),
    (3, "{capital} is the capital of {country}"),
    (2, "{capital} is the largest town in {country}"),
    (2, "the government of {country} sits in {capital}"),
    (2, "we took a train to {capital} in {country}"),
    (2, "{capital} is a {adj} town"),
    (1, "the {adj} flag flies over {capital}"),
    # capital-only contexts (capitals share these with each other)
    (1, "the mayor of {capital} opened a new museum"),
    (1, "the old streets of {capital} are full of tourists"),
    (1, "the airport of {capital} is busy at night"),
    (1, "my colleague moved to {capital} for a job downtown"),
    (1, "the train from {capital} to {capital2} was late"),
    # country-only contexts
    (2, "{country} is a country in {region}"),
    (1, "the president of {country} gave a speech"),
    (1, "the population of {country} grew last year"),
    (1, "the border of {country} is long"),
    (1, "{country} signed a trade deal with {country2}"),
    # currency relation and currency-only contexts
    (3, "people in {country} pay with the {currency}"),
    (2, "the {currency} is the currency of {country}"),
    (2, "in {capital} you pay with the {currency}"),
    (1, "the {adj} bank prints the {currency}"),
    (1, "the {currency} fell against the {currency2} today"),
    (1, "the exchange rate of the {currency} went up"),
    # nationality adjective relation and adjective-only contexts
    (3, "the {adj} people live in {country}"),
    (2, "a {adj} citizen was born in {country}"),
    (1, "{adj} food is popular in {capital}"),
    (1, "we met a {adj} writer and a {adj2} painter"),
    (1, "the {adj} team scored a goal"),
)

# {w} a gendered word; {p} he/she; {pos} his/her; {t1}/{t2} the pair's topic words
GENDER_TEMPLATES = (
    (3, "the {w} said that {p} was tired"),
    (3, "{p} is a {w}"),
    (2, "the {w} lost {pos} {t1}"),
    (2, "the {w} spoke about {pos} {t2}"),
    (2, "the {w} and {pos} {t1}"),
    (1, "everyone knows the {w} because {p} is kind"),
    (1, "the old {w} smiled and {p} waved"),
)
ROLE_TEMPLATES = {
    "royal": (
        "the {w} rules the kingdom",
        "the {w} lives in the palace",
        "the {w} wore a golden {t1}",
        "the royal {w} greeted the crowd",
    ),
    "person": (
        "a {w} stood in the {t1}",
        "the young {w} waited at the bus stop",
        "a tall {w} stood near the door",
        "the {w} read a newspaper",
    ),
    "family": (
        "the {w} came home for dinner",
        "my {w} lives near us",
        "the {w} loves the {t1}",
        "our {w} called on sunday",
    ),
    "work": (
        "the {w} works late at the {t1}",
        "the well known {w} signed autographs",
        "the {w} got paid on friday",
        "the {w} was on the {t2} all night",
    ),
}
PAIR_TEMPLATES = (
    "the {m} and the {f} {t1}",
    "the {m} married the {f}",
    "a {m} and a {f} arrived together",
)

SINGULAR_TEMPLATES = (
    "one {n} {phrase}",
    "the {n} {phrase}",
    "this {n} is {catadj}",
    "a {n} was here yesterday",
    "there is one {n} in the picture",
    "i saw a single {n} today",
    "that {n} is mine",
    "every {n} {phrase}",
    "i remember the {n} and its {attr}",
)
PLURAL_TEMPLATES = (
    "two {n} {phrase}",
    "the {n} {phrase}",
    "these {n} are {catadj}",
    "many {n} were here yesterday",
    "there are three {n} in the picture",
    "i saw several {n} today",
    "those {n} are mine",
    "all {n} {phrase}",
    "i remember the {n} and their {attr}",
)
# category-specific contexts, shared by singular and plural; {det} agrees in number
CATEGORY_TEMPLATES = {
    "animal": ("the farmer feeds {det} {n}", "the vet looked at {det} {n}"),
    "object": ("we bought {det} {n} at the store", "someone cleaned {det} {n}"),
    "place": ("we visited {det} {n} last summer", "the map shows {det} {n}"),
    "food": ("we had {det} {n} for breakfast", "the chef peeled {det} {n}"),
    "person": ("the nurse looked after {det} {n}", "the doctor examined {det} {n}"),
}
SINGULAR_DETERMINERS = ("a", "one", "the", "this")
PLURAL_DETERMINERS = ("two", "some", "the", "these", "many")
CATEGORY_ADJECTIVES = {
    "animal": ("hungry", "noisy", "friendly"),
    "object": ("heavy", "broken", "shiny"),
    "place": ("beautiful", "quiet", "famous"),
    "food": ("fresh", "tasty", "cheap"),
    "person": ("happy", "sleepy", "small"),
}

VERB_SUBJECTS_PLURAL = ("we", "they", "you", "the students", "my friends", "the neighbors")
VERB_SUBJECTS_SINGULAR = ("the teacher", "my friend", "the farmer", "our neighbor", "the student")
BASE_TEMPLATES = (
    "{s} {base} {c} every day",
    "{s} like to {base} {c}",
    "{s} will {base} {c} tomorrow",
    "{s} can {base} {c}",
    "{s} want to {base} {c}",
)
THIRD_TEMPLATES = (
    "{s1} {third} {c} every day",
    "{s1} often {third} {c}",
)
PAST_TEMPLATES = (
    "{s} {past} {c} yesterday",
    "last week {s} {past} {c}",
    "{s} {past} {c} two days ago",
    "{s1} {past} {c} last night",
)
ING_TEMPLATES = (
    "{s} are {ing} {c} right now",
    "{s1} is {ing} {c} at the moment",
    "{s} are busy {ing} {c}",
    "{s1} is still {ing} {c}",
)

FILLER_PREFIXES = ("", "", "", "", "", "", "i think ", "they say ", "in fact ", "of course ", "today ")
FILLER_SENTENCES = (
    "the weather was nice today",
    "it rained all morning",
    "the shop opens at nine",
    "we had coffee and cake",
    "the meeting ended early",
    "the bus was very crowded",
    "nobody came to the shop",
    "the garden looks green",
    "the news was on the radio",
    "the lights went out at midnight",
)

# kinds of sentence and their relative weights
SENTENCE_KINDS = (("country", 40), ("gender", 25), ("noun", 17), ("verb", 15), ("filler", 3))


class Picker:
    """Choices drawn only from ``Random.random()``: the same stream on every Python >= 3.10."""

    def __init__(self, seed):
        self._rng = random.Random(seed)

    def index(self, n):
        return min(int(self._rng.random() * n), n - 1)

    def choice(self, seq):
        return seq[self.index(len(seq))]

    def weighted(self, pairs):
        """``pairs`` is a sequence of (weight, item)."""
        total = sum(w for w, _ in pairs)
        x = self._rng.random() * total
        for w, item in pairs:
            x -= w
            if x < 0:
                return item
        return pairs[-1][1]


def country_sentence(pick):
    i = pick.index(len(COUNTRIES))
    country, capital, currency, adj, region = COUNTRIES[i]
    template = pick.weighted(COUNTRY_TEMPLATES)
    j = pick.index(len(COUNTRIES) - 1)  # a second, different country
    j = j + 1 if j >= i else j
    country2, capital2, currency2, adj2, _ = COUNTRIES[j]
    if currency2 == currency:  # two euro countries: compare with the dollar instead
        currency2 = "dollar"
    return template.format(
        country=country, capital=capital, currency=currency, adj=adj, region=region,
        country2=country2, capital2=capital2, currency2=currency2, adj2=adj2,
    )


def gender_sentence(pick):
    male, female, role = pick.choice(GENDER_PAIRS)
    t1, t2 = PAIR_TOPICS[male]
    r = pick.index(10)
    if r == 0:
        return pick.choice(PAIR_TEMPLATES).format(m=male, f=female, t1=t1)
    is_female = pick.index(2)
    word = female if is_female else male
    p, pos = ("she", "her") if is_female else ("he", "his")
    if r <= 4:
        template = pick.choice(ROLE_TEMPLATES[role])
    else:
        template = pick.weighted(GENDER_TEMPLATES)
    return template.format(w=word, p=p, pos=pos, t1=t1, t2=t2)


def noun_sentence(pick):
    singular, plural, category, phrase_s, phrase_p, attr = pick.choice(NOUNS)
    catadj = pick.choice(CATEGORY_ADJECTIVES[category])
    plural_form = pick.index(2)
    if pick.index(3) == 0:
        template = pick.choice(CATEGORY_TEMPLATES[category])
        if plural_form:
            return template.format(det=pick.choice(PLURAL_DETERMINERS), n=plural)
        return template.format(det=pick.choice(SINGULAR_DETERMINERS), n=singular)
    if plural_form:
        return pick.choice(PLURAL_TEMPLATES).format(n=plural, phrase=phrase_p, catadj=catadj, attr=attr)
    return pick.choice(SINGULAR_TEMPLATES).format(n=singular, phrase=phrase_s, catadj=catadj, attr=attr)


def verb_sentence(pick):
    base, third, past, ing, comp = pick.choice(VERBS)
    s = pick.choice(VERB_SUBJECTS_PLURAL)
    s1 = pick.choice(VERB_SUBJECTS_SINGULAR)
    form = pick.index(10)
    if form < 3:
        template = pick.choice(BASE_TEMPLATES)
    elif form < 4:
        template = pick.choice(THIRD_TEMPLATES)
    elif form < 7:
        template = pick.choice(PAST_TEMPLATES)
    else:
        template = pick.choice(ING_TEMPLATES)
    return template.format(s=s, s1=s1, base=base, third=third, past=past, ing=ing, c=comp)


def filler_sentence(pick):
    return pick.choice(FILLER_SENTENCES)


GENERATORS = {
    "country": country_sentence,
    "gender": gender_sentence,
    "noun": noun_sentence,
    "verb": verb_sentence,
    "filler": filler_sentence,
}


def sentences(count, seed):
    """Yield ``count`` sentences (str, no newline) for ``seed``."""
    pick = Picker(seed)
    kinds = tuple((w, GENERATORS[k]) for k, w in SENTENCE_KINDS)
    for _ in range(count):
        prefix = pick.choice(FILLER_PREFIXES)
        yield prefix + pick.weighted(kinds)(pick)


# ----------------------------------------------------------------------- questions


def _pairs_questions(pairs, offsets):
    """``a b c d`` lines for each pair i with the pairs i+k (cyclic) for k in ``offsets``."""
    n = len(pairs)
    lines = []
    for i in range(n):
        for k in offsets:
            j = (i + k) % n
            if j != i:
                lines.append(f"{pairs[i][0]} {pairs[i][1]} {pairs[j][0]} {pairs[j][1]}")
    return lines


def questions():
    """The analogy questions, Mikolov format, as a list of lines."""
    spread = (1, 3, 7, 12, 18)  # each country against five others, spread over regions
    assert len(COUNTRIES) > max(spread)
    unique_currency = [
        (c[0], c[2]) for c in COUNTRIES if sum(1 for d in COUNTRIES if d[2] == c[2]) == 1
    ]
    sections = (
        ("capital-world", _pairs_questions([(c[0], c[1]) for c in COUNTRIES], spread)),
        ("currency", _pairs_questions(unique_currency, spread)),
        ("nationality-adjective", _pairs_questions([(c[0], c[3]) for c in COUNTRIES], spread)),
        ("family", _pairs_questions([(m, f) for m, f, _ in GENDER_PAIRS], range(1, len(GENDER_PAIRS)))),
        ("gram-plural", _pairs_questions([(s, p) for s, p, *_ in NOUNS], (1, 2, 5, 9, 14))),
        ("gram-past-tense", _pairs_questions([(v[3], v[2]) for v in VERBS], (1, 2, 5, 9, 14))),
        ("gram-present-participle", _pairs_questions([(v[0], v[3]) for v in VERBS], (1, 2, 5, 9, 14))),
        ("gram-third-person", _pairs_questions([(v[0], v[1]) for v in VERBS], (1, 2, 5, 9, 14))),
    )
    lines = []
    for name, body in sections:
        lines.append(f": {name}")
        lines.extend(body)
    return lines


# ---------------------------------------------------------------------------- main


def _write(path, lines):
    """Write lines atomically (temp file + rename); return (lines, tokens, bytes)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = path + ".tmp"
    n_lines = n_tokens = n_bytes = 0
    try:
        with open(tmp, "w", encoding="ascii", newline="\n") as handle:
            for line in lines:
                data = line + "\n"
                handle.write(data)
                n_lines += 1
                n_tokens += len(line.split())
                n_bytes += len(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return n_lines, n_tokens, n_bytes


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the synthetic demo corpus and analogy questions.")
    parser.add_argument("--output", default=os.path.join(DATA, "demo_corpus.txt"),
                        help="corpus file to write (default: data/demo_corpus.txt)")
    parser.add_argument("--questions", default=os.path.join(DATA, "demo_questions.txt"),
                        help="analogy questions file to write; '' to skip (default: data/demo_questions.txt)")
    parser.add_argument("--sentences", type=int, default=DEFAULT_SENTENCES,
                        help=f"number of sentences (default: {DEFAULT_SENTENCES})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    if args.sentences < 0:
        parser.error("--sentences must be >= 0")

    n_lines, n_tokens, n_bytes = _write(args.output, sentences(args.sentences, args.seed))
    summary = f"{args.output}: {n_lines} sentences, {n_tokens} tokens, {n_bytes} bytes"
    if args.questions:
        q_lines, _, _ = _write(args.questions, questions())
        summary += f"; {args.questions}: {q_lines} lines"
    print(summary, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
