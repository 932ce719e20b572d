"""DAgger rounds: roll the current checkpoint out in closed loop, let the shadow expert label
the states it reached, train on the aggregate, and keep the checkpoint that drives best.

Round k (k = 0 is the starting checkpoint):
  1. export the checkpoint to a bundle (full precision: the run-time path, without GPTQ time);
  2. score it closed loop on the fixed validation routes (driving score beside val L2);
  3. (k < rounds) roll it out on training routes with the expert mixed in at beta0 * decay^k,
     writing the labelled episodes under `<data>/dagger/round_k/`;
  4. train the drive stage from it on the expert episodes plus every DAgger round so far
     (DAgger frames drawn with the share `dagger_share`) -> checkpoint k + 1.
The curve (round -> DS, collisions/km, L2, meta-action accuracy) is `OUT/dagger.json` and a
table in `OUT/dagger.md`; `OUT/best` is the checkpoint with the highest validation DS.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.evaluation.closed_loop import EXPERT, ClosedLoopConfig
from vla_driving.evaluation.closed_loop_scoring import aggregate
from vla_driving.evaluation.sweep import RouteTask, run_sweep
from vla_driving.sim.scenarios import SCENARIOS

from .rollout import beta_schedule, rollout_tasks, run_rollout

LOG = logging.getLogger(__name__)
MODEL, CV = "model", "constant_velocity"
DAGGER_DIR = "dagger"
BRAKING_KEYS = ("braking_expert", "braking_model", "braking_model_history_hidden")


@dataclass
class DaggerConfig(Config):
    """How many rounds, how much driving per round, and how the result is chosen."""

    rounds: int = param(3, "rollout + training rounds after the starting checkpoint", low=0,
                        high=100)
    scenarios: list[str] = param(["highway", "merge", "intersection", "roundabout"],
                                 "scenarios of the rollouts and validation routes", min_len=1)
    routes_per_scenario: int = param(6, "rollouts per scenario and round", low=1, high=10_000)
    duration_s: float = param(20.0, "simulated time per rollout", low=2.0, high=600.0)
    beta0: float = param(0.5, "share of segments the expert drives in round 0", low=0.0,
                         high=1.0)
    decay: float = param(0.5, "beta is multiplied by this every round", low=0.0, high=1.0)
    drive_steps: int = param(1500, "drive-stage steps per round (from the previous round)",
                             low=1, high=1_000_000)
    lr: float = param(5e-4, "peak learning rate of the rounds' drive stages", low=1e-7, high=1.0)
    dagger_share: float = param(0.5, "share of training samples drawn from DAgger frames (0: "
                                "none; the round trains on the expert episodes alone)",
                                low=0.0, high=0.95)
    tasks: list[str] = param([], "tasks of the rounds' drive stages (empty: the preset's, e.g. "
                             "drive with qa and caption in the default family); drive alone "
                             "trains the plan only", choices=("drive", "qa", "caption"))
    balance: float = param(0.0, "class-balanced sampling of the rounds' drive stages: frames "
                           "drawn by the inverse frequency of their meta-action class to this "
                           "power (0: as the preset)", low=0.0, high=1.0)
    history_dropout: float = param(0.0, "past-motion dropout of the rounds' drive stages: "
                                   "share of samples whose acceleration and past are hidden "
                                   "(0: as the preset)", low=0.0, high=1.0)
    lead: float = param(0.0, "weight of the lead-car loss on the visual tokens in the rounds' "
                        "drive stages (LossWeights.lead; 0: as the preset)", low=0.0)
    lane: float = param(0.0, "weight of the lane loss (the ego's offset and heading in its "
                        "lane) on the visual tokens in the rounds' drive stages "
                        "(LossWeights.lane; 0: as the preset)", low=0.0)
    ema_decay: float = param(0.0, "the rounds' drive stages save and validate an exponential "
                             "moving average of their weights with this decay (0: as the "
                             "preset)", low=0.0, high=0.9999)
    val_seeds: list[int] = param([3000, 3001, 3002], "validation route seeds (never the held-out "
                                 "1000.. of `eval closed-loop`)", min_len=1)
    val_baselines: bool = param(True, "also score constant velocity and the expert on the "
                                "validation routes in round 0 (off: the model only, when their "
                                "figures are known from an earlier run)")
    val_duration_s: float = param(20.0, "simulated time per validation route", low=2.0,
                                  high=600.0)
    looks: list[str] = param(["bev"], "camera looks the rollouts take turns with (bev, "
                             "highway_env: train for both renderers)", min_len=1)
    intervene: bool = param(False, "the expert also takes a segment over when the policy is "
                            "over 1 m or 0.2 rad off its lane or the expert brakes harder than "
                            "3 m/s^2 (HG-DAgger): rollouts last past the policy's first mistake")
    train_threads: int = param(1, "torch threads of the rounds' training (more than the free "
                               "cores makes every step wait on its slowest thread)", low=1,
                               high=256)
    seed: int = param(0, "seeds the rollouts' routes and commands", low=0)

    def validate(self) -> None:
        if self.tasks and "drive" not in self.tasks:
            raise ConfigError(f"tasks {self.tasks}: a DAgger round trains the plan, so they "
                              f"must include drive")


class Aggregate:
    """The expert episodes plus DAgger frames repeated to make up `share` of the samples (none
    at share 0: a control run that tells what the DAgger frames change)."""

    def __init__(self, base, extra: list, share: float):
        self.parts = [base] + list(extra)
        n_extra = sum(len(d) for d in extra)
        repeat = 0
        if n_extra and share > 0:
            repeat = max(1, round(share * len(base) / ((1 - share) * n_extra)))
        self.items = [(0, i) for i in range(len(base))] + [
            (p, i) for p, d in enumerate(extra, start=1) for _ in range(repeat)
            for i in range(len(d))]
        self.repeat = repeat

    def meta_classes(self) -> list[tuple[int, int]]:
        from ..balance import meta_classes
        per_part = [meta_classes(p) for p in self.parts]
        return [per_part[p][i] for p, i in self.items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        p, i = self.items[index]
        return self.parts[p][i]


def run_dagger(cfg: DaggerConfig, train_cfg, data: Path, start: Path, out: Path,
               workers: int = 1, address: str | None = None, profile: str | None = None,
               extra_data: list[Path] = ()) -> dict:
    """Rounds 0..cfg.rounds from checkpoint `start`; returns the curve and the best round.
    `extra_data`: more expert episodes (e.g. another camera look) trained on beside `data`'s
    train split."""
    from ..data.dataset import DrivingDataset

    out.mkdir(parents=True, exist_ok=True)
    train_set, val_set = _expert_episodes(data, extra_data, _vision(start))
    loop_cfg = _loop_config(cfg, profile)
    rounds, extra, ckpt = [], [], Path(start)
    for k in range(cfg.rounds + 1):
        t0 = time.perf_counter()
        bundle = _export(ckpt, out / f"round{k:02d}" / "bundle", val_set)
        row = {"round": k, "checkpoint": str(ckpt), **_validate(cfg, loop_cfg, bundle,
                                                                 k == 0 and cfg.val_baselines,
                                                                 workers, address),
               **_open_loop(ckpt, val_set, train_cfg)}
        if k < cfg.rounds:
            figures, bags = _rollouts(cfg, loop_cfg, k, bundle, Path(data), workers, address)
            extra.append(DrivingDataset(bags, train_set.cfg))
            mixed = Aggregate(train_set, extra, cfg.dagger_share)
            row.update(figures, dagger_frames=sum(len(d) for d in extra),
                       dagger_repeat=mixed.repeat)
            ckpt = _train_round(train_cfg, cfg, mixed, val_set, ckpt, out / f"round{k + 1:02d}")
        row["seconds"] = time.perf_counter() - t0
        rounds.append(row)
        _write_report(out, rounds)
        LOG.info("round %d: DS %.1f, val L2 %.2f m", k, row["val"][MODEL]["driving_score"],
                 row.get("l2_avg") or float("nan"))
    best = max(rounds, key=lambda r: r["val"][MODEL]["driving_score"])
    if (out / "best").exists():
        shutil.rmtree(out / "best")
    shutil.copytree(best["checkpoint"], out / "best")
    result = {"rounds": rounds, "best_round": best["round"], "best": str(out / "best")}
    (out / "dagger.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def _expert_episodes(data: Path, extra_data: list[Path], vision):
    """The train split of `data` plus every bag under `extra_data`, and the val split."""
    from torch.utils.data import ConcatDataset

    from ..data.dataset import DrivingDataset
    from ..data.index import find_bags
    from ..data_source import open_splits

    train_set, val_set = open_splits(str(data), vision.image_size, vision.num_frames,
                                     vision.frame_interval_s)
    more = [b for d in extra_data for b in find_bags(Path(d))]
    if more:
        train_set = ConcatDataset([train_set, DrivingDataset(more, train_set.cfg)])
        train_set.cfg = val_set.cfg
    return train_set, val_set


def _rollouts(cfg: DaggerConfig, loop_cfg: ClosedLoopConfig, k: int, bundle: Path, data: Path,
              workers: int, address: str | None) -> tuple[dict, list[Path]]:
    """Round k's rollouts of `bundle`, labelled by the shadow expert and written under
    `<data>/dagger/round_k/`: the curve's figures and the bags."""
    beta = beta_schedule(cfg.beta0, cfg.decay, k)
    commands = {s: list(SCENARIOS[s].commands) for s in cfg.scenarios}
    looks = tuple("" if look == "bev" else look for look in cfg.looks)
    tasks = rollout_tasks(cfg.scenarios, commands, cfg.routes_per_scenario, k, beta,
                          data / DAGGER_DIR / f"round{k:02d}", {"bundle": str(bundle)},
                          cfg.seed, looks, cfg.intervene)
    sweep = run_sweep(dataclasses.replace(loop_cfg, duration_s=cfg.duration_s), tasks,
                      workers, address, fn=run_rollout, desc=f"round {k} rollouts")
    rows = [o.row for o in sweep.outcomes if o.ok]
    figures = {"beta": beta, "rollouts": len(rows), "rollouts_failed": len(sweep.failed()),
               "rollout_ds": aggregate(rows).get("driving_score"),
               "interventions": sum(r.get("interventions", 0) for r in rows),
               "rollout_x_realtime": sum(r["sim_s"] for r in rows) / sweep.wall_s}
    return figures, [Path(r["path"]) for r in rows]


