"""The ground: types, errors, settings and the clock every layer may import.

Nothing here imports any other part of the project (tests/test_layers.py checks it).
"""
