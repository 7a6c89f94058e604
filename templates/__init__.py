"""Jinja2 mail templates; a package only so that `pip install .` ships them."""
