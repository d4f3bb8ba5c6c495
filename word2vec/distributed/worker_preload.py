"""What the forkserver of `local:N` loads once, before it forks the workers (see `connect._PRELOAD`).

Importing this module loads the compiled passes over the deltas (`deltas.warm_up`): the first
compiled function a process loads starts numba's compiler, 0.2 s of CPU, which every worker
then inherits ready instead of paying it on the 2 cores they share.

In the forkserver itself (`connect.FORKSERVER_ENV` set when it starts, and its own pid, not a
worker's), the exit skips the interpreter's teardown: freeing numba and LLVM took it 0.2-0.3 s
after the driver had ended, and it holds the driver's stdout and stderr, so a pipe or a caller
reading them waited that long for their end. Nothing else imports this module.
"""

import atexit
import os

from . import connect, deltas

deltas.warm_up()


def _exit_at_once(server=os.getpid()):
    if os.getpid() == server:  # the forkserver, not a worker forked from it (those inherit this handler)
        os._exit(0)


if os.environ.get(connect.FORKSERVER_ENV) == "1":
    atexit.register(_exit_at_once)
