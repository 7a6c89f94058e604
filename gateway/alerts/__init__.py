"""Alerts: who started them, how loudly they are delivered, and who was told by which channel."""
