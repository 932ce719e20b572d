"""The training loop: staged, Accelerate-based (plain, `accelerate launch` or `torchrun`).

Each stage starts from the weights the previous one ended with, freezes what its config does not
name, and ends with a checkpoint in `<out>/<stage>/` and a validation table. Seeded: on CPU two
runs with the same config and data give the same weights.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from vla_driving.model.checkpoint import save_checkpoint

from .collate import collate_samples
from .config import StageConfig, TrainConfig
from .distill import Teachers
from .ema import ParamEMA
from .history_dropout import drop_history
from .token_probes import PROBES, TokenProbe
from .tasks import batch_loss, has_task_data
from .tokenizer_train import text_fields
from .validate import format_metrics, validate

LOG = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 5.0


def part_parameters(model, part: str) -> list[torch.nn.Parameter]:
    """Parameters of one named part (config names in `config.PARTS`)."""
    modules = {"vision": [model.frontend.encoder, model.frontend.aggregator],
               "projector": [model.frontend.projector], "llm": [model.llm],
               "state": [model.state_proj] if model.state_proj is not None else [],
               "head": [model.head]}
    if part == "queries":
        return [model.action_queries]
    return [p for m in modules[part] for p in m.parameters()]


def _probes(model, stage: StageConfig) -> dict[str, TokenProbe]:
    """The training-only heads (lead, lane) that a drive stage weighs, hooked to the frontend."""
    if "drive" not in stage.tasks:
        return {}
    heads = {}
    for key, kind in PROBES.items():
        if getattr(stage.weights, key) > 0:
            head = kind(model.cfg.vision.num_tokens, model.cfg.llm.hidden_size)
            head.to(next(model.parameters()).device)
            head.attach(model.frontend)
            heads[key] = head
    return heads


def set_trainable(model, parts: list[str]) -> list[torch.nn.Parameter]:
    for p in model.parameters():
        p.requires_grad_(False)
    params = [p for part in parts for p in part_parameters(model, part)]
    for p in params:
        p.requires_grad_(True)
    return params


def lr_lambda(stage: StageConfig):
    def factor(step: int) -> float:
        if step < stage.warmup_steps:
            return (step + 1) / stage.warmup_steps
        progress = (step - stage.warmup_steps) / max(1, stage.steps - stage.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return factor


def batches(loader, sampler_epoch_setter=None):
    """Endless iteration over epochs (reshuffled with a per-epoch seed)."""
    epoch = 0
    while True:
        if sampler_epoch_setter is not None:
            sampler_epoch_setter(epoch)
        yield from loader
        epoch += 1


def usable_tasks(dataset, tasks: list[str], probes: int = 64) -> list[str]:
    """The stage's tasks that some of `probes` evenly spaced samples can feed."""
    step = max(1, len(dataset) // probes)
    samples = [text_fields(dataset, i) for i in range(0, len(dataset), step)]
    return [t for t in tasks if any(has_task_data(s, t) for s in samples)]


def make_loader(train_set, cfg: TrainConfig, stage: StageConfig) -> DataLoader:
    """Shuffled with a seeded generator, or drawn class-balanced (`stage.balance`);
    Accelerate shards it across processes."""
    if stage.balance > 0:
        from .balance import balanced_sampler
        return DataLoader(train_set, batch_size=stage.batch_size, drop_last=True,
                          sampler=balanced_sampler(train_set, stage.balance, cfg.seed),
                          collate_fn=collate_samples, num_workers=cfg.num_workers)
    return DataLoader(train_set, batch_size=stage.batch_size, shuffle=True, drop_last=True,
                      collate_fn=collate_samples, num_workers=cfg.num_workers,
                      generator=torch.Generator().manual_seed(cfg.seed))


def run_stage(accelerator, model, tokenizer, train_set, val_set, cfg: TrainConfig,
              stage: StageConfig, out_dir: Path) -> dict:
    """Train one stage; returns its validation metrics (computed on the main process)."""
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    if "grpo" in stage.tasks:
        from .grpo import run_grpo_stage
        return run_grpo_stage(accelerator, model, tokenizer, train_set, val_set, cfg, stage,
                              out_dir)
    set_seed(cfg.seed)
    tasks = usable_tasks(train_set, stage.tasks)
    if not tasks:
        return _skip(accelerator, model, tokenizer, cfg, stage, out_dir)
    updates = Updates.for_stage(model, stage)
    loader = make_loader(train_set, cfg, stage)
    teachers = Teachers.load(stage.teachers, model.cfg, accelerator.device) if stage.teachers \
        else None
    ddp_model, updates.optimizer, loader, updates.scheduler = accelerator.prepare(
        model, updates.optimizer, loader, updates.scheduler)
    rng = random.Random(cfg.seed * 1009 + accelerator.process_index)
    history: list[float] = []
    bar = tqdm(total=stage.steps, desc=stage.name, disable=not accelerator.is_main_process,
               mininterval=PROGRESS_INTERVAL_S)
    data = batches(loader, getattr(loader, "set_epoch", None))
    start = time.perf_counter()
    ddp_model.train()
    last = min(stage.stop_after, stage.steps) if stage.stop_after else stage.steps
    for step in range(1, last + 1):
        batch = drop_history(next(data), stage.history_dropout, rng)
        loss, terms = batch_loss(ddp_model, model.cfg, tokenizer, batch, tasks,
                                 stage.weights, rng, stage.text_per_batch, teachers,
                                 stage.aux_per_batch, updates.probes)
        accelerator.backward(loss)
        updates.step(accelerator, stage)
        history.append(float(loss.detach()))
        rate = step * stage.batch_size * accelerator.num_processes / (time.perf_counter() - start)
        bar.set_postfix(loss=f"{history[-1]:.3f}", samples_s=f"{rate:.1f}")
        bar.update()
        if stage.checkpoint_every and step % stage.checkpoint_every == 0 and step < last:
            with updates.ema.applied() if updates.ema is not None else nullcontext():
                _save(accelerator, model, tokenizer, out_dir / stage.name, cfg, stage, step,
                      history)
    bar.close()
    updates.finish()
    _save(accelerator, model, tokenizer, out_dir / stage.name, cfg, stage, last, history)
    metrics = _validate(accelerator, model, tokenizer, val_set, cfg, out_dir / stage.name)
    accelerator.free_memory()
    return {"loss": history, "metrics": metrics, "seconds": time.perf_counter() - start}


def _skip(accelerator, model, tokenizer, cfg: TrainConfig, stage: StageConfig,
          out_dir: Path) -> dict:
    """A stage whose tasks the data cannot feed: its checkpoint is the weights it started from."""
    LOG.warning("stage %s: the data has nothing for tasks %s (no captions/QA?); skipped",
                stage.name, stage.tasks)
    _save(accelerator, model, tokenizer, out_dir / stage.name, cfg, stage, 0, [])
    return {"loss": [], "metrics": {}, "seconds": 0.0, "skipped": True}


@dataclass
class Updates:
    """What a stage updates and how (the drive and GRPO stages alike): the trainable parameters
    (the token probes' too), AdamW, the learning-rate schedule and the optional weight average."""
    params: list[torch.nn.Parameter]
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    ema: ParamEMA | None
    probes: dict[str, TokenProbe]

    @classmethod
    def for_stage(cls, model, stage: StageConfig) -> Updates:
        params = set_trainable(model, stage.trainable)
        probes = _probes(model, stage)
        for head in probes.values():
            params = params + list(head.parameters())
        optimizer = torch.optim.AdamW(params, lr=stage.lr, weight_decay=stage.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(stage))
        ema = ParamEMA(params, stage.ema_decay) if stage.ema_decay > 0 else None
        return cls(params, optimizer, scheduler, ema, probes)

    def step(self, accelerator, stage: StageConfig) -> None:
        """One optimizer step on the gradients of the last backward."""
        for head in self.probes.values():
            head.sync_grads(accelerator)
        if stage.grad_clip > 0:
            accelerator.clip_grad_norm_(self.params, stage.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update()

    def finish(self) -> None:
        """Unhook the token probes and keep the averaged weights (if any)."""
        for head in self.probes.values():
            head.detach()
        if self.ema is not None:
            self.ema.commit()


def _validate(accelerator, model, tokenizer, val_set, cfg: TrainConfig, directory: Path) -> dict:
    """The stage's validation table and `metrics.json` (main process; {} without a val set)."""
    metrics = {}
    if accelerator.is_main_process and val_set is not None and len(val_set):
        metrics = validate(model, tokenizer, val_set, cfg.val_samples, cfg.val_text_samples,
                           cfg.val_batch_size)
        print(format_metrics(directory.name, metrics), flush=True)
        (directory / "metrics.json").write_text(json.dumps(metrics, indent=2))
    accelerator.wait_for_everyone()
    return metrics


def _save(accelerator, model, tokenizer, directory: Path, cfg, stage, step, history) -> None:
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        save_checkpoint(model, tokenizer, directory, extra={
            "stage": stage.name, "step": step, "train_config": cfg.to_dict(),
            "last_loss": history[-1] if history else None})
        LOG.info("checkpoint %s (step %d)", directory, step)
    accelerator.wait_for_everyone()
