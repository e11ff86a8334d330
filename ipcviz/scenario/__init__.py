"""scenario: scenario files as plain data (load, validate; nothing is executed)."""

from .catalog import Entry, UnknownScenario, entries, find, names, shipped_dir
from .loader import ScenarioError, load, loads
from .model import Expect, ObjectSpec, ProcessSpec, Ref, Scenario, Step

__all__ = ["Entry", "Expect", "ObjectSpec", "ProcessSpec", "Ref", "Scenario", "ScenarioError",
           "Step", "UnknownScenario", "entries", "find", "load", "loads", "names", "shipped_dir"]
