#!/usr/bin/env bash
# Run HERE (not on the GPU machine), in the repository root, before a device run: the GPU machine of
# this workplace cannot reach the package index and does not receive ../shared/data, so this packs
#   .gpu_data/mmkb_offline.tar.gz  the FB15K and DB15K folders of $MIMEA_DATA/mmkb_offline (~8 MB)
#   .whl/                          wheels for Python 3.12 x86-64 of what the GPU image lacks (POT)
# Both are git-ignored; carry them: run(command="OUT=$OUT bash benchmarks/gpu_check.sh",
#                                        carry=[".gpu_data", ".whl"], timeout_s=600)
set -eu
DATA=${MIMEA_DATA:-../shared/data}
mkdir -p .gpu_data .whl
tar czf .gpu_data/mmkb_offline.tar.gz -C "$DATA" mmkb_offline/README.md mmkb_offline/FB15K mmkb_offline/DB15K
PIP=${PIP:-python3 -m pip}
$PIP download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "pot>=0.9.4"
ls -la .gpu_data .whl
