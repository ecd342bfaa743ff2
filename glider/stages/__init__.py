"""Pipeline stages: each reads and writes artifacts and is skipped when its artifact is current."""
