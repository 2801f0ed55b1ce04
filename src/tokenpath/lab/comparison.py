"""Two runs side by side: every (secret, place) either run shows, and where they differ.

Used by the lab's Compare page and by ``tokenpath compare``. A row *differs* when the secret
reached the place in one run and not in the other; a row in a browser-visible place is marked,
because that is the difference the code and implicit flows exist to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lab.exposures import BROWSER_PLACES, PLACES, SECRETS, Exposure

__all__ = ["ComparedRow", "compare", "side_by_side_text"]


@dataclass(frozen=True, slots=True)
class ComparedRow:
    secret: str
    place: str
    left: float | None
    right: float | None

    @property
    def differs(self) -> bool:
        return (self.left is None) != (self.right is None)

    @property
    def browser_visible(self) -> bool:
        return self.place in BROWSER_PLACES


def compare(left: list[Exposure], right: list[Exposure]) -> list[ComparedRow]:
    a = {(x.secret, x.place): x.seconds for x in left}
    b = {(x.secret, x.place): x.seconds for x in right}
    keys = sorted(set(a) | set(b), key=lambda k: (list(SECRETS).index(k[0]), PLACES.index(k[1])))
    return [ComparedRow(s, p, a.get((s, p)), b.get((s, p))) for s, p in keys]


def _cell(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f} s"


def side_by_side_text(left_flow: str, right_flow: str, rows: list[ComparedRow]) -> str:
    """A plain-text table: ``*`` marks a difference, ``B`` a browser-visible place."""
    header = ("secret", "place", left_flow, right_flow)
    lines = [(r.secret, r.place, _cell(r.left), _cell(r.right)) for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(4)]
    out = []
    for index, line in enumerate([header, *lines]):
        row = rows[index - 1] if index else None
        mark = (
            ("*" if row.differs else " ") + ("B" if row.browser_visible else " ") if row else "  "
        )
        out.append(
            mark + " " + "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True))
        )
    out.append("")
    out.append("* the secret reached this place in one run only;  B a place the browser exposes")
    return "\n".join(out)
