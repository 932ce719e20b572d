"""Open a bag as it was handed over, without writing beside it.

Three things bags recorded by others need before `rosbags` reads them as they are:
- a sqlite3 file with a write-ahead log (`-wal`) left by a recording that was not closed: the
  log holds messages that an immutable read ignores, and applying it writes; so the files are
  copied to a temporary folder and the log is applied there;
- a bag folder copied without its metadata.yaml: its one storage file is read directly;
- metadata.yaml and the storage file spelling one offered QoS differently (the rosbag2 "talker"
  test bags: deadline 0 in the YAML, 2147483647 s / 4294967295 ns, rmw's "infinite", in the
  file). `rosbags` pairs the two by topic, type *and* QoS, so such a topic reads 0 messages
  without an error; here they are paired by topic and type, and the report says so.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

METADATA = "metadata.yaml"
STORAGE_SUFFIXES = (".db3", ".mcap")


def storage_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.suffix in STORAGE_SUFFIXES and p.is_file())


def has_metadata(path: Path) -> bool:
    return path.is_dir() and (path / METADATA).is_file()


def with_wal_applied(path: Path, tmp: Path, notes: list) -> Path:
    """`path`, or a copy under `tmp` with the write-ahead logs applied when any is left."""
    logged = [f for f in storage_files(path) if f.suffix == ".db3" and _wal(f).is_file()
              and _wal(f).stat().st_size > 0]
    if not logged:
        return path
    copy = tmp / path.name
    if path.is_file():
        files, copy_dir = [path, *map(_wal, logged)], tmp
    else:
        files = [f for f in path.iterdir() if f.is_file() and not f.name.endswith("-shm")]
        copy_dir = copy
        copy.mkdir()
    for f in files:
        shutil.copy2(f, copy_dir / f.name)
    for f in logged:
        con = sqlite3.connect(copy_dir / f.name)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
    notes.append(f"{', '.join(f.name for f in logged)}: a write-ahead log was left beside the "
                 "file (recording not closed); read from a copy with the log applied")
    return copy


def _wal(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def reader_path(path: Path) -> Path:
    """A folder without metadata.yaml but with one storage file is read as that file."""
    if path.is_dir() and not has_metadata(path):
        files = storage_files(path)
        if len(files) == 1:
            return files[0]
    return path


def pair_by_topic_and_type(reader, conns: list, notes: list) -> list:
    """The wanted connections, plus copies carrying the storage files' QoS where metadata.yaml
    spells it (or the type hash) differently (rosbags would yield none of their messages)."""
    storages = getattr(reader.storage, "storages", None) or []
    out, differs = list(conns), []
    for conn in conns:
        same = [s for st in storages for s in st.connections
                if s.topic == conn.topic and s.msgtype == conn.msgtype]
        if same and not any(_paired(conn, s) for s in same):
            differs.append(conn.topic)
            out += [conn._replace(ext=s.ext, digest=s.digest) for s in same]
    if differs:
        notes.append(f"{', '.join(differs)}: metadata.yaml's offered QoS or type hash differs "
                     "from the storage file's (rosbags pairs topics on both and would read 0 "
                     "messages); paired by topic and type")
    return out


def _paired(meta, stored) -> bool:
    """rosbags' own rule for pairing a metadata.yaml topic with a storage file's."""
    return meta.ext == stored.ext and (not meta.digest or not stored.digest
                                       or meta.digest == stored.digest)
