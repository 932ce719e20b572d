"""Two CPU processes under torchrun (gloo on 127.0.0.1): both ranks end with identical weights,
the lead head's included (it trains outside the DDP wrapper)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_training_keeps_ranks_in_sync(tmp_path):
    env = dict(os.environ, GLOO_SOCKET_IFNAME="lo", OMP_NUM_THREADS="1",
               PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           str(HERE / "ddp_worker.py"), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [(tmp_path / f"rank{r}.txt").read_text().split("\n") for r in (0, 1)]
    assert ranks[0][2] == ranks[1][2] == "2"           # really two processes
    assert ranks[0][0] == ranks[1][0]                  # identical weights after all stages
    assert ranks[0][1] != ranks[1][1]                  # ... although each saw other batches
    assert ranks[0][4] == ranks[1][4] == "1"           # one stage trained a lead head
    assert ranks[0][3] == ranks[1][3]                  # ... and it ended identical on both ranks
    assert (tmp_path / "drive" / "model.safetensors").is_file()
