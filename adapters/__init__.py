"""The edges: one package per outside system (the Polymarket venue, the chain, the ledger, the
vault, Temporal, metrics).

Invariants:
- Each package's `__init__` is its public API; code outside the package imports from there only.
- Adapters import the kernel (`projectk`) and no room above them; they turn wire formats into
  the kernel's domain types at their boundary.
"""
