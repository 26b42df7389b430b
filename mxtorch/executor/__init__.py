"""Executors: a bound symbol compiled to torch code (see executor.py, codegen.py)."""
from .executor import Executor
from .codegen import compile_graph

__all__ = ["Executor", "compile_graph"]
