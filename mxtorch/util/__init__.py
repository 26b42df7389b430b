"""Small shared utilities (atomic file writes)."""
from .atomic import atomic_write, atomic_open

__all__ = ["atomic_write", "atomic_open"]
