"""The project's own error types; the CLI turns each into one `Error: …` line."""

import unicodedata

_UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, format marks (bidi overrides), lone surrogates, breaks


def escape_controls(text):
    """`text` with control and format characters escaped as repr does (\\n, \\x1b, \\u202e, \\udc80).

    Letters of every script stay as they are; only what could break a line or drive a
    terminal is escaped, so a hostile word prints as one harmless line.
    """
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) in _UNSAFE else ch for ch in str(text))


def quote_word(word):
    """A word for a message: in single quotes, with control characters escaped."""
    return f"'{escape_controls(word)}'"


class W2VError(Exception):
    """Base of every error w2v reports to a user; `exit_code` is the process status."""

    exit_code = 1


class ConfigError(W2VError):
    """A config key, type or value that is not allowed (bad usage)."""

    exit_code = 2


class DataError(W2VError):
    """Input data that cannot be used: an empty corpus, a corrupt model file, …"""


class UnknownWordError(W2VError, KeyError):
    """A query word that is not in the vocabulary."""

    def __init__(self, word, suggestion=None):
        hint = f" (did you mean {quote_word(suggestion)}?)" if suggestion else ""
        super().__init__(f"{quote_word(word)} is not in the vocabulary{hint}")
        self.word, self.suggestion = word, suggestion

    def __str__(self):
        return self.args[0]


class DivergenceError(W2VError):
    """Training produced NaN or inf."""


class Interrupted(W2VError):
    """Training stopped by SIGINT or SIGTERM after saving a checkpoint (exit 130 or 143)."""

    def __init__(self, signum, folder=None):
        self.signum = signum
        self.exit_code = 128 + int(signum)
        self.folder, self.options = folder, ""
        super().__init__(self._message())

    def _message(self):
        where = self.folder or "the output directory"
        return f"interrupted; a checkpoint is saved in {where}. Resume with: w2v train --resume {where}{self.options}"

    def at(self, folder, options=""):
        """The same interruption, naming the folder to resume from (and the `options` resuming needs)."""
        self.folder, self.options = folder, options
        self.args = (self._message(),)
        return self
