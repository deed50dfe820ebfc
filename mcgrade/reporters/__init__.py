"""Reporters: pure functions ``render(report) -> str``, one module per format.

Only the drivers (the CLI, the pytest plugin) write files.
"""
