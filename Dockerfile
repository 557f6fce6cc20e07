# MIMEA workbench image.
#   CPU (default):  docker build -t mimea .
#   CUDA:           docker build -t mimea-cuda \
#                     --build-arg BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 \
#                     --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 .
#   Run:            docker run -p 127.0.0.1:8501:8501 mimea
# Inside the container the app listens on 0.0.0.0 so that the published port works; the
# `-p 127.0.0.1:...` mapping keeps it reachable from this machine only.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    MIMEA_CACHE=/data/cache \
    MIMEA_APP_DIR=/data/mimea

# CUDA base images come without Python; install it there (no-op on python:3.11-slim).
RUN if ! command -v python3 >/dev/null 2>&1; then \
        apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /srv/mimea
COPY requirements.txt ./
# torch first, from PyTorch's own wheel index (CPU build by default), then the rest.
RUN pip install --upgrade pip \
    && pip install torch==2.13.0 --index-url ${TORCH_INDEX} \
    && pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY mimea_core ./mimea_core
COPY app ./app
COPY assets ./assets
COPY sample_data ./sample_data
COPY datasets ./datasets
RUN pip install --no-deps -e .

RUN useradd --create-home mimea && mkdir -p /data && chown mimea /data
USER mimea
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "app/Home.py", "--server.address", "0.0.0.0", "--server.port", "8501", \
     "--server.headless", "true", "--browser.gatherUsageStats", "false"]
