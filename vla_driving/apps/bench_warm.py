"""`vla-driving bench warm`: the first plan after configure, with and without the warm-up.

Each run is a fresh process (first-call costs are per process): it builds the planner's policy
as the node's configure does (`make_policy`, text off), with or without `warm_up`, then times
`--cycles` plans on a moving car's observations at the model's input size. `first / p50` is the
first plan over the median of the cycles after `STEADY_SKIP` (issue 21: warm, it should be ≤ 2).
Cold and warm runs alternate `--repeats` times; the table gives each run and the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from vla_driving.apps.tables import format_table
from vla_driving.resources import find_bundle

MS = 1000.0
STEADY_SKIP = 5
MODES = ("cold", "warm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=find_bundle, default="models/default",
                        help="bundle to benchmark")
    parser.add_argument("--cycles", type=int, default=30, help="plans per run (> 5)")
    parser.add_argument("--repeats", type=int, default=3, help="cold and warm runs, alternating")
    parser.add_argument("--json", default="", help="write the figures here")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)


def observations(vla, cycles: int):
    """A car at 5 m/s planned every 0.1 s: random images, two history sets 0.5 s apart."""
    import numpy as np

    from vla_driving.constants import NS_PER_S
    from vla_driving.types import EgoState, Observation

    spec, size = vla.processor.spec, vla.processor.image_size
    h, w = spec.resize or (size, size)
    rng = np.random.default_rng(0)
    frames = vla.num_frames
    for i in range(cycles):
        stamp = int((10.0 + 0.1 * i) * NS_PER_S)
        stamps = tuple(stamp - (frames - 1 - k) * NS_PER_S // 2 for k in range(frames))
        images = rng.integers(0, 255, (frames, len(vla.cameras), h, w, 3), dtype=np.uint8)
        yield Observation(stamp, images, vla.cameras, EgoState(stamp, x=0.5 * i, speed=5.0),
                          "keep the current lane", frame_stamps_ns=stamps)


def measure(bundle: str, mode: str, cycles: int) -> dict:
    """One run in this process: configure (load, warm-up if `mode` is warm), then `cycles` plans."""
    from vla_driving.policy.factory import make_policy
    from vla_driving.policy.planner_config import PlannerConfig

    cameras = json.loads((Path(bundle) / "manifest.json").read_text())["preprocessing"]["cameras"]
    start = time.perf_counter()
    policy = make_policy(PlannerConfig(bundle=bundle, text_period_s=0.0,
                                       ingest={"cameras": cameras}), warm_up=mode == "warm")
    configure_s = time.perf_counter() - start
    plans = []
    try:
        for obs in observations(policy.inner, cycles):   # inner: the VlaPolicy
            t = time.perf_counter()
            policy.infer(obs)
            plans.append((time.perf_counter() - t) * MS)
    finally:
        policy.close()
    p50 = statistics.median(plans[STEADY_SKIP:] or plans)
    return {"mode": mode, "configure_s": configure_s, "warm_up_ms": policy.warm_up_s * MS,
            "first_plan_ms": plans[0], "steady_p50_ms": p50, "ratio": plans[0] / p50,
            "cycles": len(plans)}


def _child(bundle: str, mode: str, cycles: int) -> dict:
    cmd = [sys.executable, "-m", "vla_driving.apps.bench_warm", "--child", mode,
           "--bundle", bundle, "--cycles", str(cycles)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    """Medians per mode: `first_plan_{mode}_ms`, `steady_p50_{mode}_ms`, `ratio_{mode}`."""
    out = {}
    for mode in MODES:
        mine = [r for r in runs if r["mode"] == mode]
        if mine:
            for key in ("first_plan_ms", "steady_p50_ms", "ratio", "warm_up_ms"):
                name = key.replace("_ms", f"_{mode}_ms") if key.endswith("_ms") else f"{key}_{mode}"
                out[name] = statistics.median(r[key] for r in mine)
    return out


def main(args) -> int:
    if args.child:
        print(json.dumps(measure(args.bundle, args.child, args.cycles)))
        return 0
    runs = [_child(args.bundle, mode, args.cycles) for _ in range(args.repeats) for mode in MODES]
    rows = [(r["mode"], f"{r['configure_s']:.1f}", f"{r['warm_up_ms']:.0f}",
             f"{r['first_plan_ms']:.0f}", f"{r['steady_p50_ms']:.0f}", f"{r['ratio']:.2f}")
            for r in runs]
    figures = {**summary(runs), "runs": runs, "cycles": args.cycles, "bundle": args.bundle}
    rows += [(f"median {m}", "", f"{figures.get(f'warm_up_{m}_ms', 0):.0f}",
              f"{figures[f'first_plan_{m}_ms']:.0f}", f"{figures[f'steady_p50_{m}_ms']:.0f}",
              f"{figures[f'ratio_{m}']:.2f}") for m in MODES if f"ratio_{m}" in figures]
    print(format_table(("run", "configure s", "warm-up ms", "first plan ms", "steady p50 ms",
                        "first / p50"), rows))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
