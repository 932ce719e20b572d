"""Route sweeps: every route reported in task order, the same whatever the number of workers."""

import pytest

from vla_driving.evaluation.closed_loop import EXPERT, ClosedLoopConfig
from vla_driving.evaluation.sweep import init_ray, outcome_rows, route_tasks, run_sweep

CV = {"constant_velocity": {"policy": "constant_velocity"}}


def test_tasks_cover_every_route_in_a_fixed_order():
    cfg = ClosedLoopConfig(scenarios=["highway", "merge"], seeds=[1000, 1001])
    tasks = route_tasks(cfg, CV)
    assert [(t.scenario, t.seed, t.policy) for t in tasks[:3]] == [
        ("highway", 1000, "constant_velocity"), ("highway", 1000, EXPERT),
        ("highway", 1001, "constant_velocity")]
    assert len(tasks) == 8 and tasks[1].planner is None


def test_a_failing_route_is_retried_once_and_reported_not_dropped():
    cfg = ClosedLoopConfig(scenarios=["highway", "nowhere"], seeds=[1000], duration_s=2.0)
    result = run_sweep(cfg, route_tasks(cfg, CV, expert=False), progress=False)
    good, bad = result.outcomes
    assert good.ok and good.attempts == 1 and good.row["sim_s"] >= 2.0
    assert not bad.ok and bad.attempts == 2 and "nowhere" in bad.error
    rows = outcome_rows(result)
    assert [r["scenario"] for r in rows] == ["highway", "nowhere"] and rows[1]["ok"] is False


def test_two_ray_workers_drive_the_routes_as_one_process_does():
    pytest.importorskip("ray")
    cfg = ClosedLoopConfig(scenarios=["highway"], seeds=[1000, 1001], duration_s=2.0)
    tasks = route_tasks(cfg, CV)
    here = run_sweep(cfg, tasks, workers=1, progress=False)
    ray = run_sweep(cfg, tasks, workers=2, progress=False)
    assert ray.workers == 2 and all(o.ok for o in ray.outcomes)
    for a, b in zip(here.outcomes, ray.outcomes):
        assert a.task == b.task
        assert a.row["driving_score"] == b.row["driving_score"]
        assert a.row["progress_m"] == b.row["progress_m"]
    assert len({o.worker for o in ray.outcomes}) >= 1


def test_an_unreachable_cluster_is_one_clear_error_naming_it():
    pytest.importorskip("ray")
    with pytest.raises(RuntimeError, match=r"cannot reach the Ray cluster at '127.0.0.1:9'"):
        init_ray("127.0.0.1:9", 2)


def test_local_ray_workers_run_at_the_callers_priority(monkeypatch):
    import os

    monkeypatch.delenv("RAY_worker_niceness", raising=False)
    ray = init_ray(None, 1)
    try:
        assert ray.get(ray.remote(lambda: os.nice(0)).remote()) == os.nice(0)
    finally:
        ray.shutdown()
