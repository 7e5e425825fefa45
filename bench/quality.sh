#!/usr/bin/env bash
# The post-training quality measurement (issue 3): one Llama 3 round on the embedded defaults, from a fresh home.
# Prints the reward model's held-out pairwise accuracy and the held-out exact match of base -> after rejection-sampling
# SFT -> after DPO (the selected checkpoint), each with its 95% Wilson interval, and writes the quality report.
#   bash bench/quality.sh                 one round (about 8 minutes on 2 cores, pretraining included)
#   bash bench/quality.sh --rounds 6      the six-round report committed under docs/quality-report/
# Other arguments go to `posttrain iterate` (e.g. -p samplesPerPrompt=16, --seed 1).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/posttrain-quality.XXXXXX)
# A private copy of the CLI: build and publish outputs are hard links (CreateHardLinksForCopyLocalIfPossible), and a
# concurrent build would rewrite them under the running job (SIGBUS). cp makes new files.
dotnet publish src/Cli -c Release -o "$work/publish" -nologo -v q
cp -r "$work/publish" "$work/bin"
args=("$@")
if [[ " ${args[*]-} " != *" --rounds "* ]]; then args=(--rounds 1 "${args[@]}"); fi
"$work/bin/posttrain" iterate --home "$work/home" "${args[@]}"
echo "home: $work/home (delete it when done)"
