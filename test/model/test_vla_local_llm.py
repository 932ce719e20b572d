"""A real LLM comes from a local Hugging Face directory (never a hub): weights are the dir's."""

import dataclasses

import pytest
import torch

from vla_driving.model.config import LLMConfig
from vla_driving.model.llm import build_llm
from vla_driving.model.vla import VLAModel

from vla_test_helpers import inputs, small_config


def test_llm_from_local_directory(tmp_path):
    torch.manual_seed(5)
    source = build_llm(LLMConfig(hidden_size=32, intermediate_size=64, num_layers=2,
                                 num_heads=4, num_kv_heads=2, vocab_size=64))
    source.save_pretrained(tmp_path, safe_serialization=True)
    cfg = small_config()
    cfg = dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm, pretrained_dir=str(tmp_path)))
    model = VLAModel(cfg).eval()
    assert torch.equal(model.llm.get_input_embeddings().weight,
                       source.get_input_embeddings().weight)
    images, ego, past = inputs(batch=1)
    assert model(images, ego, past, [[1, 2, 3]]).actions.waypoints.shape == (1, 6, 2)


def test_missing_local_directory_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a local directory"):
        build_llm(LLMConfig(pretrained_dir=str(tmp_path / "nope")))
