"""Routing of new tickets: rules.yaml compiled to frozen rules, the facts they test, and assignment."""
