"""The report directory every evaluation writes: metrics.json, report.md, PNG figures, MCAP.

`runs` maps a condition ("clean", "fog@3", ...) to {policy name: [EvalSample]}; the same frames
in the same order under every policy, so the figures can put them side by side.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from vla_driving.evaluation import figures
from vla_driving.evaluation.mcap_export import McapFrame, McapRecorder
from vla_driving.evaluation.planning_metrics import COLLISION_CONVENTIONS, L2_CONVENTIONS
from vla_driving.evaluation.summary import EvalSample, headline, summarise

CLEAN = "clean"
METRICS_JSON = "metrics.json"
REPORT_MD = "report.md"
MCAP_DIR = "predictions_mcap"
FIGURE_BEV = "bev_samples.png"
FIGURE_HORIZON = "error_vs_horizon.png"
FIGURE_LATENCY = "latency_histogram.png"
BATCHED_SUFFIX = "_per_frame_batched"   # latency stages of batched plans (replay's `batch`)
FIGURE_CORRUPTIONS = "corruptions_l2.png"
FIGURE_CORRUPTIONS_COLLISION = "corruptions_collision.png"
Runs = Mapping[str, Mapping[str, Sequence[EvalSample]]]


def evaluate_runs(runs: Runs, **kwargs) -> dict[str, dict[str, dict]]:
    """{condition: {policy: metrics}} (text metrics on the clean condition only: they need
    the same text under each corruption to mean anything, and METEOR is slow)."""
    return {cond: {name: summarise(samples, text=(cond == CLEAN), **kwargs)
                   for name, samples in policies.items()}
            for cond, policies in runs.items()}


def to_jsonable(value):
    """NaN/inf become null, numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, object]], first: str = "") -> list[str]:
    if not rows:
        return ["(none)"]
    keys = list(rows[0].keys())
    lines = ["| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
    lines += ["| " + " | ".join(_fmt(r.get(k)) for k in keys) + " |" for r in rows]
    return lines


def headline_rows(metrics: Mapping[str, Mapping[str, dict]]) -> list[dict]:
    return [{"condition": cond, "policy": name, **headline(m)}
            for cond, policies in metrics.items() for name, m in policies.items()]


# Where each convention comes from, printed under its table (docs/evaluation.md has the detail).
L2_SOURCES = {
    "uniad": "UniAD planning_metrics.py: every frame, a missing step adds 0 but counts; value "
             "at the step",
    "stp3": "ST-P3 metrics.py / VAD metric_stp3.py: frames with a complete future; mean up to "
            "the step",
}
COLLISION_SOURCES = {
    "uniad": "UniAD planning_metrics.py: nuScenes ego box 4.084 x 1.85 m, fixed heading, "
             "vehicles, steps where the true trajectory collides excluded; every frame; at the "
             "step",
    "vad": "VAD metric_stp3.py: same box and exclusion, vehicles + pedestrians; complete "
           "futures; mean up to the step",
    "swept": "ours: simulator ego box 5 x 2 m turned to the travel direction, swept between "
             "waypoints, every box incl. obstacles; complete futures; collided by the step",
}


def _convention_rows(metrics: Mapping[str, dict], key: str, conventions: Sequence[str],
                     scale: float = 1.0) -> list[dict]:
    rows = []
    for name, m in metrics.items():
        node = m.get(key, {})
        for conv in conventions:
            if conv in node:
                rows.append({"policy": name, "convention": conv,
                             **{h: v * scale for h, v in node[conv].items()},
                             "samples": node.get("samples", {}).get(conv)})
    return rows


def _sources(sources: Mapping[str, str]) -> list[str]:
    return [""] + [f"- `{conv}`: {text}" for conv, text in sources.items()]


def _detail_sections(clean: Mapping[str, dict]) -> list[str]:
    lines = ["## L2 (m), clean", ""]
    lines += markdown_table(_convention_rows(clean, "l2_m", L2_CONVENTIONS), "policy")
    lines += _sources(L2_SOURCES)
    lines += ["", "## Collision rate (%), clean", ""]
    lines += markdown_table(_convention_rows(clean, "collision_rate", COLLISION_CONVENTIONS,
                                             100.0), "policy")
    lines += _sources(COLLISION_SOURCES)
    lines += ["", "## Control RMSE and meta-action accuracy, clean", ""]
    lines += ["Meta-action: Sce2DriveX's weighted accuracy (steering 0.7, speed 0.3), its two "
              "parts, and `type_accuracy` over the composite lateral x steering x speed types "
              "(`types` of them; see docs/evaluation.md).", ""]
    lines += markdown_table([{"policy": n, **m.get("control_rmse", {}),
                              **{k: v for k, v in m.get("meta_action", {}).items()}}
                             for n, m in clean.items()], "policy")
    lines += ["", "## Text metrics, clean", ""]
    text_rows = []
    for n, m in clean.items():
        for part in ("description", "justification"):
            t = m.get(part, {})
            text_rows.append({"policy": n, "text": part, **{k: t.get(k) for k in
                              ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "samples", "tokenizer")}})
    lines += markdown_table(text_rows, "policy")
    notes = sorted({f"{n} {part}: {m[part]['note']}" for n, m in clean.items()
                    for part in ("description", "justification", "qa")
                    if isinstance(m.get(part), dict) and m[part].get("note")})
    lines += [""] + [f"- {note}" for note in notes]
    lines += ["", "Text path (rejected: failed the strict parser or never ended; never scored):",
              ""]
    lines += markdown_table([_text_row(n, m) for n, m in clean.items() if "text" in m], "policy")
    lines += ["", "## Latency per stage (ms, this machine) and drops, clean", ""]
    lines += markdown_table([{"policy": n, "stage": stage, **row}
                             for n, m in clean.items()
                             for stage, row in m.get("latency_ms", {}).items()], "policy")
    if any(BATCHED_SUFFIX in stage for m in clean.values() for stage in m.get("latency_ms", {})):
        lines += ["", f"Stages ending in `{BATCHED_SUFFIX}`: plans inferred in batches "
                  "(`--batch`), a batch's time over its frames, a throughput and not one "
                  "plan's latency; `--batch 1` measures each plan's."]
    lines += [""] + markdown_table([{"policy": n, **m.get("drops", {})} for n, m in clean.items()],
                                   "policy")
    return lines


