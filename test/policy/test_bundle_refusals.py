"""Bundles that are incomplete, altered, of another format version, or fed the wrong input
shape are refused with a message naming the problem."""

import json
import shutil

import numpy as np
import pytest
import torch

from bundle_test_helpers import export_tiny_bundle

from vla_driving.apps.cli import main as cli_main
from vla_driving.engines.base import InputError
from vla_driving.engines.config import EngineConfig
from vla_driving.policy.base import PolicyUnavailableError
from vla_driving.bundle import ENGINE_CACHE_DIR, MANIFEST_FILE, BundleError, verify_bundle
from vla_driving.bundle.manifest import content_digest
from vla_driving.policy.bundle_loader import load_bundle

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    bundle, _, _ = export_tiny_bundle(tmp_path_factory.mktemp("fp_bundle"), quantize=False)
    return bundle


@pytest.fixture
def bundle(pristine, tmp_path):
    return shutil.copytree(pristine, tmp_path / "bundle")


def _edit_manifest(bundle, **changes):
    """Change entries and re-sign (a consistently written but wrong manifest)."""
    path = bundle / MANIFEST_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    data["manifest_sha256"] = content_digest(data)
    path.write_text(json.dumps(data))


def test_a_one_value_change_of_the_manifest_is_refused_and_changes_the_id(bundle):
    """Issue 19 item 8: waypoint_scale_m 4.0 -> 5.0 loaded silently with the same bundle id."""
    path = bundle / MANIFEST_FILE
    data = json.loads(path.read_text())
    old_id = verify_bundle(bundle).bundle_id
    assert data["architecture"]["vla"]["head"]["waypoint_scale_m"] == 4.0
    data["architecture"]["vla"]["head"]["waypoint_scale_m"] = 5.0
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="manifest.json was altered"):
        verify_bundle(bundle)
    data["manifest_sha256"] = content_digest(data)   # re-signed: verifies, under another id
    path.write_text(json.dumps(data))
    assert verify_bundle(bundle).bundle_id != old_id


def test_a_manifest_without_its_digest_is_refused(bundle):
    path = bundle / MANIFEST_FILE
    data = json.loads(path.read_text())
    del data["manifest_sha256"]
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="no manifest_sha256"):
        verify_bundle(bundle)


def test_pristine_bundle_verifies(bundle):
    assert verify_bundle(bundle).llm["format"] == "hf"


def test_tampered_file_is_refused(bundle):
    path = bundle / "encoder.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF   # same size, different content
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"'encoder.onnx' was altered \(sha256"):
        verify_bundle(bundle)


def test_truncated_file_is_refused_by_size(bundle):
    path = bundle / "llm" / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(BundleError, match=r"'llm/model.safetensors' was altered \(size"):
        verify_bundle(bundle)


def test_missing_file_is_refused(bundle):
    (bundle / "policy.safetensors").unlink()
    with pytest.raises(BundleError, match="incomplete bundle, 'policy.safetensors' is missing"):
        verify_bundle(bundle)


def test_missing_manifest_is_refused(bundle):
    (bundle / MANIFEST_FILE).unlink()
    with pytest.raises(BundleError, match="manifest.json is missing"):
        verify_bundle(bundle)


def test_wrong_format_version_is_refused(bundle):
    _edit_manifest(bundle, format_version=99)
    with pytest.raises(BundleError, match=r"format version 99 is not supported; this runtime "
                                          r"reads versions \[1, 2\]"):
        verify_bundle(bundle)


def test_not_a_manifest_is_refused(bundle):
    (bundle / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        verify_bundle(bundle)
    (bundle / MANIFEST_FILE).write_text(json.dumps({"format": "other", "format_version": 1}))
    with pytest.raises(BundleError, match="not a vla_driving bundle manifest"):
        verify_bundle(bundle)


def test_unlisted_file_is_refused_but_the_engine_cache_is_not_content(bundle):
    (bundle / ENGINE_CACHE_DIR).mkdir()
    (bundle / ENGINE_CACHE_DIR / "encoder-0123.plan").write_bytes(b"plan")
    verify_bundle(bundle)
    (bundle / "llm" / "extra.safetensors").write_bytes(b"x")
    with pytest.raises(BundleError, match=r"files not in the manifest: \['llm/extra.safetensors'\]"):
        verify_bundle(bundle)


def test_unsafe_path_in_manifest_is_refused(bundle):
    data = json.loads((bundle / MANIFEST_FILE).read_text())
    data["files"]["../outside"] = {"sha256": "0" * 64, "bytes": 1}
    data["manifest_sha256"] = content_digest(data)
    (bundle / MANIFEST_FILE).write_text(json.dumps(data))
    with pytest.raises(BundleError, match="unsafe path '../outside'"):
        verify_bundle(bundle)


def test_load_refuses_an_altered_bundle_before_loading_anything(bundle):
    (bundle / "tokenizer.json").write_text("{}")
    with pytest.raises(PolicyUnavailableError, match="'tokenizer.json' was altered"):
        load_bundle(bundle, device="cpu")


def test_wrong_input_shape_is_refused_by_the_loaded_encoder(bundle):
    loaded = load_bundle(bundle, EngineConfig(backend="onnxruntime"), device="cpu")
    wrong = np.zeros((1, 2, 3, 32, 32), dtype=np.float32)  # 2 images instead of T*N = 4
    with pytest.raises(InputError, match=r"input 'images': shape \(1, 2, 3, 32, 32\), expected "
                                         r"\[N, 4, 3, 32, 32\]"):
        loaded.encoder.run({"images": wrong})
    with pytest.raises(InputError):
        loaded.model.frontend(torch.zeros(1, 4, 3, 64, 64))


def test_verify_cli_fails_with_the_reason(bundle, capsys):
    (bundle / "encoder.onnx").unlink()
    assert cli_main(["export", "verify", str(bundle)]) == 1
    assert "incomplete bundle, 'encoder.onnx' is missing" in capsys.readouterr().err


def test_bundle_loads_and_plans_without_the_training_package(pristine):
    import subprocess
    import sys

    code = f"""
import sys
sys.modules["vla_driving_training"] = None  # any import of it now fails
import torch
from vla_driving.policy.bundle_loader import load_bundle
from vla_driving.model.inference import plan_actions
b = load_bundle({str(pristine)!r}, device="cpu")
out = plan_actions(b.model, b.tokenizer, torch.zeros(1, 2, 2, 3, 32, 32, dtype=torch.uint8),
                   torch.tensor([[5.0, 0.0, 0.0]]), torch.zeros(1, 4, 2), ["keep lane"])
assert out.waypoints.shape == (1, 6, 2)
assert not any(m.startswith("vla_driving_training") for m in sys.modules if sys.modules[m])
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_manifest_without_an_encoder_entry_is_refused(bundle):
    _edit_manifest(bundle, engines={})
    with pytest.raises(BundleError, match="'engines' lacks 'encoder'"):
        verify_bundle(bundle)
