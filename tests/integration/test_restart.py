"""Lifecycle: a graceful restart in the middle of a stream loses and duplicates nothing; a
SIGKILL in the middle loses nothing (at-least-once) and the committed offsets end equal to
the end offsets."""
from collections import Counter

from harness import Kafka, Producer, StarRocks, Starpipe, check, run_tests, wait_until

SQL = "CREATE DATABASE d; CREATE TABLE d.events (id BIGINT NOT NULL, p INT, note STRING) DUPLICATE KEY(id);"
PARTITIONS = 4
TOTAL = 20000


def connector():
    return [{"name": "ev", "topics": "events", "starrocks.database.name": "d", "tasks.max": "2"}]


def start_streaming():
    """Kafka, StarRocks, a producer of TOTAL rows running in the background, and starpipe."""
    kafka = Kafka({"events": PARTITIONS})
    sr = StarRocks(SQL)
    prod = Producer(kafka, "events", PARTITIONS, TOTAL, note="x" * 20)
    prod.start()
    sp = Starpipe(kafka, sr, connector()).start()
    return kafka, sr, prod, sp


def ids(sr):
    return Counter(int(r[0]) for r in sr.rows("d", "events"))


def test_graceful_restart_in_the_middle():
    kafka, sr, prod, sp = start_streaming()
    total = TOTAL
    wait_until(lambda: sum(ids(sr).values()) >= 4000, 60, "some rows loaded")
    check(sp.stop() == 0, "exit code 0 after SIGTERM")
    loaded_at_stop = sum(ids(sr).values())
    committed = kafka.committed("connect-ev", "events", PARTITIONS)
    # A partition the stop caught before its first rows has no committed offset (None): 0 rows.
    check(sum(v or 0 for v in committed.values()) == loaded_at_stop,
          f"graceful stop commits exactly what was loaded: {committed} vs {loaded_at_stop} rows")
    sp.start()
    prod.join(120)
    check(prod.error is None, f"producer: {prod.error}")
    wait_until(lambda: sum(ids(sr).values()) >= total, 90, "all rows after the restart")
    check(sp.stop() == 0, "exit 0")
    c = ids(sr)
    check(set(c) == set(range(total)), f"every id present ({len(c)} distinct of {total})")
    check(max(c.values()) == 1, "a graceful restart duplicates nothing")
    check(kafka.committed("connect-ev", "events", PARTITIONS) == kafka.end_offsets("events", PARTITIONS),
          "committed == end offsets")


def test_sigkill_in_the_middle_loses_nothing():
    kafka, sr, prod, sp = start_streaming()
    total = TOTAL
    wait_until(lambda: sum(ids(sr).values()) >= 3000, 60, "some rows loaded")
    sp.kill()
    before = kafka.committed("connect-ev", "events", PARTITIONS)
    loaded = sum(ids(sr).values())
    check(sum(v or 0 for v in before.values()) <= loaded, f"never committed past what was loaded: {before} vs {loaded}")
    sp.start()
    prod.join(120)
    check(prod.error is None, f"producer: {prod.error}")
    wait_until(lambda: set(ids(sr)) >= set(range(total)), 90, "every id after the kill and restart")
    wait_until(lambda: kafka.committed("connect-ev", "events", PARTITIONS) == kafka.end_offsets("events", PARTITIONS),
               30, "committed offsets reaching the end offsets")
    c = ids(sr)
    dup = sum(v - 1 for v in c.values())
    print(f"  at-least-once after SIGKILL: {len(c)} ids, {dup} duplicate rows replayed")
    check(sp.stop() == 0, "exit 0")


if __name__ == "__main__":
    run_tests([test_graceful_restart_in_the_middle, test_sigkill_in_the_middle_loses_nothing])
