"""A windowed PID controller (LMDrive / TransFuser style: integral and derivative over a window)."""

from __future__ import annotations

from collections import deque

from vla_driving.control.config import PidConfig


class WindowedPid:
    """PID whose integral is the mean error over the last `window` samples.

    The windowed mean keeps the integral term bounded (no wind-up) without a separate clamp,
    which is why LMDrive's gains transfer across control rates reasonably well.
    """

    def __init__(self, cfg: PidConfig) -> None:
        self.cfg = cfg
        self._errors: deque[float] = deque([0.0] * cfg.window, maxlen=cfg.window)

    def reset(self) -> None:
        self._errors.extend([0.0] * self.cfg.window)

    def step(self, error: float) -> float:
        self._errors.append(float(error))
        integral = sum(self._errors) / len(self._errors)
        derivative = self._errors[-1] - self._errors[-2] if len(self._errors) > 1 else 0.0
        return self.cfg.kp * error + self.cfg.ki * integral + self.cfg.kd * derivative
