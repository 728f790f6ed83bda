"""`python -m cli` runs the `projectk` CLI (how tools start workers with this interpreter)."""

from cli import main

main()
