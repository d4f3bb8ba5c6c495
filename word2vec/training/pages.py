"""Give back the pages of numba's compiler (LLVM) once the training kernels are loaded.

Loading a cached kernel runs through LLVM's library, and the code pages it touches stay
mapped: about 65 MB of the process's resident memory, more than the corpus and the weights
of a 20k-word model together, and never used again while training. Those pages are clean
copies of the library file, so dropping them loses nothing: if LLVM runs again (a kernel is
compiled), the system reads them back from the file.

Only mappings that are not writable and hold no private (anonymous) page are dropped: their
contents are exactly the file's. Anywhere this cannot be done (not Linux, no /proc), it is a
no-op.
"""

import ctypes
import os

LIBRARY = "libllvmlite"
_MADV_DONTNEED = 4


def _clean_mappings(smaps_lines, library=LIBRARY):
    """(start, end) of the read-only mappings of `library` whose pages are all the file's."""
    found, current = [], None
    for line in smaps_lines:
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and ":" not in fields[0]:
            current = None
            if len(fields) >= 6 and library in os.path.basename(fields[5]) and "w" not in fields[1]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                current = [start, end, None]
                found.append(current)
        elif current is not None and fields[:1] == ["Anonymous:"]:
            current[2] = int(fields[1])
    return [(start, end) for start, end, anonymous in found if anonymous == 0]


def release_compiler_pages():
    """Drop LLVM's clean library pages from this process's memory; return the bytes released."""
    try:
        with open("/proc/self/smaps") as handle:
            mappings = _clean_mappings(handle)
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    released = 0
    for start, end in mappings:
        if madvise(start, end - start, _MADV_DONTNEED) == 0:
            released += end - start
    return released
