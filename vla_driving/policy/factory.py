"""Build the planner's policy from its config; every failure is a `PolicyUnavailableError`
whose message is the reason the planner's configure transition reports."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from vla_driving.resources import find_bundle
from vla_driving.engines.config import EngineConfig

from vla_driving.policy.base import DrivingPolicy, PolicyUnavailableError
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.text_scheduler import TextScheduled
from vla_driving.policy.wrappers import Recorder

log = logging.getLogger(__name__)


def make_policy(cfg: PlannerConfig, warm_up: bool = True) -> DrivingPolicy:
    """The configured policy, optionally recorded, wrapped in the text scheduler (text never
    delays a plan); with `warm_up`, run once on a dummy observation (`DrivingPolicy.warm_up`,
    no trace) so the first real plan is not the slow one. Its seconds: `policy.warm_up_s`."""
    if cfg.policy == "constant_velocity":
        inner: DrivingPolicy = ConstantVelocityPolicy()
    else:
        inner = load_vla_policy(cfg.bundle, cfg.engine)
        why = camera_mismatch(tuple(getattr(inner, "cameras", ())), tuple(cfg.ingest.cameras))
        if why:
            inner.close()
            raise PolicyUnavailableError(f"{cfg.bundle}: {why}")
    if cfg.record_path:
        inner = Recorder(inner, cfg.record_path)
    policy = TextScheduled(inner, cfg.text_period_s)
    if warm_up:
        try:
            policy.warm_up_s = policy.warm_up()
        except Exception as exc:  # a model that cannot run once fails configure with its reason
            policy.close()
            raise PolicyUnavailableError(f"{cfg.bundle}: warm-up failed: {type(exc).__name__}: "
                                         f"{exc}") from exc
        log.info("policy %s warmed up in %.0f ms", policy.bundle_id or cfg.policy,
                 policy.warm_up_s * 1000)
    return policy


def camera_mismatch(bundle: tuple[str, ...], profile: tuple[str, ...]) -> str:
    """Why the profile's cameras cannot feed the bundle ('' when they can): the views it lacks
    by name, else the order the bundle reads them in."""
    if not bundle or bundle == profile:
        return ""
    missing = [c for c in bundle if c not in profile]
    if missing:
        return (f"the bundle expects cameras {list(bundle)}; the profile's ingest.cameras "
                f"{list(profile)} lacks {', '.join(map(repr, missing))}")
    return f"the bundle expects cameras {list(bundle)} in this order, ingest.cameras is " \
        f"{list(profile)}"


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
