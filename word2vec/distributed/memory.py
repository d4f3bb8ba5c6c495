"""Keep the buffers a round frees in the process, instead of giving them back to the system each time.

Every round allocates and frees the same large buffers (a worker's deltas, the driver's merge,
the update that arrives), 5 to 20 MB each. glibc serves blocks past its mmap threshold with
fresh pages from the kernel and unmaps them when freed, so each round page-faults them in
again: 10-15 ms of a 30-40 ms merge in the driver. With the threshold raised they come from the
heap and are reused (metrics.json's sync 1.79-1.90 -> 1.57-1.61 s a run on the text8 prefix,
3 alternated pairs). The cost: memory freed below the top of the heap stays with the process,
at most about one round's buffers. Anywhere but glibc (musl, macOS) this is a no-op.
"""

import ctypes
import ctypes.util

MMAP_THRESHOLD = 256 << 20  # blocks larger than this (a large model's matrices) are still mapped
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_done = False


def keep_freed_buffers():
    """Raise glibc's mmap and trim thresholds in this process, once; True if it was done."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD))
    return _done
