"""The ground: types, errors, settings and the clock that every layer may import; imports nothing else of the project."""
