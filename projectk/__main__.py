"""`python -m projectk` runs the CLI (used to start worker processes with this interpreter)."""

from projectk.cli import main

main()
