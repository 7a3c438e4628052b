"""The execution core: plans, steps, events, and the in-process executor."""
