"""Operator tools behind `projectk` commands: the demo, the local dev server, doctor, backups and
benchmarks. Each is imported only by the command that runs it."""
