"""Hand-computed checks of control RMSE, meta-action accuracy, latency tables and text metrics."""

import math

import pytest

from vla_driving.evaluation import text_metrics
from vla_driving.evaluation.control_metrics import control_rmse, meta_action_metrics
from vla_driving.evaluation.latency import drop_counts, latency_table
from vla_driving.meta_action import MetaAction


def test_control_rmse_per_signal():
    out = control_rmse([[1, 0, 2, 0], [3, 0, 0, 0.5]], [[0, 0, 0, 0], [0, 0, 0, 0]])
    assert out["speed"] == pytest.approx(math.sqrt(5.0))
    assert out["steering_angle"] == 0.0
    assert out["acceleration"] == pytest.approx(math.sqrt(2.0))
    assert out["steering_rate"] == pytest.approx(math.sqrt(0.125))
    with pytest.raises(ValueError):
        control_rmse([[0, 0, 0, 0]], [[0, 0, 0, 0], [1, 1, 1, 1]])


def test_meta_action_weighted_accuracy():
    true = [MetaAction("constant_speed", "straight")] * 4
    pred = [MetaAction("constant_speed", "straight"), MetaAction("accelerate", "straight"),
            MetaAction("constant_speed", "turn_left"), MetaAction("decelerate", "straight")]
    out = meta_action_metrics(pred, true)   # steering 3/4, speed 2/4
    assert out["weighted_accuracy"] == pytest.approx(0.7 * 0.75 + 0.3 * 0.5)
    assert out["steering_accuracy"] == pytest.approx(0.75)
    assert math.isnan(meta_action_metrics([], [])["weighted_accuracy"])


def test_latency_table_and_drops():
    table = latency_table([{"encode": 0.01}, {"encode": 0.02}, {"encode": 0.03, "llm": 0.1}])
    assert table["encode"]["p50"] == pytest.approx(20.0)
    assert table["encode"]["max"] == pytest.approx(30.0)
    assert table["encode"]["count"] == 3 and table["llm"]["count"] == 1
    drops = drop_counts(frames_in=10, plans_out=8, degraded=1)
    assert drops["dropped"] == 2 and drops["drop_rate"] == pytest.approx(0.2)


def test_qa_accuracy_normalises_answers():
    assert text_metrics.qa_accuracy(["The car.", "two", "left"], ["car", "Two", "right"]) == \
        pytest.approx(2 / 3)


def test_python_tokenizer_follows_ptb_rules():
    assert text_metrics.python_tokenize("Don't stop, it's raining (hard)!") == \
        "do n't stop it 's raining -lrb- hard -rrb-"


@pytest.fixture
def no_java(monkeypatch):
    monkeypatch.setattr(text_metrics.shutil, "which", lambda name: None)


def test_text_metrics_without_java_report_meteor_unavailable(no_java):
    preds = ["the car turns left now", "two trucks ahead in the right lane"]
    out = text_metrics.caption_metrics(preds, [[p] for p in preds])
    assert out["BLEU-4"] == pytest.approx(1.0)
    assert out["CIDEr"] == pytest.approx(10.0)     # CIDEr-D of exact matches is 10
    assert out["METEOR"] is None and out["unavailable"] == ["METEOR"]
    assert out["tokenizer"] == "python-ptb"


def test_rouge_l_hand_computed(no_java):
    # LCS("car turns left now", "car left now slowly") = 3 -> P = R = 3/4 -> F_beta = 0.75
    out = text_metrics.caption_metrics(["car turns left now"], ["car left now slowly"])
    assert out["ROUGE-L"] == pytest.approx(0.75)
    assert out["BLEU-4"] < 0.01


@pytest.mark.skipif(not text_metrics.java_available(), reason="java not installed")
def test_meteor_and_ptb_jar_with_java():
    out = text_metrics.caption_metrics(["The car turns left, slowly.", "a truck brakes hard"],
                                       [["the car turns left slowly"], ["an ambulance overtakes"]])
    assert out["tokenizer"] == "java-ptb" and out["unavailable"] == []
    assert 0.2 < out["METEOR"] < 1.0
    assert out["ROUGE-L"] == pytest.approx(0.5)   # 1 for the exact match, 0 for the other
