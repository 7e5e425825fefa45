#!/usr/bin/env bash
# Annealing with and without (issue 17): the same pretraining three ways, side by side in one run —
#   cosine                 warmup + cosine (Llama 3), annealing on the upsampled hard tasks
#   wsd                    warmup-stable-decay (MiniCPM), the decay over the annealing window
#   wsd + anneal-sft       WSD with SFT conversations mixed into the decay phase (MiniCPM sec. 5)
# and prints each run's held-out loss (nats/token) and greedy held-out exact match. The SFT conversations are
# generated here with 4-digit operands, so none can be a held-out task (difficulty 2 has at most 3 digits).
#   bash bench/annealing.sh                       small preset, 800 steps (the pretrainer's defaults)
#   bash bench/annealing.sh --preset tiny --steps 300
# Other arguments go to every `posttrain pretrain` (e.g. --seed 1).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/posttrain-annealing.XXXXXX)
# A private copy of the CLI: build outputs are hard links, and a concurrent build would rewrite them under the run.
dotnet publish src/Cli -c Release -o "$work/publish" -nologo -v q
cp -r "$work/publish" "$work/bin"

/usr/bin/python3 - "$work/anneal-sft.jsonl" <<'PY'
import json, random, sys
rng = random.Random(17)
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        a, b = rng.randint(1000, 9999), rng.randint(1000, 9999)
        if i % 3 == 0:
            prompt, answer = f"What is {a} + {b}?", str(a + b)
        elif i % 3 == 1:
            prompt, answer = f"What is {max(a, b)} - {min(a, b)}?", str(max(a, b) - min(a, b))
        else:
            values = rng.sample(range(1000, 9999), 4)
            prompt, answer = "Sort in ascending order: " + ", ".join(map(str, values)), ", ".join(map(str, sorted(values)))
        f.write(json.dumps({"prompt": [{"role": "user", "content": prompt}], "response": answer}) + "\n")
PY

run() {
  local name=$1; shift
  "$work/bin/posttrain" pretrain --out "$work/$name" --json "$@" > "$work/$name.json"
  /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); em=r.get('exactMatch'); print(f\"| {sys.argv[2]} | {r['heldOutLoss']:.4f} | {'n/a' if em is None else f'{em*100:.1f}%'} | {r['elapsed']} |\")" "$work/$name.json" "$name"
}
echo "| run | held-out loss | held-out exact match | wall time |"
echo "|---|---|---|---|"
run cosine --schedule cosine "$@"
run wsd --schedule wsd "$@"
run wsd-anneal-sft --schedule wsd --anneal-sft "$work/anneal-sft.jsonl" "$@"
echo "work directory: $work (delete it when done)"
