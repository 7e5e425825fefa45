#!/usr/bin/env bash
# The one command for PostTrain's speed figures: builds Release and runs every benchmark.
#   bash bench/run.sh           full run (about 18 minutes on 2 cores: the build, 3.5 minutes of sections, about 14 of e2e)
#   bash bench/run.sh --quick   1-2 minute smoke run
# Extra arguments go to the harness (e.g. --presets medium, --skip e2e,peer, --rounds 6, --out FILE).
# Take figures on a quiet machine: concurrent builds or tests skew every number.
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build bench/PostTrain.Bench -c Release -nologo -v q
# The end-to-end benchmark drives the CLI; if it does not build, that benchmark reports itself skipped.
if ! dotnet build src/Cli -c Release -nologo -v q; then
  echo "bench/run.sh: src/Cli did not build in Release; the end-to-end benchmark will be skipped" >&2
fi
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "bench/run.sh: /usr/bin/python3 has no torch (apt-get install python3-torch); the PyTorch peer will fail" >&2
fi

# Run from a private copy: bin/ files are hard links (CreateHardLinksForCopyLocalIfPossible), so another engineer's
# Release build would rewrite the DLLs under a running harness (BadImageFormatException). libtorch (runtimes/) is
# linked, not copied: builds do not rewrite it.
out=bench/PostTrain.Bench/bin/Release/net10.0
snap=$(mktemp -d /tmp/posttrain-bench-bin.XXXXXX)
trap 'rm -rf "$snap"' EXIT
for f in "$out"/*; do
  if [ "$(basename "$f")" = runtimes ]; then ln -s "$PWD/$f" "$snap/runtimes"; else cp -r "$f" "$snap/"; fi
done
"$snap/posttrain-bench" "$@"
