"""The runtime's error, importable without loading the runtime itself."""


class RunError(Exception):
    """The run cannot go on; str() is one line that says why."""
