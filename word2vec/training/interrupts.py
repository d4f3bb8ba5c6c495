"""What SIGINT and SIGTERM do during a training run: stop at a job boundary, or end the run cleanly."""

import contextlib
import signal
import threading

from ..errors import W2VError


class _Handling:
    """Installs `self._handle` for SIGINT and SIGTERM inside `with` (main thread only); restores the old ones."""

    previous = None

    def __enter__(self):
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def _restore(self):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}


class StopOnSignals(_Handling):
    """While training, SIGINT and SIGTERM ask the trainer to stop at the next job boundary."""

    def __init__(self, trainer):
        self.trainer = trainer

    def _handle(self, signum, frame):
        if self.trainer.stop_signal is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.trainer.stop_signal = signum

    def __exit__(self, *exc):
        self._restore()


class _Stopped(BaseException):
    """SIGINT or SIGTERM outside the training loop (a BaseException, so no `except Exception` eats it)."""


class SignalGuard(_Handling):
    """Outside the training loop, SIGINT and SIGTERM end the run at once, and the `with` blocks
    it is in remove what it made (lock, temporary folder, new directories). Inside `deferred()`
    (a save) the signal waits until the save is done. Leaving raises a W2VError naming `phase`,
    with exit status 128 + the signal number (130 or 143)."""

    def __init__(self):
        self.deferring, self.pending = False, None
        self.phase = "while reading the corpus; nothing was saved"

    def _handle(self, signum, frame):
        if self.deferring:
            self.pending = signum
            return
        raise _Stopped(signum)

    @contextlib.contextmanager
    def deferred(self):
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False
        if self.pending is not None:
            raise _Stopped(self.pending)

    def __exit__(self, kind, exc, traceback):
        self._restore()
        if isinstance(exc, _Stopped):
            signum = exc.args[0]
            error = W2VError(f"interrupted by {signal.Signals(signum).name} {self.phase}")
            error.exit_code = 128 + int(signum)
            raise error from None
        return False
