"""QA accuracy by question kind in the stages' validation: where the accuracy is lost."""

from vla_driving_training.validate import _by_kind


def test_answers_are_tallied_per_kind_after_normalisation():
    answers = ["A highway.", "two lanes", "Yes.", "no"]
    expected = ["a highway", "Three lanes.", "Yes.", "Yes."]
    kinds = ["road_type", "lanes", "ahead", "ahead"]
    assert _by_kind(answers, expected, kinds) == {"ahead": [1, 2], "lanes": [0, 1],
                                                  "road_type": [1, 1]}
    assert _by_kind([], [], []) == {}
