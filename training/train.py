"""A whole training run: tokenizer, model sized from the data, stages 1-3 in order (and the
optional ones, such as GRPO, when named)."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

import torch

from vla_driving.model.checkpoint import load_checkpoint
from vla_driving.model.tokenizer import TextTokenizer
from vla_driving.model.vla import VLAModel

from .config import TrainConfig
from .loop import run_stage
from .tokenizer_train import tokenizer_from_dataset

LOG = logging.getLogger(__name__)
TOKENIZER_DIR = "tokenizer"


def make_accelerator():
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, DistributedDataParallelKwargs

    # Without a GPU, accelerate only recognises a torchrun/`accelerate launch` job with cpu=True.
    return Accelerator(
        cpu=not torch.cuda.is_available(),
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))


def fit_to_data(cfg: TrainConfig, sample: dict, vocab_size: int) -> TrainConfig:
    """Set frames/views from a sample's images and the vocabulary from the tokenizer."""
    frames, views = sample["images"].shape[:2]
    vision = dataclasses.replace(cfg.model.vision, num_frames=int(frames), num_views=int(views))
    llm = dataclasses.replace(cfg.model.llm, vocab_size=vocab_size)
    model = dataclasses.replace(cfg.model, vision=vision, llm=llm)
    return dataclasses.replace(cfg, model=model)


def build_tokenizer(cfg: TrainConfig, train_set, out_dir: Path, accelerator) -> TextTokenizer:
    """Main process trains and saves the tokenizer; the others load that file."""
    path = out_dir / TOKENIZER_DIR
    if accelerator.is_main_process:
        path.mkdir(parents=True, exist_ok=True)
        tokenizer_from_dataset(train_set, cfg.vocab_size, cfg.tokenizer_samples).save(path)
    accelerator.wait_for_everyone()
    return TextTokenizer.load(path)


def train(cfg: TrainConfig, train_set, val_set, out_dir: str | Path,
          resume_from: str | Path | None = None, stages: list[str] | None = None) -> dict:
    """Run the selected stages (by default all but the optional ones); returns per-stage loss
    history and metrics."""
    out_dir = Path(out_dir)
    accelerator = make_accelerator()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    if resume_from:
        model, tokenizer = load_checkpoint(resume_from)
        cfg = dataclasses.replace(cfg, model=model.cfg)
        model.train()
    else:
        tokenizer = build_tokenizer(cfg, train_set, out_dir, accelerator)
        cfg = fit_to_data(cfg, train_set[0], tokenizer.vocab_size)
        torch.manual_seed(cfg.seed)
        model = VLAModel(cfg.model)
        if cfg.model.llm.pretrained_dir:  # a real LLM keeps its layers, gets our vocabulary
            model.llm.resize_token_embeddings(tokenizer.vocab_size)
    model.to(accelerator.device)
    selected = [s for s in cfg.stages if (s.name in stages if stages else not s.optional)]
    if stages and len(selected) != len(stages):
        raise ValueError(f"unknown stage in {stages}; known: {[s.name for s in cfg.stages]}")
    results, start = {}, time.perf_counter()
    for stage in selected:
        results[stage.name] = run_stage(accelerator, model, tokenizer, train_set, val_set, cfg,
                                        stage, out_dir)
    total = time.perf_counter() - start
    if accelerator.is_main_process:
        summary = {name: {"seconds": r["seconds"], "final_loss": r["loss"][-1] if r["loss"] else None,
                          "metrics": r["metrics"]} for name, r in results.items()}
        summary["total_seconds"] = total
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return {"results": results, "model": model, "tokenizer": tokenizer, "config": cfg,
            "seconds": total}
