"""Every example runs as a user would run it, in a short form (fewer epochs, a lower
accuracy bar), and reaches its own exit-0 condition. (bucketing_lm has its own test.)"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = {
    "cnn_digits": ["examples/cnn_digits.py", "--epochs", "4", "--min-acc", "0.9"],
    "sequential_mlp": ["examples/sequential_mlp.py", "--epochs", "3", "--min-acc", "0.9"],
    "python_loss": ["examples/python_loss.py", "--epochs", "3", "--min-acc", "0.9"],
    "nnabla_resunit": ["examples/nnabla_resunit.py", "--iters", "80", "--channels", "16"],
    "bigdl_lenet": ["examples/bigdl_lenet.py", "--epochs", "8", "--min-acc", "0.9"],
    "sparse_fm": ["examples/sparse_fm.py", "--epochs", "4", "--train", "8000",
                  "--max-rel-mse", "0.5"],
    "distributed_mlp": ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        "examples/distributed_mlp.py", "--epochs", "6", "--min-acc", "0.9"],
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs(name):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, *EXAMPLES[name]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])


def test_every_example_is_run():
    files = {f[:-3] for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py")}
    assert files == set(EXAMPLES) | {"bucketing_lm"}
