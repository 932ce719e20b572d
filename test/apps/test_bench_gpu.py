"""`vla-driving bench gpu`: says when no GPU is present, times the stages of a real pipeline,
keeps going when a part fails, writes the JSON keys the bench-all collector reads, and builds
an LLM of Qwen2.5-0.5B's exact shapes."""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from vla_driving.apps import bench_gpu, bench_gpu_qwen, gpu_timing
from vla_driving.apps.cli import COMMANDS
from vla_driving.model.vla import VLAModel

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "models" / "default"
STAGES = ("first plan s", "encoder ms", "llm+head ms", "total ms", "decode ms/token",
          "decode tok/s")


def _args(*argv):
    parser = argparse.ArgumentParser()
    bench_gpu.add_arguments(parser)
    return parser.parse_args(["--bundle", str(BUNDLE), *argv])


def _tiny_part(args, device, budget):
    """The bundle's architecture with a fresh full-precision tiny LLM: no GPTQModel needed."""
    cfg, tokenizer = bench_gpu_qwen._bundle_cfg_and_tokenizer(args)
    part = gpu_timing.Part("tiny", "fp32", gpu_timing.device_label(device))
    load_start = time.perf_counter()
    model = VLAModel(cfg).to(device).eval()
    pipe = gpu_timing.Pipeline(model, tokenizer, device, torch.float32, args.seed)
    gpu_timing.time_pipeline(part, pipe, load_start, args, budget)
    return part


def _broken_part(args, device, budget):
    raise RuntimeError("kernel exploded")


def test_without_a_gpu_it_says_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_timing.pick_device("auto") == ("cpu", gpu_timing.NO_GPU)
    assert "no CUDA GPU" in gpu_timing.NO_GPU and "CPU figures" in gpu_timing.NO_GPU
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        gpu_timing.pick_device("cuda")


def test_table_has_every_stage_and_json_has_the_collector_keys(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(bench_gpu, "PARTS", {"bundle": _tiny_part, "qwen-int4": _broken_part})
    out = tmp_path / "bench.json"
    args = _args("--cycles", "3", "--decode-tokens", "2", "--decode-runs", "1",
                 "--parts", "bundle,qwen-int4", "--json", str(out))
    assert bench_gpu.main(args) == 0          # one part failed, the table still came
    text = capsys.readouterr().out
    assert gpu_timing.NO_GPU in text.splitlines()[0] and text.rstrip().endswith(gpu_timing.NO_GPU)
    rows = [line for line in text.splitlines() if line.startswith("tiny")]
    assert [s for s in STAGES if any(f"  {s}  " in r for r in rows)] == list(STAGES)
    assert all("  CPU  " in r for r in rows)
    assert "n/a: RuntimeError: kernel exploded" in text
    data = json.loads(out.read_text())
    assert data["cpu_only"] is True and data["device"] == "cpu"
    assert data["first_plan_ms"] > 0 and data["steady_infer_p50_ms"] > 0
    assert data["steady_infer_p99_ms"] >= data["steady_infer_p50_ms"]
    assert data["decode_tokens_per_s"] > 0 and data["parts"]["bundle"]["cycles"] == 3
    assert data["table"].endswith(gpu_timing.NO_GPU)


def test_a_spent_budget_skips_with_a_note(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(bench_gpu, "PARTS", {"bundle": _tiny_part})
    assert bench_gpu.main(_args("--budget-s", "0", "--parts", "bundle")) == 1  # nothing measured
    assert "n/a: skipped, --budget-s spent" in capsys.readouterr().out


def test_int4_part_is_skipped_when_too_little_budget_is_left():
    args = _args("--budget-s", "1")
    part = bench_gpu_qwen.part_qwen_int4(args, "cpu", gpu_timing.Budget(1))
    assert part.rows[0].stage == "quantize s" and "skipped" in part.rows[0].note


def test_qwen05b_config_has_the_real_shapes():
    from transformers import Qwen2ForCausalLM

    config = bench_gpu_qwen.qwen05b_config()
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads,
            config.num_key_value_heads, config.intermediate_size, config.vocab_size) == (
        896, 24, 14, 2, 4864, 151936)
    assert config.tie_word_embeddings
    with torch.device("meta"):
        model = Qwen2ForCausalLM(config)
    assert sum(p.numel() for p in model.parameters()) == bench_gpu_qwen.QWEN05B_PARAMS
    fewer = bench_gpu_qwen.qwen05b_config(2)
    assert fewer.num_hidden_layers == 2 and fewer.hidden_size == 896


def test_qwen_vla_puts_the_bundle_architecture_around_the_big_llm():
    cfg, _ = bench_gpu_qwen._bundle_cfg_and_tokenizer(_args())
    with torch.device("meta"):
        llm = bench_gpu_qwen.random_qwen(bench_gpu_qwen.qwen05b_config(1), "meta",
                                         torch.float16, 0)
        model = bench_gpu_qwen.qwen_vla(cfg, llm, 1)
    assert model.d_model == 896 and model.cfg.llm.vocab_size == 151936
    assert model.cfg.vision == cfg.vision and model.cfg.head == cfg.head


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert gpu_timing.percentile(values, 50) == 50 and gpu_timing.percentile(values, 99) == 99
    assert gpu_timing.percentile([7.0], 99) == 7.0


def test_cli_lists_bench_gpu():
    assert (("bench", "gpu"), "vla_driving.apps.bench_gpu") in [(w, m) for w, m, _ in COMMANDS]


@pytest.mark.slow
def test_gpu_check_script_runs_every_part_on_the_cpu(tmp_path):
    """The real thing, tiny: bundle through GPTQModel, 0.5B-shaped fp32 and INT4 (1 layer)."""
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_check.sh"), "--device", "cpu", "--cycles", "2",
         "--decode-tokens", "2", "--decode-runs", "1", "--qwen-layers", "1",
         "--calib-samples", "2"],
        cwd=ROOT, env={**__import__("os").environ, "OUT": str(tmp_path),
                       "PYTHON": sys.executable},
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    data = json.loads((tmp_path / "bench_gpu.json").read_text())
    assert set(data["parts"]) == {"bundle", "qwen-fp16", "qwen-int4"}
    assert "n/a" not in data["table"], data["table"]
    assert data["parts"]["qwen-int4"]["quantize_s"] > 0
