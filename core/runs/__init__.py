"""Run folders: their layout, reading and listing them, the lock, history, archive checks, prediction tables."""
