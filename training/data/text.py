"""Text targets of a sample: scene description, behaviour justification and QA rounds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SampleText:
    description: str = ""
    justification: str = ""
    qa: list = field(default_factory=list)


def annotate(sample, lanes=None, seed: int = 0) -> SampleText:
    m = sample.labels.meta
    return SampleText("", f"The car will {m.text()}.", [])
