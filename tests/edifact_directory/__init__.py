"""A checker for EDIFACT INVOIC D.96A interchanges, built from the UN/EDIFACT directory (message
table, segment, composite and data element directories) and ISO 9735, not from our own output.

    check_interchange(data: bytes) -> list[str]   every violation found; [] when it conforms
"""

from tests.edifact_directory.interchange import check_interchange

__all__ = ["check_interchange"]
