#!/bin/sh
# One-shot topic creator of `make up`: runs in the apache/kafka image once the broker is healthy.
# Creates the orders topic and its dead-letter topic (the same as `make local`'s up.sh), grows the
# orders topic if KAFKA_ORDERS_PARTITIONS was raised, and exits 0. Safe to run again.
# Environment (defaults as in .env.example): KAFKA_BOOTSTRAP=kafka:9092 KAFKA_ORDERS_TOPIC=orders
#   KAFKA_DLQ_TOPIC=orders.dlq KAFKA_ORDERS_PARTITIONS=12 KAFKA_DLQ_PARTITIONS=3
set -eu

BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
ORDERS="${KAFKA_ORDERS_TOPIC:-orders}"
DLQ="${KAFKA_DLQ_TOPIC:-orders.dlq}"
ORDERS_PARTITIONS="${KAFKA_ORDERS_PARTITIONS:-12}"
DLQ_PARTITIONS="${KAFKA_DLQ_PARTITIONS:-3}"
TOPICS=/opt/kafka/bin/kafka-topics.sh

partitions_of() {
  "$TOPICS" --bootstrap-server "$BOOTSTRAP" --describe --topic "$1" 2>/dev/null |
    sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n 1
}

ensure_topic() {
  topic="$1" want="$2"
  "$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
    --partitions "$want" --replication-factor 1
  have="$(partitions_of "$topic")"
  if [ -n "$have" ] && [ "$have" -lt "$want" ]; then
    "$TOPICS" --bootstrap-server "$BOOTSTRAP" --alter --topic "$topic" --partitions "$want"
    echo "kafka-topics: $topic grown from $have to $want partitions"
  elif [ -n "$have" ] && [ "$have" -gt "$want" ]; then
    echo "kafka-topics: WARNING $topic has $have partitions, wanted $want (Kafka cannot shrink; make down with -v to reset)"
  fi
  echo "kafka-topics: $topic ready ($(partitions_of "$topic") partitions)"
}

ensure_topic "$ORDERS" "$ORDERS_PARTITIONS"
ensure_topic "$DLQ" "$DLQ_PARTITIONS"
