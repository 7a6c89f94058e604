"""Segment specifications (EDSD), with their composites (EDCD) and simple data elements (EDED) of
UN/EDIFACT D.96A, for the INVOIC segments a billing interchange uses, and the ISO 9735 service
segments of syntax versions 3 and 4.

Each element is (id, status, format) for a simple data element, or (id, status, components) for a
composite whose components are (id, status, format). Formats: a alphabetic, n numeric, an
alphanumeric; "..35" at most 35, "3" exactly 3.

Sources (data transcribed by hand, no code copied):
- D.96A segments and composites: jskrobak/underware.Edifact, src/underware.Edifact.D96A/Segments/*.cs
  and Composites/*.cs (ElementInfo: position, name, status, repetition, format); LIN 1082 (line
  item number) is n..6 there, as transcribed.
- Service segments, ISO 9735 v3 (1988, amended 1990) and v4 (1998) UNB/UNH/UNT/UNZ/UNS:
  underware.Edifact src/underware.Edifact/Structures/Common (S001..S005, UNZ) and Structures/S1
  (UNT 0074 n..10, v4); the v4 changes (0002 an1 with S001 0080/0133, S004 0017 n8, S002/S003
  sub-identifications an..35, UNT n..10) as ISO 9735-2:1998 lists them.
"""

from __future__ import annotations

AN3 = "an..3"


def _names(count: int, element: str, fmt: str = "an..35") -> tuple:
    """A composite of `count` repeats of one text element, the first mandatory (C080, C058, C059)."""
    return tuple((element, "M" if i == 0 else "C", fmt) for i in range(count))


D96A_SEGMENTS: dict[str, tuple] = {
    "BGM": (
        ("C002", "C", (("1001", "C", AN3), ("1131", "C", AN3), ("3055", "C", AN3), ("1000", "C", "an..35"))),
        ("1004", "C", "an..35"),
        ("1225", "C", AN3),
        ("4343", "C", AN3),
    ),
    "DTM": (("C507", "M", (("2005", "M", AN3), ("2380", "C", "an..35"), ("2379", "C", AN3))),),
    "RFF": (("C506", "M", (("1153", "M", AN3), ("1154", "C", "an..35"), ("1156", "C", "an..6"),
                           ("4000", "C", "an..35"))),),
    "NAD": (
        ("3035", "M", AN3),
        ("C082", "C", (("3039", "M", "an..35"), ("1131", "C", AN3), ("3055", "C", AN3))),
        ("C058", "C", _names(5, "3124")),
        ("C080", "C", (*_names(5, "3036"), ("3045", "C", AN3))),
        ("C059", "C", _names(4, "3042")),
        ("3164", "C", "an..35"),
        ("3229", "C", "an..9"),
        ("3251", "C", "an..9"),
        ("3207", "C", AN3),
    ),
    "CUX": (
        ("C504", "C", (("6347", "M", AN3), ("6345", "C", AN3), ("6343", "C", AN3), ("6348", "C", "n..4"))),
        ("C504", "C", (("6347", "M", AN3), ("6345", "C", AN3), ("6343", "C", AN3), ("6348", "C", "n..4"))),
        ("5402", "C", "n..12"),
        ("6341", "C", AN3),
    ),
    "PAT": (
        ("4279", "M", AN3),
        ("C110", "C", (("4277", "M", "an..17"), ("1131", "C", AN3), ("3055", "C", AN3),
                       ("4276", "C", "an..35"), ("4276", "C", "an..35"))),
        ("C112", "C", (("2475", "M", AN3), ("2009", "C", AN3), ("2151", "C", AN3), ("2152", "C", "n..3"))),
    ),
    "LIN": (
        ("1082", "C", "n..6"),
        ("1229", "C", AN3),
        ("C212", "C", (("7140", "C", "an..35"), ("7143", "C", AN3), ("1131", "C", AN3), ("3055", "C", AN3))),
        ("C829", "C", (("5495", "C", AN3), ("1082", "C", "n..6"))),
        ("1222", "C", "n..2"),
        ("7083", "C", AN3),
    ),
    "IMD": (
        ("7077", "C", AN3),
        ("7081", "C", AN3),
        ("C273", "C", (("7009", "C", "an..17"), ("1131", "C", AN3), ("3055", "C", AN3),
                       ("7008", "C", "an..35"), ("7008", "C", "an..35"), ("3453", "C", AN3))),
        ("7383", "C", AN3),
    ),
    "QTY": (("C186", "M", (("6063", "M", AN3), ("6060", "M", "n..15"), ("6411", "C", AN3))),),
    "MOA": (("C516", "M", (("5025", "M", AN3), ("5004", "C", "n..18"), ("6345", "C", AN3),
                           ("6343", "C", AN3), ("4405", "C", AN3))),),
    "PRI": (
        ("C509", "C", (("5125", "M", AN3), ("5118", "C", "n..15"), ("5375", "C", AN3), ("5387", "C", AN3),
                       ("5284", "C", "n..9"), ("6411", "C", AN3))),
        ("5213", "C", AN3),
    ),
    "TAX": (
        ("5283", "M", AN3),
        ("C241", "C", (("5153", "C", AN3), ("1131", "C", AN3), ("3055", "C", AN3), ("5152", "C", "an..35"))),
        ("C533", "C", (("5289", "M", "an..6"), ("1131", "C", AN3), ("3055", "C", AN3))),
        ("5286", "C", "an..15"),
        ("C243", "C", (("5279", "C", "an..7"), ("1131", "C", AN3), ("3055", "C", AN3), ("5278", "C", "an..17"),
                       ("5273", "C", "an..12"), ("1131", "C", AN3), ("3055", "C", AN3))),
        ("5305", "C", AN3),
        ("3446", "C", "an..20"),
    ),
    "CNT": (("C270", "M", (("6069", "M", AN3), ("6066", "M", "n..18"), ("6411", "C", AN3))),),
    "UNS": (("0081", "M", "a1"),),
}

