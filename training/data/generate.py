"""Generate many episodes, optionally over worker processes, with a progress bar."""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from .episode import EpisodeSpec, episode_seed, run_episode
from .gen_config import GenerateConfig

MANIFEST = "episodes.jsonl"


def plan(scenarios: list[str], episodes: int, seed: int) -> list[EpisodeSpec]:
    return [EpisodeSpec(s, i, episode_seed(seed, s, i)) for s in scenarios for i in range(episodes)]


def _run(args) -> dict:
    spec, out, cfg = args
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    return run_episode(spec, out, cfg)


def generate(specs: list[EpisodeSpec], out: Path, cfg: GenerateConfig, workers: int = 1,
             progress: bool = True) -> list[dict]:
    """Write every episode not already present under `out`; returns the summary rows."""
    out.mkdir(parents=True, exist_ok=True)
    todo = [s for s in specs if not (out / s.name).exists()]
    rows = []
    bar = tqdm(total=len(todo), unit="episode", disable=not progress)
    if workers <= 1:
        for spec in todo:
            rows.append(_run((spec, out, cfg)))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for row in pool.map(_run, [(s, out, cfg) for s in todo]):
                rows.append(row)
                bar.update()
    bar.close()
    with open(out / MANIFEST, "a") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    return rows
