"""Figures of the evaluation reports: drawn whatever the runs hold."""

import warnings

from vla_driving.evaluation.figures import latency_histogram
from vla_driving.evaluation.summary import EvalSample


def test_a_latency_histogram_without_per_plan_times_is_drawn_without_a_legend_warning(tmp_path):
    """Runs whose plans were all inferred in batches (or failed) have no time of one plan: the
    live evaluation's figure warned "No artists with labels found to put in legend"."""
    runs = {"model": [EvalSample(stamp_ns=0)], "constant_velocity": []}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        latency_histogram(tmp_path / "latency.png", runs)
    assert (tmp_path / "latency.png").stat().st_size > 0
