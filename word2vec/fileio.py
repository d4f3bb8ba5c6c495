"""Atomic file writes and input opening: nothing half-written ever replaces a good file."""

import bz2
import contextlib
import errno
import gzip
import io
import lzma
import os
import stat
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
        raise write_error(path, exc) from None
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
        raise write_error(path, exc) from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_dir(folder)


def write_error(path, exc):
    """A W2VError naming `path` for an OSError met while writing it; a full disk is called so."""
    if isinstance(exc, W2VError):
        return exc
    if is_disk_full(exc):
        return W2VError(f"cannot write {path}: no space left on device")
    return W2VError(f"cannot write {path}: {exc.strerror or exc}")


def is_disk_full(exc):
    """True for ENOSPC/EDQUOT, and for numpy's short write ("N requested and M written")."""
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, OSError) and exc.errno is None and " requested and " in str(exc)


_COMPRESSORS = {".gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="wb", mtime=0),
                ".bz2": lambda raw: bz2.BZ2File(raw, "wb"), ".xz": lambda raw: lzma.LZMAFile(raw, "wb")}


@contextlib.contextmanager
def open_output(path, mode="wb", stdout=False):
    """Open a single-file output the way a user means it; yield a file object.

    * `-` is stdout (only where `stdout` is True: formats that are one stream);
    * a FIFO, a character device, a socket or a path under /dev or /proc (/dev/stdout) is
      streamed into directly: renaming over it would replace the device with a file;
    * a symlink is followed and its target written atomically, so the link stays;
    * a regular file or a new path is written atomically (see `atomic_write`);
    * a name ending in .gz, .bz2 or .xz is compressed, as corpora are read.

    Errors become a W2VError naming `path`; a full disk says "no space left on device".
    """
    path = os.fspath(path)
    if path == "-":
        if not stdout:
            raise W2VError("this output cannot go to stdout (-); give a file name")
        with _encoded(sys.stdout.buffer, path, mode) as handle:
            yield handle
        return
    if _is_stream(path):
        with _streamed(path, mode) as handle:
            yield handle
        return
    with atomic_write(os.path.realpath(path), "wb") as raw, _encoded(raw, path, mode) as handle:
        yield handle


_STREAM_PATHS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/")


def _is_stream(path):
    """True for a path to write in place: a FIFO, a device, a socket, or an open descriptor (/dev/stdout)."""
    if os.path.abspath(path).startswith(_STREAM_PATHS):
        return True  # its target may look like a regular file, but the shell holds it open
    try:
        info = os.stat(path)
    except OSError:
        return False
    return not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode)


@contextlib.contextmanager
def _streamed(path, mode):
    try:
        raw = open(path, "wb")
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with raw, _encoded(raw, path, mode) as handle:
            yield handle
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from None


@contextlib.contextmanager
def _encoded(raw, path, mode):
    """Wrap the binary file `raw` in the compressor `path`'s suffix names and, for mode "w", in text.

    `raw` itself is left open (its owner fsyncs or closes it, and stdout must stay open).
    """
    compressor = _COMPRESSORS.get(os.path.splitext(path)[1].lower())
    binary = compressor(raw) if compressor else raw  # given a file object, none of them closes it
    text = None if "b" in mode else io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
    try:
        yield binary if text is None else text
        if text is not None:
            text.detach()  # flushes; closing would close `binary` and `raw` too
            text = None
        if compressor:
            binary.close()  # writes the trailer
        raw.flush()
    finally:
        if text is not None:
            with contextlib.suppress(ValueError, OSError):
                text.detach()


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
