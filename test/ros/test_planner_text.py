"""`vla_planner`'s text path over real rclpy: /vla/description carries the description,
meta-action and justification stamped with the source image; rejected texts are counted in
/diagnostics and never published."""

import pytest
from stack_test_helpers import ros_context  # noqa: F401
from test_planner_node import collect, planner, run_until

pytestmark = pytest.mark.ros


class EveryOtherTextRejected:
    """Policy factory: the baseline whose every other scene text fails the strict parser (a
    test double for the model's `MalformedOutputError`), in the node's own text scheduler."""

    def __call__(self, cfg):
        from vla_driving.policy.base import MalformedOutputError
        from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
        from vla_driving.policy.text_scheduler import TextScheduled

        class Policy(ConstantVelocityPolicy):
            calls = 0

            def describe(self, observation):
                Policy.calls += 1
                if Policy.calls % 2 == 0:
                    raise MalformedOutputError("text plan rejected: expected 4 lines, got 2")
                return super().describe(observation)
        return TextScheduled(Policy(), cfg.text_period_s)


def test_description_topic_and_text_counters(ros_context):
    from rclpy.lifecycle import TransitionCallbackReturn
    node = planner(ros_context, sync=True, policy_factory=EveryOtherTextRejected())
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    node.trigger_activate()
    feeder, got, stop = collect(ros_context, node)
    try:
        stats = node.core.text_stats()
        assert run_until(feeder, lambda: stats.counts["rejected"] >= 2 and len(got["text"]) >= 2
                         and got["diag"], 30.0, wall_s=0.02)
        assert run_until(feeder, lambda: any(
            kv.key == "text.rejected" and int(kv.value) >= 2
            for s in got["diag"] for kv in s.values), 10.0, wall_s=0.02)
    finally:
        stop()
    decisions = {d["stamp_ns"] for d in got["decision"]}
    for text in got["text"]:
        assert text["stamp_ns"] in decisions                   # the source image's stamp
        assert text["meta_action"] == {"speed": "constant_speed", "steering": "straight"}
        assert "m/s" in text["description"] and text["justification"]
    published = {t["stamp_ns"] for t in got["text"]}
    assert len(published) == len(got["text"])
    assert stats.counts["accepted"] >= len(got["text"])       # rejected ones never published
    keys = {kv.key: kv.value for s in got["diag"] for kv in s.values}
    assert {"text.requested", "text.accepted", "text.parse_rate",
            "text.latency_ms.p50"} <= set(keys)
    assert "expected 4 lines" in keys["text.last_rejection"]
