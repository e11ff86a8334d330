"""What ipcviz keeps for itself inside a run's processes, known to every layer.

The runtime puts each worker's control socket on CONTROL_FD; the probe hides that fd from
the process's card and counts a process asleep reading it as idle between steps.  A
neutral module, so that the probe need not import the runtime to know it.
"""

# Every worker keeps its control socket on this fd, out of the way of the fds a scenario
# creates (so pipe() returns 3 and 4 as it would in a C program).  The probe hides it.
CONTROL_FD = 900
