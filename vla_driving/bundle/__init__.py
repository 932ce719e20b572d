"""Model bundles: the manifest, its reading and writing, and verification (no model, no backend).

Loading a verified bundle into runnable parts is the policy's business
(`vla_driving.policy.bundle_loader`); this floor only knows files, hashes and JSON.
"""

from vla_driving.bundle.manifest import (ENCODER, ENGINE_CACHE_DIR, FORMAT, FORMAT_VERSION,
                                         MANIFEST_FILE, SUPPORTED_FORMAT_VERSIONS, BundleError,
                                         FileEntry, Manifest, bundle_files, format_version_for,
                                         read_manifest, sha256_file, write_manifest)
from vla_driving.bundle.verify import verify_bundle

__all__ = ["ENCODER", "ENGINE_CACHE_DIR", "FORMAT", "FORMAT_VERSION", "MANIFEST_FILE",
           "SUPPORTED_FORMAT_VERSIONS", "BundleError", "FileEntry", "Manifest", "bundle_files",
           "format_version_for", "read_manifest",
           "sha256_file", "verify_bundle", "write_manifest"]
