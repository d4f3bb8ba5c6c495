"""What the forkserver of `local:N` loads once, before it forks a training run's workers (`connect.TRAINING`).

Importing this module loads the compiled passes over the deltas (`deltas.warm_up`): the first
compiled function a process loads starts numba's compiler, 0.2 s of CPU, which every worker
then inherits ready instead of paying it on the 2 cores they share. Nothing else imports it.
"""

from . import deltas

deltas.warm_up()
