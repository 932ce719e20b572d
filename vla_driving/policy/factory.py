"""Build the planner's policy from its config; every failure is a `PolicyUnavailableError`
whose message is the reason the planner's configure transition reports."""

from __future__ import annotations

import importlib
from pathlib import Path

from vla_driving.resources import find_bundle
from vla_driving.engines.config import EngineConfig

from vla_driving.policy.base import DrivingPolicy, PolicyUnavailableError
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.text_scheduler import TextScheduled
from vla_driving.policy.wrappers import Recorder


def make_policy(cfg: PlannerConfig) -> DrivingPolicy:
    """The configured policy, optionally recorded, wrapped in the text scheduler (text never
    delays a plan)."""
    if cfg.policy == "constant_velocity":
        inner: DrivingPolicy = ConstantVelocityPolicy()
    else:
        inner = load_vla_policy(cfg.bundle, cfg.engine)
        cameras = tuple(getattr(inner, "cameras", ()))
        if cameras and cameras != tuple(cfg.ingest.cameras):
            inner.close()
            raise PolicyUnavailableError(f"{cfg.bundle}: the bundle expects cameras {list(cameras)}, "
                                         f"ingest.cameras is {list(cfg.ingest.cameras)}")
    if cfg.record_path:
        inner = Recorder(inner, cfg.record_path)
    return TextScheduled(inner, cfg.text_period_s)


def resolve_bundle(bundle: str) -> Path:
    """A relative bundle path is looked up in the working directory, then in the checkout or
    the installed package share (where `ros2 launch` and a wheel find `models/default`)."""
    return Path(find_bundle(bundle))


def load_vla_policy(bundle: str, engine: EngineConfig | None = None) -> DrivingPolicy:
    """The bundle's `VlaPolicy` alone (no recorder, no text thread); `PolicyUnavailableError`
    names the reason it cannot be built."""
    path = resolve_bundle(bundle)
    if not bundle or not path.is_dir():
        raise PolicyUnavailableError(f"model bundle not found: {bundle!r}")
    if not (path / "manifest.json").is_file():
        raise PolicyUnavailableError(f"{bundle}: not a model bundle (no manifest.json)")
    try:
        module = importlib.import_module("vla_driving.policy.vla_policy")
    except ImportError as exc:
        raise PolicyUnavailableError(f"the VLA policy cannot be imported ({exc}); install the "
                                     f"'torch' extra") from exc
    try:
        return module.VlaPolicy.from_bundle(path, engine)
    except PolicyUnavailableError:
        raise
    except Exception as exc:  # any loading failure must fail configure with its reason
        raise PolicyUnavailableError(f"{bundle}: {type(exc).__name__}: {exc}") from exc
