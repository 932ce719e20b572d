"""Checkpoints: safetensors weights + JSON configs + tokenizer.json. No pickle anywhere.

    <dir>/model.safetensors   all weights (shared/tied tensors handled by safetensors)
    <dir>/config.json         {"format": 1, "vla": VLAConfig, "llm": Hugging Face config}
    <dir>/tokenizer.json      the BPE tokenizer
"""

from __future__ import annotations

import json
from pathlib import Path

from vla_driving.model.config import VLAConfig
from vla_driving.model.llm import llm_from_hf_config
from vla_driving.model.tokenizer import TextTokenizer
from vla_driving.model.vla import VLAModel

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def save_checkpoint(model: VLAModel, tokenizer: TextTokenizer, directory: str | Path,
                    extra: dict | None = None) -> Path:
    """Write weights, configs and tokenizer to `directory` (created if missing)."""
    from safetensors.torch import save_model

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_model(model, str(directory / WEIGHTS_FILE))
    meta = {"format": FORMAT_VERSION, "vla": model.cfg.to_dict(),
            "llm": model.llm.config.to_diff_dict(), "extra": extra or {}}
    meta["llm"]["model_type"] = model.llm.config.model_type
    (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
    tokenizer.save(directory)
    return directory


def read_config(directory: str | Path) -> dict:
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_FILE} in checkpoint {directory}")
    meta = json.loads(path.read_text())
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format {meta.get('format')!r}, "
                         f"this code reads {FORMAT_VERSION}")
    return meta


def load_checkpoint(directory: str | Path, device: str = "cpu") -> tuple[VLAModel, TextTokenizer]:
    """Rebuild the model from its JSON configs and load the safetensors weights (strict)."""
    from safetensors.torch import load_model

    directory = Path(directory)
    meta = read_config(directory)
    cfg = VLAConfig.from_dict(meta["vla"])
    model = VLAModel(cfg, llm=llm_from_hf_config(meta["llm"]))
    load_model(model, str(directory / WEIGHTS_FILE), strict=True, device=device)
    model.eval()
    return model, TextTokenizer.load(directory)
