#!/usr/bin/env bash
# The post-training quality measurement (issues 3 and 15): the Llama 3 loop on the embedded defaults, from a fresh home.
# Prints the reward model's held-out pairwise accuracy and the held-out exact match of base -> after rejection-sampling
# SFT -> after DPO (the selected checkpoint), each with its 95% Wilson interval, and writes the quality report.
#   bash bench/quality.sh                       one round (pretraining included)
#   bash bench/quality.sh --rounds 6            the six-round report committed under docs/quality-report/
#   bash bench/quality.sh --rounds 6 --ablation the same, plus the ablation: the six rounds' prompts, samples, SFT and DPO
#                                               spent in one round (iterate --rounds 1 -p prompts=6*P -p pretrainingReplay=6*R)
#                                               from the same base,
#                                               compared on the same fresh held-out prompts (report --ablation)
# Other arguments go to `posttrain iterate` (e.g. -p samplesPerPrompt=16, --seed 1). QUALITY_HOME=DIR keeps the home there.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/posttrain-quality.XXXXXX)
home=${QUALITY_HOME:-$work/home}
# A private copy of the CLI: build and publish outputs are hard links (CreateHardLinksForCopyLocalIfPossible), and a
# concurrent build would rewrite them under the running job (SIGBUS). cp makes new files.
dotnet publish src/Cli -c Release -o "$work/publish" -nologo -v q
cp -r "$work/publish" "$work/bin"
args=()
ablation=0
for a in "$@"; do
  if [[ "$a" == "--ablation" ]]; then ablation=1; else args+=("$a"); fi
done
if [[ " ${args[*]-} " != *" --rounds "* ]]; then args=(--rounds 1 "${args[@]}"); fi
"$work/bin/posttrain" iterate --home "$home" "${args[@]}"
if [[ $ablation == 1 ]]; then
  rounds=1
  for ((i = 0; i < ${#args[@]}; i++)); do [[ "${args[$i]}" == "--rounds" ]] && rounds=${args[$((i + 1))]}; done
  ids() { "$work/bin/posttrain" runs --home "$home" --json | /usr/bin/python3 -c 'import json,sys; print(" ".join(r["id"] for r in sorted(json.load(sys.stdin), key=lambda r: r["createdAt"])))'; }
  loop=$(ids | awk '{print $NF}')
  # The rounds' prompts in one round: prompts is per round, so one round samples rounds x prompts (iterate.json's default
  # unless -p prompts=N is given).
  # The same for the pretraining conversations replayed into each round's SFT: one round replays the rounds' worth.
  default() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parameters"][sys.argv[2]]["default"])' workflows/iterate.json "$1"; }
  prompts=$(default prompts)
  replay=$(default pretrainingReplay)
  for ((i = 0; i < ${#args[@]}; i++)); do
    [[ "${args[$i]}" == "-p" && "${args[$((i + 1))]}" == prompts=* ]] && prompts=${args[$((i + 1))]#prompts=}
    [[ "${args[$i]}" == "-p" && "${args[$((i + 1))]}" == pretrainingReplay=* ]] && replay=${args[$((i + 1))]#pretrainingReplay=}
  done
  rest=()
  for ((i = 0; i < ${#args[@]}; i++)); do
    if [[ "${args[$i]}" == "--rounds" ]]; then i=$((i + 1)); elif [[ "${args[$i]}" == "-p" && ( "${args[$((i + 1))]}" == prompts=* || "${args[$((i + 1))]}" == pretrainingReplay=* ) ]]; then i=$((i + 1)); else rest+=("${args[$i]}"); fi
  done
  "$work/bin/posttrain" iterate --home "$home" --rounds 1 -p "prompts=$((rounds * prompts))" -p "pretrainingReplay=$((rounds * replay))" "${rest[@]}"
  one=$(ids | awk '{print $NF}')
  "$work/bin/posttrain" report "$loop" --ablation "$one" --home "$home"
fi
echo "home: $home (delete it when done)"
