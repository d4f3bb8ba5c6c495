"""Where a training run reports: log lines and a progress bar on stderr, and a hook per finished epoch."""

import sys
from dataclasses import dataclass, field


@dataclass
class Reporter:
    """Where the loop reports (stderr): a line logger, a progress bar, and a hook per finished epoch.

    `bar_factory(total, initial)` replaces the tqdm bar (the CLI's plain lines when stderr is a file);
    `on_epoch(record, epochs, elapsed)` gets each epoch's metrics.json record and the seconds so far.
    """

    progress: bool = False
    log: callable = field(default=lambda message: print(message, file=sys.stderr))
    bar_factory: callable = None
    on_epoch: callable = None

    def bar(self, total, initial):
        """A progress bar over `total` words, of which `initial` are done (disabled unless `progress`)."""
        if self.progress and self.bar_factory is not None:
            return self.bar_factory(total, initial)
        from tqdm import tqdm

        return tqdm(total=total, initial=initial, unit="w", unit_scale=True, disable=not self.progress,
                    file=sys.stderr, desc="training", dynamic_ncols=True, smoothing=0.1)
