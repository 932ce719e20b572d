"""Generate many episodes: in this process, or as Ray tasks (a local instance by default, a
cluster unchanged with `address`), with a progress bar. An episode depends on its own seed
only, so the data does not depend on the number of workers; a worker that dies or an episode
that fails is retried once, then reported (never silently dropped)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from tqdm import tqdm

from .episode import EpisodeSpec, episode_seed, run_episode
from .gen_config import GenerateConfig

LOG = logging.getLogger(__name__)
MANIFEST = "episodes.jsonl"


def plan(scenarios: list[str], episodes: int, seed: int) -> list[EpisodeSpec]:
    return [EpisodeSpec(s, i, episode_seed(seed, s, i)) for s in scenarios for i in range(episodes)]


def episode_task(cfg_dict: dict, task: tuple) -> dict:
    """One episode (a sweep task: in whichever process runs it)."""
    spec, out = task
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    return run_episode(spec, Path(out), GenerateConfig.from_dict(cfg_dict))


class _Task(tuple):
    """(spec, out) with the names a sweep's failure report reads."""

    scenario = property(lambda self: self[0].scenario)
    seed = property(lambda self: self[0].seed)
    policy = property(lambda self: "expert")


def generate(specs: list[EpisodeSpec], out: Path, cfg: GenerateConfig, workers: int = 1,
             progress: bool = True, address: str | None = None) -> list[dict]:
    """Write every episode not already present under `out`; returns one summary row per
    episode, a failed one with its `error` (and no frames)."""
    from vla_driving.evaluation.sweep import run_sweep

    if cfg.commands:
        from vla_driving.sim.scenarios import SCENARIOS
        lacking = sorted({s.scenario for s in specs
                          if not cfg.scenario_commands(SCENARIOS[s.scenario].commands)})
        if lacking:
            raise ValueError(f"commands {cfg.commands}: scenario(s) {', '.join(lacking)} "
                             f"have none of them")
    out.mkdir(parents=True, exist_ok=True)
    todo = [_Task((s, str(out))) for s in specs if not (out / s.name).exists()]
    sweep = run_sweep(cfg, todo, workers, address, progress=progress, fn=episode_task,
                      desc="episodes", unit="episode")
    rows = []
    for o in sweep.outcomes:
        spec = o.task[0]
        if not o.ok:
            LOG.error("episode %s failed %d time(s): %s", spec.name, o.attempts, o.error)
        rows.append(o.row if o.ok else {"episode": spec.name, "scenario": spec.scenario,
                                        "seed": spec.seed, "frames": 0, "collision": False,
                                        "path": None, "error": o.error})
    with open(out / MANIFEST, "a") as fh:
        for row in rows:
            if row["path"] is not None:
                fh.write(json.dumps(row, sort_keys=True) + "\n")
    return rows
