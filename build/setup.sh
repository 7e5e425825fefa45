#!/usr/bin/env bash
# Installs what PostTrain needs on Debian 12 with the .NET SDK, then builds it.
#   patchelf, gcc, python3  the build's libLibTorchSharp.so fix (build/fix-libtorchsharp.sh)
#   rabbitmq-server         the scale-out bus and its integration test
#   chromium                the studio's browser tests (Debian's build; no tool downloads its own)
#   python3-torch + libopenblas0-pthread   the numerics cross-check and the benchmark peer
#   python3-sentencepiece                  the reference that loads `posttrain tokenizer train`'s tokenizer.model
#   nodejs + npm            the studio front end (skipped when node is already there)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pkgs=(patchelf gcc python3 rabbitmq-server chromium python3-torch libopenblas0-pthread python3-sentencepiece)
command -v node >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's package starts a broker bound to every interface; PostTrain's runs on loopback (build/rabbitmq.sh).
if systemctl is-active --quiet rabbitmq-server 2>/dev/null; then systemctl stop rabbitmq-server || true; fi
dotnet build PostTrain.sln -c Release -nologo -v quiet
