#!/usr/bin/env bash
# Every GPU check of issues 5 and 7 in one call of the device tool (at most 9 minutes on an
# H200), run from the repository root on the GPU machine, whose python3 has CUDA torch,
# pytest and Lightning (nothing to install):
#   run(command="bash tools/gpu_check.sh", timeout_s=600)
# Each part has its own time limit, so a slow part cannot take the others' logs with it;
# every log lands in $OUT (or /tmp/gpu_check) for files_at. Parts:
#   1. the tests that need CUDA (they skip on CPU machines), the whole file each
#   2. NCCL: tools/nccl_check.py under torchrun, one process per GPU
#   3. bench/peak.py: fastest hand-written step vs fastest mxtorch Module, (a) and (c)
#   4. the suite on cuda, (a) (c) (e) (d): mxtorch vs torch loop vs Lightning
#   5. bench/accel.py on cuda: each accelerator against the default path
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-/tmp/gpu_check}"
mkdir -p "$OUT"
PY=python3
part() {  # part NAME SECONDS COMMAND...: run with a limit, log to $OUT/NAME.log
    local name=$1 limit=$2
    shift 2
    echo "=== $name (limit ${limit}s): $*"
    local t0=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$OUT/$name.log"
    echo "=== $name: exit $rc after $((SECONDS - t0)) s"
}
{ nvidia-smi -L; $PY -c "import torch; print('torch', torch.__version__, 'cuda',
  torch.version.cuda, torch.cuda.get_device_name(), 'gpus', torch.cuda.device_count())"
} 2>&1 | tee "$OUT/machine.log"
GPUS=$($PY -c "import torch; print(torch.cuda.device_count())")

part tests 120 $PY -m pytest -q -x -p no:cacheprovider -n 4 \
    tests/executor/test_accel.py tests/executor/test_fusion.py tests/test_context.py \
    tests/metric/test_metric_device.py tests/initializer/test_initializer.py \
    tests/ndarray/test_random.py tests/ndarray/test_serialize.py tests/io/test_ndarray_iter.py \
    tests/compat/test_params_format.py tests/kvstore
part nccl 60 $PY -m torch.distributed.run --standalone --nproc_per_node="$GPUS" \
    tools/nccl_check.py
part peak 100 $PY bench/peak.py --device cuda
part suite 200 $PY -m bench --device cuda --workloads a,c,e,d --peers mxtorch,torch,lightning \
    --repeat 3 --json "$OUT/bench_cuda.json"
part accel 60 $PY bench/accel.py --device cuda --variants default,bf16,channels_last,bf16+cl \
    --steps 20 --rounds 3
echo "logs in $OUT"
