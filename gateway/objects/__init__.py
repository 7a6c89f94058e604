"""Clients' objects: documents, inspections, machine-reported faults, incidents and problems."""
