"""`vla-driving export verify BUNDLE`: check a bundle's manifest and hashes, print its files."""

from __future__ import annotations

import argparse
import sys

from vla_driving.bundle import BundleError, verify_bundle
from vla_driving.resources import find_bundle


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=find_bundle, help="bundle directory (with manifest.json)")


def main(args: argparse.Namespace) -> int:
    from vla_driving.apps.tables import manifest_table

    try:
        manifest = verify_bundle(args.bundle)
    except BundleError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(manifest_table(manifest))
    print(f"\nOK: bundle '{manifest.name}' (format version {manifest.format_version}), "
          f"{len(manifest.files)} files verified, precisions {manifest.precision}")
    return 0
