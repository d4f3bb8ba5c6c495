"""Cluster addresses: `tcp://host:port` joins a running scheduler, `local:N` or `local:NxT` starts one here."""

import atexit
import contextlib
import logging
import os
import re
import signal
import threading

from ..errors import ConfigError, W2VError

CONNECT_TIMEOUT = "5s"  # an unreachable scheduler is reported quickly, not after distributed's 30 s
_LOCAL = re.compile(r"local:(\d+)(?:x(\d+))?")
_REMOTE = re.compile(r"(tcp|tls|ws|wss|inproc)://\S+")
MAX_LOCAL_WORKERS = 256


def require_dask():
    """Import dask.distributed and fsspec, or say in one line how to install them."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
        import fsspec  # noqa: F401
    except ImportError as exc:
        raise W2VError(f"--cluster needs the dask extra ({exc.name} is not installed); "
                       "install it with: pip install dask distributed fsspec") from None


def parse_address(address):
    """('local', workers, threads) or ('remote', address, None); a bad address is a ConfigError (exit 2)."""
    text = (address or "").strip()
    local = _LOCAL.fullmatch(text)
    if local:
        workers, threads = int(local.group(1)), int(local.group(2) or 1)
        if not 1 <= workers <= MAX_LOCAL_WORKERS or not 1 <= threads <= 1024:
            raise ConfigError(f"--cluster {text}: give 1 to {MAX_LOCAL_WORKERS} workers of 1 to 1024 threads, "
                              "as local:N or local:NxT")
        return "local", workers, threads
    if _REMOTE.fullmatch(text):
        return "remote", text, None
    raise ConfigError(f"--cluster {address!r} is not a cluster address; give tcp://HOST:PORT (a running "
                      "scheduler), local:N (N worker processes here) or local:NxT (N workers of T threads)")


@contextlib.contextmanager
def connect(address, log=None, preload=()):
    """A dask.distributed Client for `address` (see `parse_address`), closed on exit. `preload`: modules
    the workers of `local:N` are forked with (`TRAINING` for a training run)."""
    kind, target, threads = parse_address(address)
    if kind == "local" and _start_method() == "forkserver":
        with _ctrl_c_ignored():  # the workers forked from it inherit SIGINT ignored (see _ctrl_c_ignored)
            _start_forkserver(_PRELOAD + list(preload))
    require_dask()
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.comm.timeouts.connect": CONNECT_TIMEOUT,
                          "distributed.worker.daemon": False,
                          "distributed.worker.multiprocessing-method": _start_method()}):
        if kind == "local":
            if log is not None:
                log(f"starting a local cluster of {target} worker process{'es' if target > 1 else ''} "
                    f"× {threads} thread{'s' if threads > 1 else ''}…")
            with _ctrl_c_ignored():
                cluster = LocalCluster(n_workers=target, threads_per_worker=threads, processes=True,
                                       dashboard_address=":0", silence_logs=logging.CRITICAL)
            # the driver gathers the deltas from the workers themselves, not through the scheduler (-0.17 s of
            # sync a run on the text8 prefix); a remote cluster's workers may be out of the driver's reach
            with cluster, Client(cluster, direct_to_workers=True) as client:
                _send_at_once(client, cluster.scheduler, everywhere=True)
                yield client
            return
        try:
            client = Client(target, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise W2VError(f"cannot reach the Dask scheduler at {target} ({_reason(exc)}); start it with "
                           f"`dask scheduler` and workers with `dask worker {target}`, or check the address") from None
        with client:
            _send_at_once(client)
            yield client


def _send_at_once(client, scheduler=None, everywhere=False):
    """Send each message as it comes instead of batching those that follow within 2-10 ms (Dask's streams).

    A training round is a handful of messages (data sent, tasks submitted, keys released) that
    wait on each other, so the batching only delays them: a round trip of two empty tasks took 18.7 ms
    with it, 9.3 ms without. The client's stream is ours; the scheduler's and the workers' only
    `everywhere` (a LocalCluster started here), not those of a shared cluster. Workers that start
    later keep Dask's setting, which only costs time."""
    streams = [getattr(client, "scheduler_comm", None)]
    if everywhere:
        streams += list(getattr(scheduler, "stream_comms", {}).values())
        with contextlib.suppress(Exception):
            client.run(_worker_sends_at_once)
    for stream in streams:
        if hasattr(stream, "interval"):
            stream.interval = 0.0


def _worker_sends_at_once(dask_worker=None):
    stream = getattr(dask_worker, "batched_stream", None)
    if hasattr(stream, "interval"):
        stream.interval = 0.0


def _start_method():
    """How local workers start: forked from a fresh server process that imported distributed once (1.5 s
    sooner than spawning each from scratch, and they close at once); spawned where there is no fork."""
    import multiprocessing

    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


FORKSERVER_ENV = "W2V_FORKSERVER"  # the pid of the driver, in the environment the forkserver starts with

# what the forkserver imports once for every local worker it forks: Dask's own choice ("distributed" and the
# packages it lists), less the optional ones; for training, also the modules a training worker runs (numba,
# the kernels' modules, the compiled delta passes), which counting or phrases would only wait for
_PRELOAD = ["distributed", "dask", "msgpack", "cloudpickle", "tornado", "toolz", "numpy",
            "word2vec.distributed.connect"]
TRAINING = ["numba", "word2vec.distributed.replica", "word2vec.distributed.vocab",
            "word2vec.distributed.worker_preload"]


def _start_forkserver(preload):
    """Start the server the local workers are forked from before this process imports Dask itself, so that
    both import it side by side, and have it import what every worker needs (0.2 s a worker). Dask's own
    preload list, set later, does not restart a running server."""
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(preload)
    os.environ[FORKSERVER_ENV] = str(os.getpid())  # the server's copy of the environment only (see below)
    try:
        forkserver.ensure_running()
    finally:
        os.environ.pop(FORKSERVER_ENV, None)


def start_early(argv, environ=os.environ):
    """Start the forkserver of a `local:N` cluster as the `w2v` command starts, when its arguments ask for one
    (`train`, `vocab` or `phrases` with --cluster local:N or $W2V_CLUSTER): its imports (0.8 s, numba's
    among them, for training) then run beside the driver's own, not after them. `connect` finds it
    running. Anything unusual is left to `connect`: this only looks."""
    command = argv[0] if argv else None
    if command not in ("train", "vocab", "phrases"):
        return
    address = environ.get("W2V_CLUSTER")
    for i, arg in enumerate(argv):
        if arg == "--cluster" and i + 1 < len(argv):
            address = argv[i + 1]
        elif arg.startswith("--cluster="):
            address = arg.partition("=")[2]
    if address and _LOCAL.fullmatch(address.strip()) and _start_method() == "forkserver":
        with _ctrl_c_ignored():
            _start_forkserver(_PRELOAD + (TRAINING if command == "train" else []))


def _exit_at_once(server):
    if os.getpid() == server:  # the forkserver, not a worker forked from it (those inherit this handler)
        os._exit(0)


# In a forkserver this module started (it imports this module first: see _PRELOAD), the exit skips the
# interpreter's teardown: freeing numba, LLVM and Dask took it 0.2-0.3 s after the driver had ended, and it
# holds the driver's stdout and stderr, so a pipe or a caller reading them waited that long for their end.
if os.environ.get(FORKSERVER_ENV) == str(os.getppid()):
    atexit.register(_exit_at_once, os.getpid())


@contextlib.contextmanager
def _ctrl_c_ignored():
    """SIGINT ignored while the local workers start, so that they inherit the disposition (Python keeps it).

    A terminal sends Ctrl-C to the whole process group, workers included; they must not die of it
    but be closed by the driver, once it has saved a checkpoint. A Ctrl-C in these seconds is lost.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _reason(exc):
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) < 120 else text[:117] + "…"


def workers(client):
    """The addresses of the workers and their thread counts, sorted by address: [(address, threads)]."""
    info = client.scheduler_info()["workers"]
    if not info:
        raise W2VError("the Dask cluster has no workers; start some with `dask worker SCHEDULER_ADDRESS`")
    return sorted((address, int(w.get("nthreads", 1))) for address, w in info.items())
