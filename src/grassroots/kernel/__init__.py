"""Kernel: the pieces every domain builds on (money, ids, clock, errors, storage, events)."""
