#!/usr/bin/env bash
# Packs src/Cli as a dotnet tool, installs it into a temporary tool path and runs it: `posttrain --help`, and one
# command that loads libtorch through the installed copy of libLibTorchSharp.so (asking for CUDA, which this CPU build
# refuses with its reason), so a package without native libraries or without the GLIBCXX fix fails here.
# Usage: build/tool-smoke.sh   (build/test.sh runs it; needs no network beyond the NuGet cache the build filled)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet pack src/Cli -c Release -nologo -v quiet -o "$work/pack"
dotnet tool install PostTrain.Cli --tool-path "$work/tools" --add-source "$work/pack" --ignore-failed-sources >/dev/null
posttrain="$work/tools/posttrain"
"$posttrain" --help >"$work/help.txt"
grep -q "iterate" "$work/help.txt" || { echo "tool-smoke: 'posttrain --help' does not list iterate" >&2; cat "$work/help.txt" >&2; exit 1; }
set +e
"$posttrain" iterate --device cuda --home "$work/home" 2>"$work/cuda.txt"
code=$?
set -e
if [[ $code -ne 2 ]] || ! grep -q "CUDA is not available\|--device" "$work/cuda.txt"; then
  echo "tool-smoke: the installed tool did not load libtorch (exit $code):" >&2; cat "$work/cuda.txt" >&2; exit 1
fi
echo "tool-smoke: packed, installed to a tool path, 'posttrain --help' and libtorch load OK"
