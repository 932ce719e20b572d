"""Sample images of the two camera looks (docs/images/look_<look>_<camera>.png) and the time
each look takes per view, on every scenario.

    SDL_VIDEODRIVER=offscreen .venv/bin/python scripts/camera_looks.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from PIL import Image

from vla_driving.sim import SCENARIOS, SimConfig, make_sim
from vla_driving.sim.config import LOOKS

SAMPLE = ("roundabout", 3, 20)      # scenario, seed, steps driven before the sample frame


def driven(scenario: str, seed: int, steps: int, look: str):
    sim = make_sim(scenario, seed, SimConfig(look=look))
    command = next(c for c in sim.scenario.commands if sim.feasible(c))
    for _ in range(steps):
        sim.step(sim.expert_action(command))
    return sim


def ms_per_view(sim, repeats: int) -> float:
    sim.render_cameras()                             # first call builds the surfaces
    start = time.perf_counter()
    for _ in range(repeats):
        sim.render_cameras()
    return (time.perf_counter() - start) * 1e3 / (repeats * len(sim.renderers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--repeats", type=int, default=50, help="renders timed per scenario")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for look in LOOKS:
        sim = driven(*SAMPLE, look)
        for camera, img in sim.render_cameras().items():
            Image.fromarray(img).save(args.out / f"look_{look}_{camera}.png", optimize=True)
    print(f"{'scenario':<14}" + "".join(f"{look + ' ms/view':>20}" for look in LOOKS))
    for scenario in sorted(SCENARIOS):
        times = [ms_per_view(driven(scenario, 3, 20, look), args.repeats) for look in LOOKS]
        print(f"{scenario:<14}" + "".join(f"{t:>20.2f}" for t in times))


if __name__ == "__main__":
    main()
