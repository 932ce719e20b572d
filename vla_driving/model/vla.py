"""The VLA model: visual tokens + ego state + prompt + action queries through one causal LM.

Sequence layout per sample (right-padded in a batch):

    [visual K] [state 1, optional] [prompt tokens] [action queries Q, optional] [target tokens]

The action head reads the LLM's last hidden states at the Q query positions (LMGenDrive) and
returns every planning output in one forward pass; the text path continues from the same
prefix with greedy decoding (`inference.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vla_driving.model.config import (EGO_STATE_DIM, NUM_CONTROL_FIELDS, NUM_CONTROL_STEPS, NUM_PAST_POSITIONS,
                     VLAConfig)
from vla_driving.model.llm import build_llm, decoder_step
from vla_driving.model.vision import VisualFrontend
from vla_driving.constants import WAYPOINT_DT_S
from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS

IGNORE_INDEX = -100


@dataclass
class ActionOutput:
    """Planning outputs of the action-query head (batch first)."""

    waypoints: torch.Tensor        # [B, W, 2] metres, ego frame
    controls: torch.Tensor         # [B, 2, 4] [current, next] x [speed, steer, accel, steer rate]
    speed_logits: torch.Tensor     # [B, len(SPEED_LEVELS)]
    steering_logits: torch.Tensor  # [B, len(STEERING_LEVELS)]
    completed_logit: torch.Tensor  # [B]


@dataclass
class VLAOutput:
    """`target_logits[i]` predicts `target_labels[i]` (all samples' target tokens, flattened)."""

    target_logits: torch.Tensor | None
    target_labels: torch.Tensor | None
    actions: ActionOutput | None


class ActionHead(nn.Module):
    """2-layer MLP from the Q query hidden states to all planning outputs."""

    def __init__(self, cfg: VLAConfig, d_model: int):
        super().__init__()
        self.cfg = cfg
        self.sizes = [cfg.num_waypoints * 2, NUM_CONTROL_STEPS * NUM_CONTROL_FIELDS,
                      len(SPEED_LEVELS), len(STEERING_LEVELS), 1]
        self.mlp = nn.Sequential(nn.Linear(cfg.head.num_queries * d_model, cfg.head.hidden),
                                 nn.GELU(), nn.Linear(cfg.head.hidden, sum(self.sizes)))
        times = torch.arange(1, cfg.num_waypoints + 1, dtype=torch.float32) * WAYPOINT_DT_S
        self.register_buffer("times", times, persistent=False)
        self.register_buffer("control_scale", torch.tensor(cfg.head.control_scale), persistent=False)

    def forward(self, query_states: torch.Tensor, ego: torch.Tensor) -> ActionOutput:
        out = self.mlp(query_states.flatten(1))
        wp, ctl, speed, steer, done = torch.split(out, self.sizes, dim=-1)
        wp = wp.view(-1, self.cfg.num_waypoints, 2) * self.cfg.head.waypoint_scale_m
        if self.cfg.head.residual_to_constant_velocity:
            prior_x = ego[:, :1] * self.times.view(1, -1)
            wp = wp + torch.stack([prior_x, torch.zeros_like(prior_x)], dim=-1)
        ctl = ctl.view(-1, NUM_CONTROL_STEPS, NUM_CONTROL_FIELDS) * self.control_scale
        return ActionOutput(wp, ctl, speed, steer, done.squeeze(-1))


class VLAModel(nn.Module):
    """Vision frontend + state token + causal LM + action queries + action head."""

    def __init__(self, cfg: VLAConfig, llm: nn.Module | None = None):
        super().__init__()
        self.cfg = cfg
        self.llm = llm if llm is not None else build_llm(cfg.llm)
        d = self.llm.get_input_embeddings().embedding_dim
        self.frontend = VisualFrontend(cfg.vision, d)
        state_in = EGO_STATE_DIM + NUM_PAST_POSITIONS * 2
        self.state_proj = (nn.Sequential(nn.Linear(state_in, d), nn.GELU(), nn.Linear(d, d))
                           if cfg.head.state_token else None)
        self.action_queries = nn.Parameter(torch.randn(cfg.head.num_queries, d) * 0.02)
        self.head = ActionHead(cfg, d)

    def fixed_tokens(self, use_queries: bool = True) -> int:
        """Positions of every sequence besides the prompt and the answer: visual tokens, the
        state token and (with `use_queries`) the action queries."""
        return (self.cfg.vision.num_tokens + int(self.state_proj is not None)
                + (self.cfg.head.num_queries if use_queries else 0))

    @property
    def d_model(self) -> int:
        return self.action_queries.shape[-1]

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        return self.llm.get_input_embeddings()(ids)

    def state_embeds(self, ego: torch.Tensor, past: torch.Tensor) -> torch.Tensor | None:
        """[B, 1, D] numeric ego-state token (scaled to order 1), or None when disabled."""
        if self.state_proj is None:
            return None
        x = torch.cat([ego / ego.new_tensor([10.0, 0.2, 2.0]), past.flatten(1) / 10.0], dim=-1)
        return self.state_proj(x).unsqueeze(1)

    def build_sequence(self, visual: torch.Tensor, state: torch.Tensor | None,
                       prompts: list[list[int]], targets: list[list[int]] | None,
                       use_queries: bool):
        """Right-padded embeds [B, L, D], mask [B, L], labels [B, L], query start [B]."""
        rows, labels, starts = [], [], []
        for i, prompt in enumerate(prompts):
            target = targets[i] if targets is not None else []
            parts = [visual[i]] + ([state[i]] if state is not None else [])
            parts.append(self.embed_tokens(torch.as_tensor(prompt, dtype=torch.long,
                                                           device=visual.device)))
            starts.append(sum(p.shape[0] for p in parts))
            if use_queries:
                parts.append(self.action_queries)
            n_prefix = sum(p.shape[0] for p in parts)
            tgt = torch.as_tensor(target, dtype=torch.long, device=visual.device)
            parts.append(self.embed_tokens(tgt))
            rows.append(torch.cat(parts))
            lab = torch.full((n_prefix + len(target),), IGNORE_INDEX, dtype=torch.long,
                             device=visual.device)
            lab[n_prefix:] = tgt
            labels.append(lab)
        length = max(r.shape[0] for r in rows)
        if length > self.cfg.llm.max_positions:
            raise ValueError(f"sequence of {length} tokens exceeds llm.max_positions="
                             f"{self.cfg.llm.max_positions}")
        embeds = visual.new_zeros(len(rows), length, self.d_model)
        mask = torch.zeros(len(rows), length, dtype=torch.long, device=visual.device)
        label_t = torch.full((len(rows), length), IGNORE_INDEX, dtype=torch.long,
                             device=visual.device)
        for i, (row, lab) in enumerate(zip(rows, labels)):
            embeds[i, : row.shape[0]] = row
            mask[i, : row.shape[0]] = 1
            label_t[i, : lab.shape[0]] = lab
        return embeds, mask, label_t, torch.tensor(starts, device=visual.device)

    def forward(self, images: torch.Tensor, ego: torch.Tensor, past: torch.Tensor,
                prompts: list[list[int]], targets: list[list[int]] | None = None,
                use_queries: bool = True) -> VLAOutput:
        """images: normalised float [B, T*N, 3, S, S]; ego [B, 3]; past [B, 4, 2]."""
        visual = self.frontend(images)
        state = self.state_embeds(ego, past)
        embeds, mask, labels, starts = self.build_sequence(visual, state, prompts, targets,
                                                           use_queries)
        hidden, _ = decoder_step(self.llm, embeds, attention_mask=mask)
        actions = None
        if use_queries:
            q = self.cfg.head.num_queries
            index = starts.view(-1, 1) + torch.arange(q, device=hidden.device).view(1, -1)
            query_states = hidden.gather(1, index.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
            actions = self.head(query_states, ego)
        logits = labels_out = None
        if targets is not None:
            predict = labels[:, 1:] != IGNORE_INDEX
            logits = self.llm.get_output_embeddings()(hidden[:, :-1][predict])
            labels_out = labels[:, 1:][predict]
        return VLAOutput(logits, labels_out, actions)
