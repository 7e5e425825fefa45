#!/usr/bin/env bash
# The test command (README, .ci/run): set up, start a loopback RabbitMQ, run every test project,
# and close with one summary line ("N passed, N failed, N skipped") over all of them.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash build/setup.sh || exit 1
bash build/rabbitmq.sh || exit 1
export POSTTRAIN_TEST_RABBITMQ=rabbitmq://127.0.0.1
log="$(mktemp)"
dotnet test PostTrain.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk '/(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
# The dotnet tool: pack, install into a temporary tool path, run `posttrain --help` and a libtorch load.
bash build/tool-smoke.sh || status=1
exit "$status"
