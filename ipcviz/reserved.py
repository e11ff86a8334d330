"""What ipcviz keeps for itself inside a run's processes, known to every layer.

The runtime puts each worker's control socket on CONTROL_FD and a handler's signal wake-up
pipe on WAKE_R / WAKE_W; the probe hides these fds from the process's card and counts a
process asleep reading CONTROL_FD as idle between steps.  A lesson may name none of them:
fds from RESERVED_FD_FLOOR up are ipcviz's (scenario/limits.py).  A neutral module, so that
the probe and the loader need not import the runtime to know them.
"""

# Out of the way of the fds a scenario creates (so pipe() returns 3 and 4 as it would in a
# C program).
RESERVED_FD_FLOOR = 900
CONTROL_FD = 900  # the worker's control socket
WAKE_R, WAKE_W = 901, 902  # a handler's per-delivery wake-up pipe (runtime/ops/signals.py)
