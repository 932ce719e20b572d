"""`verify_bundle`: a complete, unaltered bundle of a supported format, or the reason it is not.

It refuses, naming the problem, a bundle that is incomplete, altered (a file or the manifest
itself: `manifest_sha256`), carries unlisted files,
lists unsafe paths or has another format version, before anything is loaded.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from vla_driving.bundle.manifest import (MANIFEST_FILE, BundleError, Manifest, bundle_files,
                                         content_digest, read_manifest, sha256_file)


def _check_path(rel: str) -> None:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise BundleError(f"manifest lists an unsafe path {rel!r}")


def verify_bundle(root: str | Path) -> Manifest:
    """The manifest of a complete, unaltered bundle; `BundleError` naming the first problem."""
    root = Path(root)
    manifest = read_manifest(root)
    if not manifest.manifest_sha256:
        raise BundleError(f"{root}: {MANIFEST_FILE} carries no manifest_sha256, so its own "
                          f"content is unprotected; re-write it with bundle.write_manifest")
    if content_digest(manifest.to_dict()) != manifest.manifest_sha256:
        raise BundleError(f"{root}: {MANIFEST_FILE} was altered (its content does not match its "
                          f"manifest_sha256)")
    if not manifest.files:
        raise BundleError(f"{root}: the manifest lists no files")
    for rel, entry in sorted(manifest.files.items()):
        _check_path(rel)
        path = root / rel
        if not path.is_file():
            raise BundleError(f"{root}: incomplete bundle, '{rel}' is missing")
        size = path.stat().st_size
        if size != entry.bytes:
            raise BundleError(f"{root}: '{rel}' was altered (size {size} bytes, manifest says "
                              f"{entry.bytes})")
        if sha256_file(path) != entry.sha256:
            raise BundleError(f"{root}: '{rel}' was altered (sha256 differs from the manifest)")
    unlisted = sorted(set(bundle_files(root)) - set(manifest.files))
    if unlisted:
        raise BundleError(f"{root}: files not in the manifest: {unlisted}")
    for rel in manifest.referenced_files():
        if rel not in manifest.files:
            raise BundleError(f"{root}: the manifest refers to '{rel}' but does not list it")
    return manifest