def _text_row(name: str, m: Mapping[str, dict]) -> dict:
    t = m["text"]
    return {"policy": name, **{k: t.get(k) for k in ("requested", "accepted", "rejected",
                                                      "failed", "parse_rate", "rate_hz")},
            "latency p50 (ms)": t.get("latency_ms", {}).get("p50"),
            "meta-action = head": t.get("meta_agreement_with_head"),
            "text L2 avg (m)": t.get("text_l2_avg_m"), "head L2 avg (m)": t.get("head_l2_avg_m"),
            "QA accuracy": m.get("qa", {}).get("accuracy"), "QA rounds": m.get("qa", {}).get(
                "samples")}


def _corruption_figures(out: Path, metrics) -> list[str]:
    if len(metrics) <= 1:
        return []
    l2 = {c: {n: headline(m)["L2 avg UniAD (m)"] for n, m in p.items()} for c, p in metrics.items()}
    col = {c: {n: headline(m)["collision avg UniAD (%)"] for n, m in p.items()}
           for c, p in metrics.items()}
    figures.corruption_bars(out / FIGURE_CORRUPTIONS, l2, "L2 avg, UniAD (m)")
    figures.corruption_bars(out / FIGURE_CORRUPTIONS_COLLISION, col, "collision avg, UniAD (%)")
    return [FIGURE_CORRUPTIONS, FIGURE_CORRUPTIONS_COLLISION]


def refuse_used_report_dir(out_dir: str | Path | None) -> None:
    """A report directory that already holds predictions MCAP is refused before the run: the
    recorder never overwrites one, and found it only after the whole run (a traceback)."""
    taken = sorted(p.name for p in Path(out_dir).glob(f"{MCAP_DIR}*")) if out_dir else []
    if taken:
        raise ValueError(f"--out {out_dir} already holds {', '.join(taken)}; choose a new "
                         "report directory")


def write_report(out_dir: str | Path, runs: Runs, settings: Mapping[str, object],
                 mcap_frames: Iterable[McapFrame] | None = None,
                 metrics: Mapping[str, Mapping[str, dict]] | None = None) -> dict:
    """Write the whole directory; returns the metrics document that metrics.json holds."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = evaluate_runs(runs) if metrics is None else metrics
    clean_runs = runs.get(CLEAN) or next(iter(runs.values()), {})
    clean = metrics.get(CLEAN) or next(iter(metrics.values()), {})
    figures.bev_samples(out / FIGURE_BEV, clean_runs)
    figures.error_vs_horizon(out / FIGURE_HORIZON, clean)
    figures.latency_histogram(out / FIGURE_LATENCY, clean_runs)
    made = [FIGURE_BEV, FIGURE_HORIZON, FIGURE_LATENCY] + _corruption_figures(out, metrics)
    files = {"figures": made}
    if mcap_frames is not None:
        with McapRecorder(out / MCAP_DIR) as recorder:
            for frame in mcap_frames:
                recorder.add(frame)
        files["mcap"] = MCAP_DIR
    document = to_jsonable({"settings": dict(settings), "results": metrics, "files": files})
    (out / METRICS_JSON).write_text(json.dumps(document, indent=2, sort_keys=False))
    (out / REPORT_MD).write_text("\n".join(_markdown(document, metrics, clean, made, files)) + "\n")
    return document


def _markdown(document, metrics, clean, made, files) -> list[str]:
    settings = document["settings"]
    lines = [f"# {settings.get('title', 'Evaluation report')}", ""]
    lines += [f"- {k}: {v}" for k, v in settings.items() if k != "title"]
    lines += ["", "## Summary (every condition and policy)", ""]
    lines += markdown_table(headline_rows(metrics), "condition")
    lines += [""] + _detail_sections(clean)
    lines += ["", "## Figures", ""] + [f"![{f}]({f})" for f in made]
    if "mcap" in files:
        lines += ["", f"Inputs and predictions: `{files['mcap']}/` (MCAP, open in Foxglove)."]
    lines += ["", "Metric definitions: docs/evaluation.md. All figures are in metrics.json."]
    return lines
