#!/usr/bin/env bash
# One prepared GPU check (issue 15): on a fresh GPU machine, with cwd = this repository's root and
# $OUT an empty output folder, in at most ~9 minutes (GPU_CHECK_BUDGET_S, default 540):
#   1. a venv, `pip install torch==2.13.0` first and `requirements-dev.txt` second; where the
#      machine is offline, the image's own python3 (with its CUDA torch) plus the wheels in .whl/
#      (made beforehand by benchmarks/gpu_prepare.sh) on PYTHONPATH instead;
#   2. tests/test_cuda.py (must not be skipped: torch.cuda.is_available() is checked first);
#   3. FB15K-DB15K 20% on CUDA, split seeds 1,2,3 as time allows (benchmarks/gpu_bench.py);
#   4. optionally (GPU_SCALE=1, when >150 s are left) the synthetic 100k scale point on CUDA.
# Data: $MIMEA_DATA, else ../shared/data beside the repository (what datasets/*.toml resolve), else
# .gpu_data/mmkb_offline.tar.gz (made by gpu_prepare.sh) unpacked into /tmp.
# This workplace: bash benchmarks/gpu_prepare.sh here, then
#   run(command="OUT=$OUT bash benchmarks/gpu_check.sh", carry=[".gpu_data", ".whl"], timeout_s=600)
# Writes into $OUT (at most 8 files come back): gpu_check.log (everything printed), env.txt,
# cuda_tests.log, gpu_fb15k-db15k.json/.md (+ scale-gpu.json/.md/.png). GPU_TRAIN_BUDGET_S (default 60) is the training time per seed.
set -u -o pipefail
: "${OUT:?set OUT to the output folder}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
START=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET_S:-540}
left() { echo $((BUDGET - ($(date +%s) - START))); }
step() { echo "== [$(($(date +%s) - START)) s] $*"; }
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD" HF_HUB_OFFLINE=1
unset CI  # real-data tests may skip here; the CUDA tests must not fail for a missing data folder

step "machine"
{ nvidia-smi || true; nproc; python3 --version; } > "$OUT/env.txt" 2>&1

step "venv + install (torch==2.13.0 first, then requirements-dev.txt)"
VENV=/tmp/mimea-venv
python3 -m venv "$VENV"
PY="$VENV/bin/python"
PIP=("$PY" -m pip install -q --disable-pip-version-check --retries 0 --timeout 10)
if timeout 180 "${PIP[@]}" torch==2.13.0 && timeout $(( $(left) > 300 ? 120 : 60 )) "${PIP[@]}" -r requirements-dev.txt; then
  echo "installed from the package index into $VENV"
else
  # offline (this workplace's GPU machines): the image's python3 holds a CUDA torch; add the
  # carried wheels (.whl/, from benchmarks/gpu_prepare.sh) on PYTHONPATH, as its notes advise
  PY=python3
  if [ -d .whl ]; then
    echo "package index unreachable: the image's python3 + the wheels in .whl/"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
    export PYTHONPATH="$PWD:/tmp/site"
  else
    echo "package index unreachable and no .whl/: the image's python3 as it is"
  fi
fi
"$PY" -m pip freeze >> "$OUT/env.txt" 2>&1
"$PY" - <<'PY' || { echo "FATAL: torch without CUDA in the venv"; exit 1; }
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
assert torch.cuda.is_available()
print("gpu", torch.cuda.get_device_name(0))
PY

if [ -z "${MIMEA_DATA:-}" ]; then
  if [ -d ../shared/data/mmkb_offline ]; then
    export MIMEA_DATA=$(cd ../shared/data && pwd)
  elif [ -f .gpu_data/mmkb_offline.tar.gz ]; then
    mkdir -p /tmp/mimea_data && tar xzf .gpu_data/mmkb_offline.tar.gz -C /tmp/mimea_data
    export MIMEA_DATA=/tmp/mimea_data
  fi
fi
echo "MIMEA_DATA=${MIMEA_DATA:-<none>}"

step "CUDA tests ($(left) s left)"
timeout $(( $(left) > 330 ? 150 : $(left) / 3 )) "$PY" -m pytest -q -rsP -p no:cacheprovider tests/test_cuda.py \
  > "$OUT/cuda_tests.log" 2>&1
echo "CUDA tests exit $? (log: cuda_tests.log)"; tail -n 3 "$OUT/cuda_tests.log"

if [ -n "${MIMEA_DATA:-}" ]; then
  T=$(( $(left) - 30 ))
  step "FB15K-DB15K 20% on CUDA, seeds 1,2,3 as time allows (${T} s)"
  timeout "$T" "$PY" benchmarks/gpu_bench.py --out "$OUT" --deadline-s $(( T - 20 )) \
    --time-budget "${GPU_TRAIN_BUDGET_S:-60}"
  echo "bench exit $?"; rm -f "$OUT"/*.lock
else
  echo "no data: FB15K-DB15K training skipped"
fi
if [ "${GPU_SCALE:-0}" = 1 ] && [ "$(left)" -gt 150 ]; then
  step "scale: synthetic 100k on CUDA ($(left) s left)"
  timeout $(( $(left) - 10 )) "$PY" benchmarks/scale.py --sizes 100000 --device cuda --test-sample 1000 \
    --name scale-gpu --out "$OUT"
  echo "scale exit $?"
fi
step "done"
