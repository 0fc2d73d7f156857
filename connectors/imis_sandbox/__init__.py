"""A local iMIS REST server with a deterministic synthetic association (see API.md section 8)."""

from .faults import Faults
from .generate import append_day, generate
from .server import SandboxServer

__all__ = ["Faults", "SandboxServer", "append_day", "generate"]
