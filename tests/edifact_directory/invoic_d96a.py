"""The INVOIC message structure of UN/EDIFACT directory D.96A: segment order, groups, status and
maximum repetitions, as the directory's message table lists them.

Transcribed (data only, no code) from two public copies of the D.96A INVOIC table, which agree:
- the EdiFabric template for EDIFACT D96A INVOIC (class TSINVOIC, `[Message("EDIFACT", "D96A",
  "INVOIC")]`): order (Pos), status ([Required] = M) and repetitions ([ListCount]) of every segment
  and group, nested as in the directory;
- jskrobak/underware.Edifact, src/underware.Edifact.D96A/Messages/Structures/INVOIC.xml: the
  segment group numbers SG1..SG51 (e.g. SG25 LIN, SG26 MOA, SG28 PRI, SG33 TAX, SG48 MOA, SG50 TAX).
UNH and UNT are M 1 in every message table (the EdiFabric template leaves their status to its
envelope code).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seg:
    tag: str
    status: str   # M or C
    max: int


@dataclass(frozen=True)
class Group:
    name: str
    status: str
    max: int
    children: tuple  # the first child is the group's trigger segment

    @property
    def tag(self) -> str:
        return self.children[0].tag


def _g(name: str, status: str, max_: int, *children) -> Group:
    return Group(name, status, max_, tuple(children))


_RFF_DTM = (Seg("RFF", "M", 1), Seg("DTM", "C", 5))

INVOIC_D96A = (
    Seg("UNH", "M", 1),
    Seg("BGM", "M", 1),
    Seg("DTM", "M", 35),
    Seg("PAI", "C", 1),
    Seg("ALI", "C", 5),
    Seg("IMD", "C", 1),
    Seg("FTX", "C", 10),
    _g("SG1", "C", 99, *_RFF_DTM),
    _g("SG2", "C", 99,
       Seg("NAD", "M", 1), Seg("LOC", "C", 25), Seg("FII", "C", 5),
       _g("SG3", "C", 9999, *_RFF_DTM),
       _g("SG4", "C", 5, Seg("DOC", "M", 1), Seg("DTM", "C", 5)),
       _g("SG5", "C", 5, Seg("CTA", "M", 1), Seg("COM", "C", 5))),
    _g("SG6", "C", 5, Seg("TAX", "M", 1), Seg("MOA", "C", 1), Seg("LOC", "C", 5)),
    _g("SG7", "C", 5, Seg("CUX", "M", 1), Seg("DTM", "C", 5)),
    _g("SG8", "C", 10,
       Seg("PAT", "M", 1), Seg("DTM", "C", 5), Seg("PCD", "C", 1), Seg("MOA", "C", 1),
       Seg("PAI", "C", 1), Seg("FII", "C", 1)),
    _g("SG9", "C", 10,
       Seg("TDT", "M", 1),
       _g("SG10", "C", 10, Seg("LOC", "M", 1), Seg("DTM", "C", 5)),
       _g("SG11", "C", 9999, *_RFF_DTM)),
    _g("SG12", "C", 5, Seg("TOD", "M", 1), Seg("LOC", "C", 2)),
    _g("SG13", "C", 1000,
       Seg("PAC", "M", 1), Seg("MEA", "C", 5),
       _g("SG14", "C", 5, Seg("PCI", "M", 1), Seg("RFF", "C", 1), Seg("DTM", "C", 5), Seg("GIN", "C", 5))),
    _g("SG15", "C", 9999,
       Seg("ALC", "M", 1), Seg("ALI", "C", 5),
       _g("SG16", "C", 5, *_RFF_DTM),
       _g("SG17", "C", 1, Seg("QTY", "M", 1), Seg("RNG", "C", 1)),
       _g("SG18", "C", 1, Seg("PCD", "M", 1), Seg("RNG", "C", 1)),
       _g("SG19", "C", 2, Seg("MOA", "M", 1), Seg("RNG", "C", 1)),
       _g("SG20", "C", 1, Seg("RTE", "M", 1), Seg("RNG", "C", 1)),
       _g("SG21", "C", 5, Seg("TAX", "M", 1), Seg("MOA", "C", 1))),
    _g("SG22", "C", 100, Seg("RCS", "M", 1), Seg("RFF", "C", 5), Seg("DTM", "C", 5), Seg("FTX", "C", 5)),
    _g("SG23", "C", 1, Seg("AJT", "M", 1), Seg("FTX", "C", 5)),
    _g("SG24", "C", 1, Seg("INP", "M", 1), Seg("FTX", "C", 5)),
    _g("SG25", "C", 9999999,
       Seg("LIN", "M", 1), Seg("PIA", "C", 25), Seg("IMD", "C", 10), Seg("MEA", "C", 5),
       Seg("QTY", "C", 5), Seg("PCD", "C", 1), Seg("ALI", "C", 5), Seg("DTM", "C", 35),
       Seg("GIN", "C", 1000), Seg("GIR", "C", 1000), Seg("QVR", "C", 1), Seg("EQD", "C", 1),
       Seg("FTX", "C", 5),
       _g("SG26", "C", 5, Seg("MOA", "M", 1), Seg("CUX", "C", 1)),
       _g("SG27", "C", 10, Seg("PAT", "M", 1), Seg("DTM", "C", 5), Seg("PCD", "C", 1), Seg("MOA", "C", 1)),
       _g("SG28", "C", 25, Seg("PRI", "M", 1), Seg("APR", "C", 1), Seg("RNG", "C", 1), Seg("DTM", "C", 5)),
       _g("SG29", "C", 10, *_RFF_DTM),
       _g("SG30", "C", 10,
          Seg("PAC", "M", 1), Seg("MEA", "C", 5),
          _g("SG31", "C", 5, Seg("PCI", "M", 1), Seg("RFF", "C", 1), Seg("DTM", "C", 5), Seg("GIN", "C", 5))),
       _g("SG32", "C", 9999, Seg("LOC", "M", 1), Seg("QTY", "C", 100), Seg("DTM", "C", 5)),
       _g("SG33", "C", 99, Seg("TAX", "M", 1), Seg("MOA", "C", 1), Seg("LOC", "C", 5)),
       _g("SG34", "C", 20,
          Seg("NAD", "M", 1), Seg("LOC", "C", 5),
          _g("SG35", "C", 5, *_RFF_DTM),
          _g("SG36", "C", 5, Seg("DOC", "M", 1), Seg("DTM", "C", 5)),
          _g("SG37", "C", 5, Seg("CTA", "M", 1), Seg("COM", "C", 5))),
       _g("SG38", "C", 15,
          Seg("ALC", "M", 1), Seg("ALI", "C", 5), Seg("DTM", "C", 5),
          _g("SG39", "C", 1, Seg("QTY", "M", 1), Seg("RNG", "C", 1)),
          _g("SG40", "C", 1, Seg("PCD", "M", 1), Seg("RNG", "C", 1)),
          _g("SG41", "C", 2, Seg("MOA", "M", 1), Seg("RNG", "C", 1)),
          _g("SG42", "C", 1, Seg("RTE", "M", 1), Seg("RNG", "C", 1)),
          _g("SG43", "C", 5, Seg("TAX", "M", 1), Seg("MOA", "C", 1))),
       _g("SG44", "C", 10,
          Seg("TDT", "M", 1),
          _g("SG45", "C", 10, Seg("LOC", "M", 1), Seg("DTM", "C", 5))),
       _g("SG46", "C", 5, Seg("TOD", "M", 1), Seg("LOC", "C", 2)),
       _g("SG47", "C", 100, Seg("RCS", "M", 1), Seg("RFF", "C", 5), Seg("DTM", "C", 5), Seg("FTX", "C", 5))),
    Seg("UNS", "M", 1),
    Seg("CNT", "C", 10),
    _g("SG48", "M", 100, Seg("MOA", "M", 1), _g("SG49", "C", 1, *_RFF_DTM)),
    _g("SG50", "C", 10, Seg("TAX", "M", 1), Seg("MOA", "C", 2)),
    _g("SG51", "C", 15, Seg("ALC", "M", 1), Seg("ALI", "C", 1), Seg("MOA", "C", 2)),
    Seg("UNT", "M", 1),
)
