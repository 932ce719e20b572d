"""Plain-text tables for the export and bench CLIs (the CLIs print them; this only formats)."""

from __future__ import annotations

from typing import Any, Sequence

KIB = 1024.0


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < KIB or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= KIB
    return f"{size:.1f} GiB"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def manifest_table(manifest) -> str:
    """Files of a bundle with sizes and the precision of the part each belongs to."""
    parts = {e["file"]: (name, e.get("precision", "")) for name, e in manifest.engines.items()}
    parts[manifest.weights["file"]] = ("encoder+projector+head (torch)",
                                       manifest.weights.get("precision", ""))
    parts[manifest.tokenizer] = ("tokenizer", "")
    rows = []
    for rel, entry in sorted(manifest.files.items()):
        part, precision = parts.get(rel, ("", ""))
        if rel.startswith(manifest.llm["dir"] + "/"):
            part, precision = f"llm ({manifest.llm['format']})", manifest.llm.get("precision", "")
        rows.append((rel, human_bytes(entry.bytes), part, precision, entry.sha256[:12]))
    return format_table(("file", "size", "part", "precision", "sha256"), rows)
