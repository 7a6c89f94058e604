"""The CLI's sub-command groups, one module per noun; cli.py assembles them."""
