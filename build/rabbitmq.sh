#!/usr/bin/env bash
# Starts a RabbitMQ broker bound to 127.0.0.1 (AMQP on 5672) unless one answers already.
set -euo pipefail
export RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
if rabbitmqctl -n rabbit@localhost -q status >/dev/null 2>&1; then exit 0; fi
command -v rabbitmq-server >/dev/null || { echo "rabbitmq-server is not installed: run build/setup.sh" >&2; exit 1; }
nohup rabbitmq-server > "${TMPDIR:-/tmp}/posttrain-rabbitmq.log" 2>&1 &
for _ in $(seq 60); do
  rabbitmqctl -n rabbit@localhost -q await_startup >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "rabbitmq-server did not start in 60 s; see ${TMPDIR:-/tmp}/posttrain-rabbitmq.log" >&2
exit 1
