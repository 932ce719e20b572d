"""Checkpoints: save -> load gives identical outputs; only safetensors/JSON files, no pickle."""

import json

import pytest
import torch

from vla_driving.model.checkpoint import load_checkpoint, save_checkpoint
from vla_driving.model.tokenizer import TextTokenizer

from vla_test_helpers import inputs, small_model

torch.set_num_threads(1)


def _tokenizer() -> TextTokenizer:
    from vla_driving_training.tokenizer_train import train_tokenizer

    return train_tokenizer(["Scene: a road", "Trajectory: (1.0, 2.0)"] * 5, vocab_size=300)


def test_save_load_gives_identical_outputs(tmp_path):
    model, tok = small_model(seed=3), _tokenizer()
    save_checkpoint(model, tok, tmp_path / "ckpt", extra={"step": 7})
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        "config.json", "model.safetensors", "tokenizer.json"]
    loaded, tok2 = load_checkpoint(tmp_path / "ckpt")
    images, ego, past = inputs(batch=2, seed=1)
    prompts = [[1, 4, 5], [1, 6]]
    a = model(images, ego, past, prompts, [[7, 2], [8, 2]])
    b = loaded(images, ego, past, prompts, [[7, 2], [8, 2]])
    assert torch.equal(a.actions.waypoints, b.actions.waypoints)
    assert torch.equal(a.target_logits, b.target_logits)
    assert tok2.encode("Scene: (3.5, -1.0)") == tok.encode("Scene: (3.5, -1.0)")
    assert json.loads((tmp_path / "ckpt" / "config.json").read_text())["extra"] == {"step": 7}


def test_tied_embeddings_stay_tied_after_load(tmp_path):
    save_checkpoint(small_model(), _tokenizer(), tmp_path)
    loaded, _ = load_checkpoint(tmp_path)
    assert (loaded.llm.get_input_embeddings().weight.data_ptr()
            == loaded.llm.get_output_embeddings().weight.data_ptr())


def test_wrong_format_version_is_refused(tmp_path):
    save_checkpoint(small_model(), _tokenizer(), tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    meta["format"] = 99
    (tmp_path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format"):
        load_checkpoint(tmp_path)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_checkpoint(tmp_path)
