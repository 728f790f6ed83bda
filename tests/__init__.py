"""ProjectK's tests; `RESOURCES` holds the recorded venue answers, chain logs and histories."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent / "resources"
