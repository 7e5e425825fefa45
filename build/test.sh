#!/usr/bin/env bash
# The test command (README, .ci/run): set up, start a loopback RabbitMQ, run every test project.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash build/setup.sh
bash build/rabbitmq.sh
export POSTTRAIN_TEST_RABBITMQ=rabbitmq://127.0.0.1
dotnet test PostTrain.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@"
