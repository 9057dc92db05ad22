"""Reads a topic with plain librdkafka consumers, without Weir, to tell the broker's speed
from Weir's: N consumers in one process, consumer i assigned the partitions p with
p mod N = i (as Weir spreads partitions over its workers), each in its own group, from
the earliest offset. Prints the records read every 5 s and the total.

    python3 benches/kafka_consumer_probe.py BROKERS CONSUMERS RECORDS [SECONDS] [PARTITIONS]

Needs confluent-kafka from PyPI (measured with 2.16.2, librdkafka 2.16.0):
`pip install confluent-kafka==2.16.2`. benches/kafka_throughput.sh runs it with
PROBE=1 after Weir's runs, on the same broker and topic.
"""

import sys
import threading
import time

from confluent_kafka import Consumer, TopicPartition

TOPIC = "plant.telemetry"


def consume(brokers, index, consumers, partitions, wanted, read, stop_at):
    """Consumer `index` reads its partitions into read[index] until all `wanted` records
    are read (by every consumer together) or `stop_at`."""
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": f"probe-{time.time()}-{index}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    mine = [p for p in range(partitions) if p % consumers == index]
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in mine])
    while sum(read) < wanted and time.time() < stop_at:
        read[index] += len(consumer.consume(10000, 0.1))
    consumer.close()


def main():
    brokers, consumers, wanted = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    partitions = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    read = [0] * consumers  # one counter per consumer thread
    start = time.time()
    threads = [
        threading.Thread(
            target=consume,
            args=(brokers, i, consumers, partitions, wanted, read, start + seconds),
        )
        for i in range(consumers)
    ]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(5)
        print(f"  {time.time() - start:.0f}s {sum(read)}", flush=True)
    wall = time.time() - start
    total = sum(read)
    print(f"consumers={consumers} read {total} of {wanted} in {wall:.1f}s: "
          f"{total / wall:.0f} records/s", flush=True)


if __name__ == "__main__":
    main()
