"""Read what is left of a bag `rosbags` cannot open (a recording cut short, a damaged file).

MCAP is read record by record from the start (the `mcap` package's stream reader) up to the
first broken record; sqlite3 rows are read in insertion order up to the first unreadable page.
Each yields (topic, msgtype, bag time, raw CDR) and records why it stopped.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class Salvage:
    """Iterable over the readable messages of a damaged bag; `stopped` says why it ended."""

    def __init__(self, path: Path):
        self.files = [path] if path.is_file() else sorted(
            p for p in path.iterdir() if p.suffix in (".mcap", ".db3"))
        if not self.files:
            raise FileNotFoundError(f"{path}: no .mcap or .db3 file to salvage")
        self.stopped = ""

    def __iter__(self):
        for f in self.files:
            reader = _mcap if f.suffix == ".mcap" else _sqlite
            try:
                yield from reader(f)
            except Exception as exc:   # the damage itself: stop here, keep what was read
                self.stopped = f"{f.name}: {type(exc).__name__}: {exc}"
                return


def _mcap(path: Path):
    try:
        from mcap.records import Channel, Message, Schema
        from mcap.stream_reader import StreamReader
    except ImportError as exc:  # pragma: no cover - the eval extra provides it
        raise RuntimeError("salvaging MCAP needs the 'mcap' package (pip install mcap)") from exc
    schemas, channels = {}, {}
    with open(path, "rb") as fh:
        for record in StreamReader(fh, skip_magic=False).records:
            if isinstance(record, Schema):
                schemas[record.id] = record.name
            elif isinstance(record, Channel):
                channels[record.id] = (record.topic, schemas.get(record.schema_id, ""))
            elif isinstance(record, Message) and record.channel_id in channels:
                topic, msgtype = channels[record.channel_id]
                yield topic, msgtype, int(record.log_time), bytes(record.data)


def _sqlite(path: Path):
    # immutable: a read-only open of a WAL-mode file would still create -wal/-shm beside it
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        topics = {i: (name, kind) for i, name, kind in
                  con.execute("SELECT id, name, type FROM topics")}
        for topic_id, stamp, data in con.execute(
                "SELECT topic_id, timestamp, data FROM messages ORDER BY id"):
            if topic_id in topics:
                yield topics[topic_id][0], topics[topic_id][1], int(stamp), bytes(data)
    finally:
        con.close()