def _vision(checkpoint: Path):
    from vla_driving.model.checkpoint import read_config
    from vla_driving.model.config import VLAConfig

    return VLAConfig.from_dict(read_config(checkpoint)["vla"]).vision


def _loop_config(cfg: DaggerConfig, profile: str | None) -> ClosedLoopConfig:
    extra = {"profile": profile} if profile else {}
    return ClosedLoopConfig.from_dict({"scenarios": cfg.scenarios, "seeds": cfg.val_seeds,
                                       "duration_s": cfg.val_duration_s, **extra})


def _export(checkpoint: Path, out: Path, val_set) -> Path:
    """A full-precision bundle of the checkpoint (what the planner loads)."""
    from vla_driving.export.pipeline import ExportSettings, build_bundle

    if out.exists():
        shutil.rmtree(out)
    check = [val_set[i] for i in range(0, len(val_set), max(1, len(val_set) // 4))][:4]
    build_bundle(checkpoint, out, [], check, ExportSettings(quantize=False),
                 cameras=list(val_set.cfg.cameras))
    return out


def _validate(cfg: DaggerConfig, loop_cfg: ClosedLoopConfig, bundle: Path, baselines: bool,
              workers: int, address: str | None) -> dict:
    """Driving score of the bundle (and, in round 0, of constant velocity and the expert) on
    the validation routes."""
    planners = {MODEL: {"policy": "vla", "bundle": str(bundle)}}
    if baselines:
        planners[CV] = {"policy": "constant_velocity"}
    tasks = [RouteTask.make(s, seed, name, p) for s in loop_cfg.scenarios
             for seed in loop_cfg.seeds for name, p in planners.items()]
    if baselines:
        tasks += [RouteTask.make(s, seed, EXPERT, None) for s in loop_cfg.scenarios
                  for seed in loop_cfg.seeds]
    sweep = run_sweep(loop_cfg, tasks, workers, address, desc="validation routes")
    names = list(planners) + ([EXPERT] if baselines else [])
    val = {n: _summary(sweep.rows(n)) for n in names}
    for n in names:
        val[n]["by_scenario"] = {s: _summary([r for r in sweep.rows(n) if r["scenario"] == s])
                                 for s in loop_cfg.scenarios}
    return {"val": val, "val_failed": len(sweep.failed())}


def _summary(rows: list[dict]) -> dict:
    agg = aggregate(rows)
    keys = ("routes", "driving_score", "route_completion", "collisions_per_km",
            "lateral_accel_p95_mean", "instruction_success_rate")
    return {k: agg.get(k) for k in keys}


def _open_loop(checkpoint: Path, val_set, train_cfg) -> dict:
    """The checkpoint's validation figures: those its training stage wrote, else measured now
    on the same val frames."""
    path = Path(checkpoint) / "metrics.json"
    m = json.loads(path.read_text()) if path.is_file() else {}
    if "l2" not in m and val_set is not None and len(val_set):
        from vla_driving.model.checkpoint import load_checkpoint

        from ..validate import validate

        model, tokenizer = load_checkpoint(checkpoint)
        m = validate(model, tokenizer, val_set, train_cfg.val_samples, 0,
                     train_cfg.val_batch_size)
    if "l2" not in m:
        return {}
    hidden = m.get("history_hidden", {}).get("braking", {})
    return {"l2_avg": m["l2"]["avg"], "cv_l2_avg": m["l2_constant_velocity"]["avg"],
            "meta_weighted_accuracy": m["meta"]["weighted_accuracy"],
            "braking_expert": m.get("braking", {}).get("expert"),
            "braking_model": m.get("braking", {}).get("model"),
            "braking_model_history_hidden": hidden.get("model")}


def round_stage(train_cfg, cfg: DaggerConfig):
    """The preset's drive stage as a round trains it: from the previous round, `drive_steps`
    at `lr`, no teachers, with the round's tasks, balance, history dropout, lead-car and lane
    losses and weight average where given."""
    drive = next(s for s in train_cfg.stages if s.name == "drive")
    return dataclasses.replace(drive, steps=cfg.drive_steps, lr=cfg.lr,
                               warmup_steps=min(drive.warmup_steps, cfg.drive_steps // 10),
                               checkpoint_every=0, teachers=[],
                               balance=cfg.balance or drive.balance,
                               history_dropout=cfg.history_dropout or drive.history_dropout,
                               ema_decay=cfg.ema_decay or drive.ema_decay,
                               weights=dataclasses.replace(
                                   drive.weights, lead=cfg.lead or drive.weights.lead,
                                   lane=cfg.lane or drive.weights.lane),
                               tasks=list(cfg.tasks) or drive.tasks)


def _train_round(train_cfg, cfg: DaggerConfig, train_set, val_set, start: Path,
                 out: Path) -> Path:
    from ..train import train

    round_cfg = dataclasses.replace(train_cfg, stages=[round_stage(train_cfg, cfg)],
                                    threads=cfg.train_threads)
    train(round_cfg, train_set, val_set, out, resume_from=start, stages=["drive"])
    return out / "drive"


def _write_report(out: Path, rounds: list[dict]) -> None:
    (out / "dagger.json").write_text(json.dumps({"rounds": rounds}, indent=2, default=str))
    (out / "dagger.md").write_text(curve_table(rounds))


def curve_table(rounds: list[dict]) -> str:
    """Markdown: round, beta, validation DS / collisions per km (model; baselines of round 0),
    val L2, meta-action accuracy and the braking probe (travel / constant velocity's on the
    expert's braking frames: expert, model, model without its past motion)."""
    fmt = lambda v, f="{:.1f}": "n/a" if v is None else f.format(v)  # noqa: E731
    lines = ["| round | beta | DAgger frames | DS (val routes) | collisions/km | val L2 avg (m) "
             "| CV L2 avg (m) | meta-action acc. | braking: expert / model / no past |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rounds:
        m = r["val"][MODEL]
        lines.append(f"| {r['round']} | {fmt(r.get('beta'), '{:.3f}')} | "
                     f"{r.get('dagger_frames', '')} | {fmt(m['driving_score'])} | "
                     f"{fmt(m['collisions_per_km'], '{:.2f}')} | {fmt(r.get('l2_avg'), '{:.2f}')} | "
                     f"{fmt(r.get('cv_l2_avg'), '{:.2f}')} | "
                     f"{fmt(r.get('meta_weighted_accuracy'), '{:.1%}')} | "
                     f"{' / '.join(fmt(r.get(k), '{:.2f}') for k in BRAKING_KEYS)} |")
    base = rounds[0]["val"] if rounds else {}
    for name in (CV, EXPERT):
        if name in base:
            lines.append(f"| {name} | | | {fmt(base[name]['driving_score'])} | "
                         f"{fmt(base[name]['collisions_per_km'], '{:.2f}')} | | | | |")
    return "\n".join(lines) + "\n"
