"""`vla-driving bench cameras`: simulator speed with and without the perspective cameras.

Each mode runs in a fresh process pinned to one core (`--cpu`; panda3d's llvmpipe then renders
on that core too): the simulator steps `--routes` episodes of `--seconds` at `--step-hz`, driven
by the shadow expert as in data generation, and renders the cameras at `--camera-hz`. Modes:
`sim` (no cameras), `bev` (the two bird's-eye views), `perspective` (the `--cameras`, default
front, front_left, front_right at 320x180) and `perspective+jpeg` (also JPEG-encoded, as the
generator records them). Only the stepping loop is timed (episode set-up is not). `x real time`
is simulated seconds per wall second (issue 16 asks >= 2 with three cameras at 10 Hz). The
modes run `--repeats` times, interleaved; the table gives medians and the range.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from vla_driving.apps.tables import format_table

MODES = ("sim", "bev", "perspective", "perspective+jpeg")
MS = 1000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="highway", help="simulator scenario")
    parser.add_argument("--routes", type=int, default=3, help="episodes per mode (seeds 0..N-1)")
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated seconds each")
    parser.add_argument("--step-hz", type=float, default=10.0, help="simulator steps per second")
    parser.add_argument("--camera-hz", type=float, default=10.0, help="camera frames per second")
    parser.add_argument("--cameras", nargs="+", default=["front", "front_left", "front_right"],
                        help="perspective cameras (sim.perspective.names)")
    parser.add_argument("--width", type=int, default=320, help="perspective image width")
    parser.add_argument("--height", type=int, default=180, help="perspective image height")
    parser.add_argument("--cpu", type=int, default=0, help="the core every mode is pinned to "
                        "(-1: no pinning)")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--repeats", type=int, default=3, help="runs of every mode, the modes "
                        "interleaved; the table gives medians (a shared machine's load moves "
                        "single runs by 2x)")
    parser.add_argument("--json", default="", help="write the figures here")
    parser.add_argument("--sample", default="", help="also save one frame of every rig camera "
                        "(seed 0, after --sample-s) as a labelled PNG strip here")
    parser.add_argument("--sample-s", type=float, default=4.0, help="simulated seconds before "
                        "the sample frame")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)


def sim_config(args, mode: str):
    from vla_driving.sim import SimConfig
    from vla_driving.sim.camera_config import PerspectiveConfig

    rig = PerspectiveConfig(width=args.width, height=args.height)
    if mode == "bev":
        return SimConfig(step_hz=args.step_hz, max_duration_s=args.seconds + 1, perspective=rig)
    return SimConfig(step_hz=args.step_hz, max_duration_s=args.seconds + 1, perspective=rig,
                     cameras=list(args.cameras), camera_spans_m=[])


def measure(args, mode: str) -> dict:
    """One mode in this process: step time and camera time of every route."""
    from vla_driving.data.images import encode_jpeg
    from vla_driving.sim import make_sim

    cfg = sim_config(args, mode)
    every = max(1, round(args.step_hz / args.camera_hz))
    steps, frames, loop_s, render_ms = 0, 0, 0.0, []
    for seed in range(args.routes):
        sim = make_sim(args.scenario, seed, cfg)
        command = next(c for c in sim.scenario.commands if sim.feasible(c))
        start = time.perf_counter()
        for i in range(int(round(args.seconds * args.step_hz))):
            if mode != "sim" and i % every == 0:
                t = time.perf_counter()
                images = sim.render_cameras()
                if mode == "perspective+jpeg":
                    for img in images.values():
                        encode_jpeg(img)
                render_ms.append((time.perf_counter() - t) * MS)
                frames += 1
            steps += 1
            if sim.step(sim.expert_action(command)).done:
                break
        loop_s += time.perf_counter() - start
        sim.close()
    steps_per_s = steps / loop_s
    return {"mode": mode, "steps": steps, "frames": frames, "loop_s": loop_s,
            "steps_per_s": steps_per_s, "x_realtime": steps_per_s / args.step_hz,
            "render_ms_p50": statistics.median(render_ms) if render_ms else 0.0}


def save_sample(args, path: str) -> None:
    """Every rig camera (front_left, front, front_right, rear by default) side by side."""
    from PIL import Image, ImageDraw

    from vla_driving.sim import make_sim

    base = sim_config(args, "perspective")
    sim = make_sim(args.scenario, 0, type(base).from_dict(
        {**base.to_dict(), "cameras": sample_order(base.perspective.names)}))
    command = next(c for c in sim.scenario.commands if sim.feasible(c))
    for _ in range(int(round(args.sample_s * args.step_hz))):
        sim.step(sim.expert_action(command))
    images = sim.render_cameras()
    sim.close()
    strip = Image.new("RGB", (args.width * len(images), args.height))
    draw = ImageDraw.Draw(strip)
    for i, (name, img) in enumerate(images.items()):
        strip.paste(Image.fromarray(img), (i * args.width, 0))
        draw.text((i * args.width + 4, 2), name, fill=(0, 0, 0))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    strip.save(path, optimize=True)


def sample_order(names: list[str]) -> list[str]:
    """Left to right as a driver sees them, the rest after."""
    first = [n for n in ("front_left", "front", "front_right") if n in names]
    return first + [n for n in names if n not in first]


def _child(argv: list[str], mode: str) -> dict:
    cmd = [sys.executable, "-m", "vla_driving.apps.bench_cameras", *argv, "--child", mode]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _argv(args) -> list[str]:
    return ["--scenario", args.scenario, "--routes", str(args.routes), "--seconds",
            str(args.seconds), "--step-hz", str(args.step_hz), "--camera-hz", str(args.camera_hz),
            "--width", str(args.width), "--height", str(args.height), "--cpu", str(args.cpu),
            "--cameras", *args.cameras]


def summary(runs: list[dict], modes: list[str]) -> list[dict]:
    """Per mode: the median of each figure over its runs, and the range of x real time."""
    out = []
    for mode in modes:
        mine = [r for r in runs if r["mode"] == mode]
        row = {k: statistics.median(r[k] for r in mine)
               for k in ("steps_per_s", "x_realtime", "render_ms_p50")}
        row.update(mode=mode, runs=len(mine), steps=mine[0]["steps"], frames=mine[0]["frames"],
                   x_realtime_min=min(r["x_realtime"] for r in mine),
                   x_realtime_max=max(r["x_realtime"] for r in mine))
        out.append(row)
    return out


def main(args) -> int:
    if args.child:
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        if args.cpu >= 0:
            os.sched_setaffinity(0, {args.cpu})      # before panda3d starts llvmpipe's threads
        print(json.dumps(measure(args, args.child)))
        return 0
    runs = [_child(_argv(args), mode) for _ in range(max(1, args.repeats)) for mode in args.modes]
    rows = summary(runs, args.modes)
    base = next((r["steps_per_s"] for r in rows if r["mode"] == "sim"), None)
    table = [(r["mode"], r["steps"], r["frames"], f"{r['steps_per_s']:.1f}",
              f"{r['x_realtime']:.2f} ({r['x_realtime_min']:.2f}-{r['x_realtime_max']:.2f})",
              f"{r['render_ms_p50']:.2f}", f"{r['steps_per_s'] / base:.2f}" if base else "")
             for r in rows]
    print(f"{args.scenario}, {args.routes} x {args.seconds:g} s at {args.step_hz:g} Hz, cameras "
          f"at {args.camera_hz:g} Hz: {' '.join(args.cameras)} {args.width}x{args.height}, "
          f"core {args.cpu}; medians of {max(1, args.repeats)} run(s) per mode")
    print(format_table(("mode", "steps", "camera frames", "steps/s", "x real time (range)",
                        "render ms p50", "vs sim"), table))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"modes": rows, "runs": runs, "argv": _argv(args)},
                                              indent=1))
    if args.sample:
        save_sample(args, args.sample)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
