"""Export -> verify -> load -> infer on the tiny model, with the GPTQ INT4 LLM."""

import json

import pytest
import torch

from bundle_test_helpers import export_tiny_bundle

from vla_driving.apps.cli import main as cli_main
from vla_driving.engines.config import EngineConfig
from vla_driving.model.checkpoint import load_checkpoint
from vla_driving.model.inference import plan_actions
from vla_driving.bundle import MANIFEST_FILE, verify_bundle
from vla_driving.policy.bundle_loader import load_bundle

pytest.importorskip("gptqmodel", reason="GPTQModel not installed (pip install 'vla_driving[gptq]')")
torch.set_num_threads(2)

# Waypoints of the int4 bundle vs the fp32 checkpoint (untrained tiny model, metres).
MAX_WAYPOINT_DIFF_M = 0.5


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export_tiny_bundle(tmp_path_factory.mktemp("gptq_bundle"), quantize=True)


def _batch(samples):
    stack = lambda key: torch.stack([torch.as_tensor(s[key]) for s in samples])  # noqa: E731
    return stack("images"), stack("ego"), stack("past"), [s["instruction"] for s in samples]


def test_manifest_describes_the_bundle(exported):
    bundle, _, _ = exported
    manifest = verify_bundle(bundle)
    assert manifest.precision == {"encoder": "fp32", "projector": "fp32", "llm": "int4",
                                  "action_head": "fp32"}
    assert manifest.llm["format"] == "gptq" and manifest.llm["group_size"] == 16
    encoder = manifest.engines["encoder"]
    assert encoder["inputs"][0] == {"name": "images", "dtype": "float32",
                                    "shape": [-1, 4, 3, 32, 32]}
    assert manifest.preprocessing["cameras"] == ["bev_near", "bev_far"]
    assert {"torch", "onnxruntime", "gptqmodel"} <= set(manifest.tools)
    assert "llm/model.safetensors" in manifest.files
    assert json.loads((bundle / "llm" / "config.json").read_text())["quantization_config"][
        "quant_method"] == "gptq"


def test_loaded_bundle_plans_like_the_checkpoint(exported):
    bundle, samples, _ = exported
    loaded = load_bundle(bundle, EngineConfig(backend="onnxruntime", ort_providers=["cpu"]),
                         device="cpu")
    assert loaded.encoder.backend == "onnxruntime"
    reference, tokenizer = load_checkpoint(bundle.parent / "ckpt")
    images, ego, past, instructions = _batch(samples[:3])
    got = plan_actions(loaded.model, loaded.tokenizer, images, ego, past, instructions)
    want = plan_actions(reference, tokenizer, images, ego, past, instructions)
    diff = (got.waypoints - want.waypoints).abs().max().item()
    print(f"int4 bundle vs fp32 checkpoint: max waypoint difference {diff:.4f} m")
    assert got.waypoints.shape == (3, 6, 2) and torch.isfinite(got.waypoints).all()
    assert diff < MAX_WAYPOINT_DIFF_M


def test_torch_backend_of_the_bundle_gives_the_onnx_visual_tokens(exported):
    bundle, samples, _ = exported
    onnx = load_bundle(bundle, EngineConfig(backend="onnxruntime"), device="cpu")
    eager = load_bundle(bundle, EngineConfig(backend="torch"), device="cpu")
    from vla_driving.model.vision import normalise_images

    images = normalise_images(_batch(samples[:2])[0], onnx.model.cfg.vision)
    a, b = onnx.model.frontend(images), eager.model.frontend(images)
    assert eager.encoder.backend == "torch" and (a - b).abs().max() < 1e-4


def test_verify_cli_accepts_the_bundle_and_prints_its_files(exported, capsys):
    bundle, _, _ = exported
    assert cli_main(["export", "verify", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "encoder.onnx" in out and "llm/model.safetensors" in out and "OK:" in out


def test_the_manifest_is_the_only_unhashed_file(exported):
    bundle, _, _ = exported
    manifest = verify_bundle(bundle)
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert on_disk - set(manifest.files) == {MANIFEST_FILE}


def test_a_bundle_becomes_a_trainable_checkpoint_that_plans_as_it_does(exported, tmp_path):
    """from-bundle: the INT4 LLM dequantized, the bundle's own head weights: the checkpoint
    (pure torch, trainable) plans as the loaded bundle does, not as the original fp32 one."""
    from vla_driving_training.from_bundle import checkpoint_from_bundle

    bundle, samples, _ = exported
    out = checkpoint_from_bundle(bundle, tmp_path / "ckpt")
    model, tokenizer = load_checkpoint(out)                       # strict: every weight there
    assert all(p.dtype == torch.float32 for p in model.parameters())
    loaded = load_bundle(bundle, EngineConfig(backend="onnxruntime", ort_providers=["cpu"]),
                         device="cpu")
    original, _ = load_checkpoint(bundle.parent / "ckpt")
    images, ego, past, instructions = _batch(samples[:3])
    got = plan_actions(model, tokenizer, images, ego, past, instructions).waypoints
    runs = plan_actions(loaded.model, loaded.tokenizer, images, ego, past, instructions).waypoints
    before = plan_actions(original, tokenizer, images, ego, past, instructions).waypoints
    assert (got - runs).abs().max().item() < 0.05     # the INT4 kernel computes in fp16
    assert (got - before).abs().max().item() > (got - runs).abs().max().item()
