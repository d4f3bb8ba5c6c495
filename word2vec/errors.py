"""The project's own error types; the CLI turns each into one `Error: …` line."""


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

    def __init__(self, word):
        super().__init__(f"'{word}' is not in the vocabulary")
        self.word = word

    def __str__(self):
        return self.args[0]


class DivergenceError(W2VError):
    """Training produced NaN or inf."""


class Interrupted(W2VError):
    """Training stopped by SIGINT or SIGTERM after saving a checkpoint (exit 130 or 143)."""

    def __init__(self, signum, folder=None):
        self.signum = signum
        self.exit_code = 128 + int(signum)
        self.folder = folder
        super().__init__(self._message())

    def _message(self):
        where = self.folder or "the output directory"
        return f"interrupted; a checkpoint is saved in {where}. Resume with: w2v train --resume {where}"

    def at(self, folder):
        """The same interruption, naming the folder to resume from."""
        self.folder = folder
        self.args = (self._message(),)
        return self
