"""A small synthetic driving Dataset yielding exactly the sample dict of docs/contracts.md.

For tests and smoke runs without the simulator: the future trajectory follows from the ego
speed, acceleration and the instruction, and the images show the instruction as a coloured bar,
so both the text and the action path have something learnable.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from vla_driving.constants import NUM_WAYPOINTS, WAYPOINT_DT_S

# (instruction, lateral offset at 3 s in metres, steering level index, bar colour)
COMMANDS = (
    ("keep lane", 0.0, 1, (40, 200, 40)),
    ("change lane left", 3.5, 4, (200, 40, 40)),
    ("change lane right", -3.5, 5, (40, 40, 200)),
)
ACCELS = (1.5, 0.0, -1.5)           # m/s^2 -> speed levels 1, 2, 3
SPEED_INDEX = {1.5: 1, 0.0: 2, -1.5: 3}


class SyntheticDrivingDataset(Dataset):
    """`size` deterministic samples; `frames` x `views` images of `image_size` pixels."""

    def __init__(self, size: int = 32, frames: int = 2, views: int = 2, image_size: int = 32,
                 seed: int = 0):
        self.size, self.frames, self.views, self.image_size, self.seed = (
            size, frames, views, image_size, seed)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.size:
            raise IndexError(index)
        rng = np.random.default_rng(self.seed * 100003 + index)
        command, lateral, steer_idx, colour = COMMANDS[index % len(COMMANDS)]
        accel = ACCELS[(index // len(COMMANDS)) % len(ACCELS)]
        speed = float(rng.uniform(5.0, 15.0))
        t = np.arange(1, NUM_WAYPOINTS + 1) * WAYPOINT_DT_S
        x = speed * t + 0.5 * accel * t**2
        y = lateral * (t / t[-1]) ** 2
        past_t = -np.arange(4, 0, -1) * WAYPOINT_DT_S
        past = np.stack([speed * past_t, np.zeros(4)], axis=1)
        speed_level = SPEED_INDEX[accel]
        return {
            "images": torch.from_numpy(self._images(rng, colour, speed)),
            "ego": torch.tensor([speed, 0.0, accel], dtype=torch.float32),
            "past": torch.tensor(past, dtype=torch.float32),
            "waypoints": torch.tensor(np.stack([x, y], axis=1), dtype=torch.float32),
            "controls": torch.tensor([[speed, 0.0, accel, 0.0],
                                      [speed + accel * 0.5, 0.0, accel, 0.0]], dtype=torch.float32),
            "speed_level": torch.tensor(speed_level, dtype=torch.int64),
            "steering_level": torch.tensor(steer_idx, dtype=torch.int64),
            "instruction_completed": torch.tensor(float(index % 5 == 0)),
            "instruction": command,
            "description": f"a straight road with {1 + index % 3} cars ahead",
            "justification": f"the command is to {command}",
            "qa": [("how many cars are ahead?", str(1 + index % 3)),
                   ("what is the command?", command)],
            "lead": torch.tensor([1.0, 10.0 * (1 + index % 3) / 80.0, 0.0]),  # as lead_target
            "difficulty": float(rng.uniform()),
            "episode": f"synthetic-{index // 8}",
            "stamp_ns": int(index * 100_000_000),
        }

    def _images(self, rng, colour, speed: float) -> np.ndarray:
        s = self.image_size
        img = rng.integers(0, 40, size=(self.frames, self.views, 3, s, s), dtype=np.uint8)
        width = max(2, int(s * speed / 30.0))
        img[:, :, :, : s // 4, :width] = np.array(colour, dtype=np.uint8).reshape(3, 1, 1)
        return img