_S009 = ("S009", "M", (("0065", "M", "an..6"), ("0052", "M", AN3), ("0054", "M", AN3),
                       ("0051", "M", "an..2"), ("0057", "C", "an..6")))

SERVICE_V3: dict[str, tuple] = {
    "UNB": (
        ("S001", "M", (("0001", "M", "a4"), ("0002", "M", "n1"))),
        ("S002", "M", (("0004", "M", "an..35"), ("0007", "C", "an..4"), ("0008", "C", "an..14"))),
        ("S003", "M", (("0010", "M", "an..35"), ("0007", "C", "an..4"), ("0014", "C", "an..14"))),
        ("S004", "M", (("0017", "M", "n6"), ("0019", "M", "n4"))),
        ("0020", "M", "an..14"),
        ("S005", "C", (("0022", "M", "an..14"), ("0025", "C", "an2"))),
        ("0026", "C", "an..14"),
        ("0029", "C", "a1"),
        ("0031", "C", "n1"),
        ("0032", "C", "an..35"),
        ("0035", "C", "n1"),
    ),
    "UNH": (("0062", "M", "an..14"), _S009, ("0068", "C", "an..35"),
            ("S010", "C", (("0070", "M", "n..2"), ("0073", "C", "a1")))),
    "UNT": (("0074", "M", "n..6"), ("0062", "M", "an..14")),
    "UNZ": (("0036", "M", "n..6"), ("0020", "M", "an..14")),
}

SERVICE_V4: dict[str, tuple] = {
    **SERVICE_V3,
    "UNB": (
        ("S001", "M", (("0001", "M", "a4"), ("0002", "M", "an1"), ("0080", "C", "an..6"), ("0133", "C", AN3))),
        ("S002", "M", (("0004", "M", "an..35"), ("0007", "C", "an..4"), ("0008", "C", "an..35"),
                       ("0042", "C", "an..35"))),
        ("S003", "M", (("0010", "M", "an..35"), ("0007", "C", "an..4"), ("0014", "C", "an..35"),
                       ("0046", "C", "an..35"))),
        ("S004", "M", (("0017", "M", "n8"), ("0019", "M", "n4"))),
        ("0020", "M", "an..14"),
        ("S005", "C", (("0022", "M", "an..14"), ("0025", "C", "an2"))),
        ("0026", "C", "an..14"),
        ("0029", "C", "a1"),
        ("0031", "C", "n1"),
        ("0032", "C", "an..35"),
        ("0035", "C", "n1"),
    ),
    "UNT": (("0074", "M", "n..10"), ("0062", "M", "an..14")),
}
