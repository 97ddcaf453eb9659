"""Losscape's PyTorch worker: serves the torch engine's objective over stdin/stdout.

The protocol is docs/torch-worker-protocol.md. Only torch (>= 1.13) and numpy are needed.
"""

__version__ = "0.1.0"
PROTOCOL = 1
