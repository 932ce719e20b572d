"""Shapes and masks of the frontend, the sequence layout and every head of the VLA model."""

import pytest
import torch

from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS
from vla_driving.model.config import ConfigError, VisionConfig
from vla_driving.model.vision import normalise_images
from vla_driving.model.vla import IGNORE_INDEX

from vla_test_helpers import FRAMES, SIZE, VIEWS, inputs, small_config, small_model

torch.set_num_threads(1)


def test_visual_frontend_shape_and_bounded_tokens():
    model = small_model()
    images, _, _ = inputs(batch=3)
    visual = model.frontend(images)
    cfg = small_config().vision
    assert visual.shape == (3, cfg.num_views * cfg.grid ** 2, 32)
    assert cfg.num_tokens == VIEWS * 4


def test_frontend_tokens_do_not_grow_with_history():
    cfg = VisionConfig(image_size=32, num_frames=6, num_views=2, stage_channels=[8, 16])
    assert cfg.num_tokens == VisionConfig(image_size=32, num_frames=1, num_views=2,
                                          stage_channels=[8, 16]).num_tokens


def test_sequence_layout_masks_and_labels():
    model = small_model()
    images, ego, past = inputs()
    visual, state = model.frontend(images), model.state_embeds(ego, past)
    prompts, targets = [[1, 5, 6], [1, 5, 6, 7, 8]], [[9, 10, 2], [11, 2]]
    embeds, mask, labels, starts = model.build_sequence(visual, state, prompts, targets, True)
    k, q = visual.shape[1], 3
    lengths = [k + 1 + len(p) + q + len(t) for p, t in zip(prompts, targets)]
    assert embeds.shape == (2, max(lengths), 32)
    assert mask.sum(1).tolist() == lengths
    assert starts.tolist() == [k + 1 + len(p) for p in prompts]
    for i, (p, t) in enumerate(zip(prompts, targets)):
        supervised = labels[i][labels[i] != IGNORE_INDEX].tolist()
        assert supervised == t
        torch.testing.assert_close(embeds[i, starts[i]:starts[i] + q], model.action_queries)
        assert (embeds[i, lengths[i]:] == 0).all()


def test_action_head_shapes():
    model = small_model()
    images, ego, past = inputs(batch=2)
    out = model(images, ego, past, [[1, 5], [1, 5, 6, 7]], [[8, 2], [9, 9, 2]])
    a = out.actions
    assert a.waypoints.shape == (2, 6, 2)
    assert a.controls.shape == (2, 2, 4)
    assert a.speed_logits.shape == (2, len(SPEED_LEVELS))
    assert a.steering_logits.shape == (2, len(STEERING_LEVELS))
    assert a.completed_logit.shape == (2,)
    assert out.target_logits.shape == (5, 64) and out.target_labels.tolist() == [8, 2, 9, 9, 2]


def test_padding_does_not_change_a_sample():
    """Right padding from a longer neighbour leaves the shorter sample's outputs unchanged."""
    model = small_model()
    images, ego, past = inputs(batch=2)
    both = model(images, ego, past, [[1, 5], [1, 5, 6, 7, 8, 9]]).actions
    alone = model(images[:1], ego[:1], past[:1], [[1, 5]]).actions
    torch.testing.assert_close(both.waypoints[:1], alone.waypoints, atol=1e-5, rtol=1e-5)


def test_constant_velocity_prior_without_state_token():
    model = small_model(state_token=False)
    assert model.state_embeds(torch.zeros(1, 3), torch.zeros(1, 4, 2)) is None
    for p in model.head.mlp[-1].parameters():
        torch.nn.init.zeros_(p)
    images, ego, past = inputs(batch=1)
    wp = model(images, ego, past, [[1, 2]]).actions.waypoints[0]
    torch.testing.assert_close(wp[:, 0], 8.0 * torch.arange(1, 7) * 0.5)
    assert (wp[:, 1] == 0).all()


def test_normalise_images_checks_layout_and_resizes():
    cfg = small_config().vision
    raw = torch.full((1, FRAMES, VIEWS, 3, 48, 48), 255, dtype=torch.uint8)
    out = normalise_images(raw, cfg)
    assert out.shape == (1, FRAMES * VIEWS, 3, SIZE, SIZE)
    torch.testing.assert_close(out.max(), torch.tensor(2.0))  # (1 - 0.5) / 0.25
    with pytest.raises(ValueError, match="expected"):
        normalise_images(raw[:, :1], cfg)


def test_config_rejects_grid_that_does_not_fit():
    with pytest.raises(ConfigError, match="grid"):
        VisionConfig(image_size=32, stage_channels=[8, 16], grid=3)


def test_sequence_longer_than_positions_is_an_error():
    model = small_model()
    images, ego, past = inputs(batch=1)
    with pytest.raises(ValueError, match="max_positions"):
        model(images, ego, past, [[1] * 200])
