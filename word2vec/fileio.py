"""Atomic file writes and input opening: nothing half-written ever replaces a good file."""

import bz2
import contextlib
import gzip
import io
import lzma
import os
import sys
import tempfile
import zlib

from .errors import DataError, W2VError


@contextlib.contextmanager
def atomic_write(path, mode="wb", encoding="utf-8"):
    """Open a temporary file beside `path`; on success fsync and rename it over `path`.

    On any failure the temporary file is removed and `path` is left as it was.
    An OSError (full disk, no permission) becomes a W2VError naming the file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise W2VError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        # mkstemp makes 0600; a model should get the usual mode. Some filesystems (vfat,
        # CIFS) refuse chmod: the write must still succeed there.
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~UMASK)
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": encoding, "newline": "\n"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise W2VError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_dir(folder)


def _read_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _read_umask()  # read once at import, while single-threaded: os.umask has no read-only form


def fsync_dir(folder):
    """Make a rename inside `folder` durable (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_quietly(path):
    with contextlib.suppress(OSError):
        os.unlink(path)


_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def open_binary(path):
    """Open a corpus or model file for reading bytes; `-` is stdin; .gz/.bz2/.xz are decompressed."""
    if path == "-":
        return contextlib.nullcontext(sys.stdin.buffer)
    path = os.fspath(path)
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a file")
    opener = _OPENERS.get(os.path.splitext(path)[1].lower(), open)
    try:
        handle = opener(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return handle


def read_chunks(handle, path, size=1 << 20):
    """Yield blocks of bytes; decompression errors become DataError naming `path`."""
    try:
        while True:
            block = handle.read(size)
            if not block:
                return
            yield block
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def is_tty(stream):
    """True when `stream` is an interactive terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False
