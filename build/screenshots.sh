#!/usr/bin/env bash
# Regenerates the README's studio screenshots from a home with a finished run:
#   bash build/screenshots.sh HOME OUTDIR        (e.g. bash build/screenshots.sh /work/quality-homes/final docs)
# Starts `posttrain studio` on HOME (the home's own workflows, no worker, a free loopback port), picks the newest
# succeeded run (an iterate run if there is one), and writes OUTDIR/studio-designer.png, studio-run-monitor.png and
# studio-run-monitor-iterate.png with Debian's headless chromium (build/screenshots.mjs). Exits non-zero, saying
# why, if the studio does not start, the home has no finished run, or a page never shows what it should.
# POSTTRAIN_CLI=path/to/posttrain.dll picks the CLI; by default the Release build of src/Cli (built if missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -ne 2 ]]; then echo "usage: bash build/screenshots.sh HOME OUTDIR" >&2; exit 2; fi
home="$(cd "$1" 2>/dev/null && pwd)" || { echo "screenshots: $1: no such home directory" >&2; exit 2; }
[[ -f "$home/posttrain.db" ]] || { echo "screenshots: $home/posttrain.db: not a PostTrain home (no database)" >&2; exit 2; }
mkdir -p "$2"
out="$(cd "$2" && pwd)"
for tool in node python3 curl /usr/bin/chromium; do
  command -v "$tool" >/dev/null || { echo "screenshots: $tool is missing (build/setup.sh installs chromium)" >&2; exit 2; }
done

cli="${POSTTRAIN_CLI:-$root/src/Cli/bin/Release/net10.0/posttrain.dll}"
if [[ ! -f "$cli" ]]; then
  echo "screenshots: building the CLI ($cli is missing)" >&2
  dotnet build "$root/src/Cli" -c Release -nologo -v quiet >&2
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
log="$(mktemp)"
workflows="$home/workflows"
[[ -d "$workflows" ]] || workflows="$root/workflows"
dotnet "$cli" studio --home "$home" --workflows "$workflows" --urls "$url" --no-worker >"$log" 2>&1 &
studio=$!
cleanup() { kill "$studio" 2>/dev/null || true; wait "$studio" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

for _ in $(seq 1 240); do
  curl -sf "$url/api/runs" >/dev/null 2>&1 && break
  if ! kill -0 "$studio" 2>/dev/null; then echo "screenshots: the studio did not start:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.5
done
runs="$(curl -sf "$url/api/runs")" || { echo "screenshots: the studio at $url does not answer:" >&2; cat "$log" >&2; exit 1; }

run="$(python3 -c '
import json, sys
runs = [r for r in json.load(sys.stdin) if r["state"] == "succeeded"]
runs.sort(key=lambda r: (r["workflow"] == "iterate", r.get("finishedAt") or ""), reverse=True)
print(runs[0]["id"] if runs else "")' <<<"$runs")"
[[ -n "$run" ]] || { echo "screenshots: $home has no succeeded run to show" >&2; exit 1; }
workflow="iterate"
[[ -f "$workflows/iterate.json" ]] || workflow="$(basename "$(ls "$workflows"/*.json | head -1)" .json)"

websocket=()
node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' || websocket=(--experimental-websocket)
node "${websocket[@]}" "$root/build/screenshots.mjs" "$url" "$run" "$out" "$workflow"
