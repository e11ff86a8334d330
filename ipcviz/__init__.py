"""ipcviz: watch Unix inter-process communication happen on the real kernel."""

__version__ = "0.1.0"
