"""`vla-driving eval replay BAG... --bundle B`: open-loop evaluation on recorded rosbag2 files.

Every bag is replayed through the planner's own ingest and planning cycle (deterministic, see
`evaluation.replay`) once per policy and condition: the bundle's model, the constant-velocity
baseline and the recorded expert, clean and under each requested corruption. The model plans
`--batch` cycles in one pass (open loop: its inputs are the recording's, never its own plans);
`--batch 1` plans one at a time and reports each plan's latency.
`--live` instead publishes the bags on ROS 2 with /clock so the running nodes are evaluated.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from vla_driving.config_cli import add_config_arguments, config_from_args
from vla_driving.configuration import ConfigError
from vla_driving.data.bag_reader import BagError, read_bag
from vla_driving.data.topics import BagTopics
from vla_driving.policy.base import PolicyUnavailableError
from vla_driving.evaluation.corruptions import CORRUPTIONS, SEVERITIES
from vla_driving.evaluation.live_eval import live_samples
from vla_driving.evaluation.mcap_export import McapFrame
from vla_driving.evaluation.policies import (EXPERT_RECORDED, MODEL, baseline_policies,
                                             load_model_policy, recorded_expert)
from vla_driving.evaluation.profiles import profile_path
from vla_driving.evaluation.replay import (Corruption, ReplayConfig, ReplayInputs,
                                           replay_policy)
from vla_driving.evaluation.report import (CLEAN, evaluate_runs, headline_rows, markdown_table,
                                           refuse_used_report_dir, to_jsonable, write_report)
from vla_driving.resources import find_bundle

LOG = logging.getLogger(__name__)
ALL = "all"
LIVE = "live_nodes"
REPLAY_PROFILE = profile_path("replay.yaml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bags", nargs="+", help="rosbag2 folders or .db3/.mcap files")
    parser.add_argument("--bundle", type=find_bundle, default="",
                        help="model bundle directory (omit: baselines only)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--out", type=Path, help="write the report directory here")
    parser.add_argument("--corruptions", nargs="*", default=[], metavar="NAME",
                        help=f"corruptions to evaluate besides clean ('{ALL}' or names from: "
                             f"{', '.join(CORRUPTIONS)})")
    parser.add_argument("--severity", type=int, default=3, choices=SEVERITIES)
    # replay options are ReplayConfig's fields (declared once, validated like YAML)
    add_config_arguments(parser, ReplayConfig)
    parser.add_argument("--odometry-topic", default=BagTopics().odometry,
                        help="nav_msgs/Odometry topic of the bags")
    parser.add_argument("--live", action="store_true",
                        help="publish the bags on ROS 2 with /clock for the running nodes")
    parser.add_argument("--rate", type=float, default=1.0, help="--live: playback speed factor")
    parser.add_argument("--publish-only", action="store_true",
                        help="--live: only publish (nodes run elsewhere); no evaluation")
    parser.add_argument("--profile", default=str(REPLAY_PROFILE),
                        help="--live: profile whose nodes are started and evaluated")


def _corruptions(names: list[str], severity: int) -> list[Corruption]:
    chosen = list(CORRUPTIONS) if ALL in names else names
    return [Corruption(n, severity) for n in chosen]


def _policies(bundle: str, cfg: ReplayConfig) -> dict:
    policies = {}
    if bundle:
        policies[MODEL] = load_model_policy(bundle, cfg.torch_threads, cfg.llm_kernel)
    policies.update(baseline_policies())
    return policies


def run_replay(bags: list, policies: dict, cfg: ReplayConfig, corruptions: list[Corruption]):
    """{condition: {policy: [EvalSample]}} and the MCAP frames of the clean condition.

    Each bag's frames are decoded and corrupted once per condition and its labels computed
    once, for all policies (`ReplayInputs`)."""
    runs, frames = {}, {}
    labels = {id(bag): {} for bag in bags}
    for condition in [None] + corruptions:
        label = CLEAN if condition is None else condition.label
        runs[label] = {name: [] for name in policies}
        for bag in bags:
            inputs = ReplayInputs(bag, condition, cfg.seed, labels[id(bag)])
            for name, policy in policies.items():
                run = replay_policy(bag, policy, cfg, condition, episode=Path(bag.path).name,
                                    inputs=inputs)
                runs[label][name] += run.samples
                if condition is None:
                    for s in run.samples:
                        if s.stamp_ns in run.inputs and s.plan is not None:
                            key = (s.episode, s.stamp_ns)
                            frame = frames.setdefault(key, McapFrame(
                                s.stamp_ns, run.inputs[s.stamp_ns], {}, s.true_waypoints))
                            frame.plans[name] = s.plan
        any_policy = next(iter(runs[label].values()), [])
        if any(s.true_waypoints is not None for s in any_policy):
            runs[label][EXPERT_RECORDED] = recorded_expert(any_policy)
    return runs, [frames[k] for k in sorted(frames)]


def run_live(args, cfg: ReplayConfig, topics: BagTopics) -> dict:
    """{"clean": {"live_nodes": samples}}: the running planner node's outputs on the bags."""
    from vla_driving.apps.bag_player import evaluate_live
    planner = ({"policy": "vla", "bundle": args.bundle} if args.bundle
               else {"policy": "constant_velocity"})
    outputs = evaluate_live(list(args.bags), args.profile, planner, args.rate)
    samples = []
    for path in args.bags:
        bag = read_bag(path, topics)
        samples += live_samples(bag, cfg.cameras[0], outputs[path], episode=Path(path).name)
    return {CLEAN: {LIVE: samples}}


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.live and args.publish_only:
        from vla_driving.apps.bag_player import play_bags_live
        return play_bags_live(args.bags, args.rate)
    if args.live:
        try:
            refuse_used_report_dir(args.out)
            cfg = config_from_args(ReplayConfig, args)
            topics = BagTopics().for_cameras(list(cfg.cameras))
            runs = run_live(args, cfg, topics)
        except (BagError, ConfigError, ValueError) as exc:
            print(f"vla-driving eval replay --live: {exc}", file=sys.stderr)
            return 2
        settings = {"title": "Live replay through the nodes", "bags": list(args.bags),
                    "bundle": args.bundle or "(none: constant-velocity planner)",
                    "profile": args.profile, "rate": args.rate}
        return _finish(args, runs, [], settings, {})
    try:
        refuse_used_report_dir(args.out)
        corruptions = _corruptions(args.corruptions, args.severity)
        cfg = config_from_args(ReplayConfig, args)
        topics = BagTopics().for_cameras(list(cfg.cameras))
        topics = BagTopics.from_dict({**topics.to_dict(), "odometry": args.odometry_topic})
        bags = [read_bag(b, topics) for b in args.bags]
        policies = _policies(args.bundle, cfg)
    except (BagError, PolicyUnavailableError, ValueError) as exc:
        print(f"vla-driving eval replay: {exc}", file=sys.stderr)
        return 2
    for bag in bags:
        for line in bag.report.lines():
            LOG.info("%s", line)
    runs, frames = run_replay(bags, policies, cfg, corruptions)
    if not any(runs[CLEAN].values()):
        print(f"vla-driving eval replay: no planning cycle ran: the bags have no frames on the "
              f"camera topics of {list(cfg.cameras)} (see --cameras)", file=sys.stderr)
        return 1
    settings = {"title": "Replay evaluation", "bags": [str(b) for b in args.bags],
                "bundle": args.bundle or "(none: baselines only)", "seed": cfg.seed,
                "severity": args.severity, "corruptions": [c.label for c in corruptions],
                "cameras": list(cfg.cameras), "config": cfg.to_dict()}
    return _finish(args, runs, frames, settings, policies)


def _finish(args, runs, frames, settings, policies) -> int:
    if args.out:
        document = write_report(args.out, runs, settings, mcap_frames=frames or None)
    else:
        document = to_jsonable({"settings": settings, "results": evaluate_runs(runs)})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2))
    print("\n".join(markdown_table(headline_rows(document["results"]))))
    if args.out:
        print(f"\nreport: {args.out / 'report.md'}")
    for policy in policies.values():
        policy.close()
    return 0
