"""Fixtures for the export tests (helpers in export_test_helpers.py)."""

import pytest
import torch

from export_test_helpers import GROUP_SIZE, make_checkpoint, tiny_samples  # noqa: F401

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny")


@pytest.fixture(scope="session")
def samples():
    return tiny_samples(12)
