"""Reference texts of a frame as simulator bags carry them (`/sim/reference/...` topics).

One std_msgs/String JSON per labelled frame and kind, written at the frame's stamp with the
stamp inside (a String has no header): `{"stamp_ns": ..., "text": ...}` for the scene caption
and the justification, `{"stamp_ns": ..., "qa": [[question, answer], ...]}` for the QA rounds.
The training package's annotator writes them (`training/data/references.py`); replay
reads them here, so it scores text without importing the training package. Car bags have none.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass

from vla_driving.constants import NS_PER_S

DESCRIPTION = "reference_description"
JUSTIFICATION = "reference_justification"
QA = "reference_qa"
KINDS = (DESCRIPTION, JUSTIFICATION, QA)
MATCH_TOLERANCE_S = 0.05   # the dataset's camera sync tolerance


@dataclass(frozen=True)
class FrameReferences:
    """The reference texts of one frame ('' / () where the bag has none of a kind)."""

    description: str = ""
    justification: str = ""
    qa: tuple[tuple[str, str], ...] = ()


def text_json(stamp_ns: int, text: str) -> str:
    return json.dumps({"stamp_ns": int(stamp_ns), "text": str(text)})


def qa_json(stamp_ns: int, rounds) -> str:
    return json.dumps({"stamp_ns": int(stamp_ns), "qa": [[str(q), str(a)] for q, a in rounds]})


def parse_reference(kind: str, data: str, bag_stamp_ns: int) -> tuple[int, object]:
    """(frame stamp, text or QA rounds) of one message; raises ValueError when malformed."""
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError(f"{kind}: expected a JSON object, got {type(payload).__name__}")
    stamp = int(payload.get("stamp_ns", bag_stamp_ns))
    if kind == QA:
        rounds = payload.get("qa")
        if not isinstance(rounds, list) or not all(
                isinstance(r, list) and len(r) == 2 for r in rounds):
            raise ValueError(f"{kind}: 'qa' must be a list of [question, answer]")
        return stamp, tuple((str(q), str(a)) for q, a in rounds)
    text = payload.get("text")
    if not isinstance(text, str):
        raise ValueError(f"{kind}: 'text' must be a string")
    return stamp, text


def _nearest(items: dict, stamp_ns: int, tolerance_ns: int):
    if not items:
        return None
    stamps = sorted(items)
    i = bisect_left(stamps, stamp_ns)
    best = min((j for j in (i - 1, i) if 0 <= j < len(stamps)),
               key=lambda j: abs(stamps[j] - stamp_ns))
    return items[stamps[best]] if abs(stamps[best] - stamp_ns) <= tolerance_ns else None


def references_at(references: dict, stamp_ns: int,
                  tolerance_s: float = MATCH_TOLERANCE_S) -> FrameReferences | None:
    """The references of the frame nearest `stamp_ns` (within `tolerance_s`), from a read bag's
    `BagData.references` ({kind: {stamp: value}}); None when the frame has none of any kind."""
    tol = int(tolerance_s * NS_PER_S)
    found = {kind: _nearest(references.get(kind, {}), stamp_ns, tol) for kind in KINDS}
    if all(v is None for v in found.values()):
        return None
    return FrameReferences(found[DESCRIPTION] or "", found[JUSTIFICATION] or "",
                           tuple(found[QA] or ()))
