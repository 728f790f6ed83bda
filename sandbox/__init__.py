"""ProjectK sandbox: a local Polymarket replica (anvil chain 137 + a CLOB V2-compatible server).

Invariants: this package imports nothing from the application packages (projectk, workflows,
activities, workers, bot, dashboard); it binds only to 127.0.0.1; every key it knows is one of
anvil's public test keys.
"""
