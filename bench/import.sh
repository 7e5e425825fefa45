#!/usr/bin/env bash
# Import memory and error output (issue 19): `posttrain data import` on generated JSONL files of SMALL and LARGE lines
# (default 10^5 and 10^6) for each kind, peak RSS of each (GNU time's %M), the ratio LARGE/SMALL side by side in one run
# (1.0 = memory independent of the file's size), and the stderr lines printed for a file of LARGE bad lines (the
# contract: at most 20 error lines plus one count line). Needs a Release build of src/Cli.
#   bash bench/import.sh [SMALL] [LARGE] [KINDS]     e.g. bash bench/import.sh 100000 1000000 "prompts preferences sft"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
small=${1:-100000}; large=${2:-1000000}; kinds=${3:-"prompts preferences sft"}
dll=src/Cli/bin/Release/net10.0/posttrain.dll
[ -f "$dll" ] || nice -n 10 dotnet build src/Cli -c Release -nologo -v quiet
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

make() { # kind lines bad -> file
  /usr/bin/python3 - "$1" "$2" "$3" "$work/$1-$2-$3.jsonl" <<'PY'
import json, sys
kind, n, bad, path = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "bad", sys.argv[4]
with open(path, "w") as f:
    for i in range(n):
        if bad: f.write('{"prompt": 7}\n' if kind != "sft" else '{"prompt": [], "response": ""}\n'); continue
        q = f"What is {i} plus {i % 97}? Show the steps and give the final number."
        if kind == "prompts": row = {"prompt": q, "answer": str(i + i % 97)}
        elif kind == "preferences": row = {"prompt": q, "chosen": f"The answer is {i + i % 97}.", "rejected": f"The answer is {i + i % 97 + 1}."}
        else: row = {"prompt": [{"role": "user", "content": q}], "response": f"The answer is {i + i % 97}."}
        f.write(json.dumps(row) + "\n")
PY
  echo "$work/$1-$2-$3.jsonl"
}

rss() { # file kind -> "peak_kb exit stderr_lines seconds"
  local home; home=$(mktemp -d -p "$work")
  local start=$SECONDS
  set +e
  /usr/bin/time -f "%M" -o "$work/time" nice -n 10 dotnet "$dll" data import "$1" --kind "$2" --home "$home" --json >/dev/null 2>"$work/err"
  local code=$?
  set -e
  echo "$(tail -n1 "$work/time") $code $(grep -vc '^[0-9]*$' "$work/err" || true) $((SECONDS - start))"
}

printf "| kind | lines | file MB | peak RSS MB | exit | seconds |\n|---|---|---|---|---|---|\n"
declare -A peak
for kind in $kinds; do
  for n in $small $large; do
    f=$(make "$kind" "$n" good)
    read -r kb code _ secs < <(rss "$f" "$kind")
    peak[$kind-$n]=$kb
    printf "| %s | %d | %.0f | %.0f | %d | %d |\n" "$kind" "$n" "$(($(stat -c %s "$f") / 1048576))" "$((kb / 1024))" "$code" "$secs"
    rm -f "$f"
  done
done
echo
for kind in $kinds; do
  awk -v k="$kind" -v a="${peak[$kind-$small]}" -v b="${peak[$kind-$large]}" -v s="$small" -v l="$large" \
    'BEGIN { printf "%s: peak RSS at %d lines / at %d lines = %.2f\n", k, l, s, b / a }'
done
echo
for kind in $kinds; do
  f=$(make "$kind" "$large" bad)
  read -r kb code lines secs < <(rss "$f" "$kind")
  echo "$kind: $large bad lines -> exit $code, $lines stderr lines, peak RSS $((kb / 1024)) MB, ${secs} s"
  rm -f "$f"
done
