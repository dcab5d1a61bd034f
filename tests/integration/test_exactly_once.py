"""Exactly-once through transaction Stream Load.

- chaos: 200,000 rows into a duplicate-key table while starpipe is SIGKILLed at random
  moments (at least 10 times) and restarted: every id exactly once. The same run with
  at-least-once reports the duplicates it causes, and loses nothing.
- recovery: a transaction prepared and named by the last committed offset is committed at
  start; one of this worker's that no offset names is rolled back.
- a worker that never returns: the next owner of its partitions commits what their record
  names and rolls back its lingering transactions (begun or prepared, never named).
"""
import re
import json
import random
import subprocess
import time
import urllib.request
from collections import Counter

from harness import Kafka, Producer, StarRocks, Starpipe, check, run_tests, wait_until, writer_slot

SQL = "CREATE DATABASE d; CREATE TABLE d.events (id BIGINT NOT NULL, p INT, note STRING) DUPLICATE KEY(id);"
PARTITIONS = 4
TOTAL = 200000
KILLS = 10


def connector(semantic):
    return [{"name": "ev", "topics": "events", "starrocks.database.name": "d", "tasks.max": "2",
             "sink.semantic": semantic, "sink.label-prefix": "chaos"}]


def chaos_run(semantic, seed):
    rng = random.Random(seed)
    kafka = Kafka({"events": PARTITIONS})
    sr = StarRocks(SQL)
    prod = Producer(kafka, "events", PARTITIONS, TOTAL, per_round=20000, pause=0.5, note="n")
    prod.start()
    sp = Starpipe(kafka, sr, connector(semantic)).start()
    kills = 0
    while kills < KILLS:
        time.sleep(rng.uniform(0.5, 4.0))
        sp.kill()
        kills += 1
        sp.start()
    prod.join(120)
    check(prod.error is None, f"producer failed: {prod.error}")

    def all_loaded():
        ids = Counter(int(r[0]) for r in sr.rows("d", "events"))
        return ids if len(ids) == TOTAL else None
    ids = wait_until(all_loaded, 240, f"all {TOTAL} ids loaded ({semantic})", interval=2)
    time.sleep(3)  # anything still arriving would be a duplicate
    ids = Counter(int(r[0]) for r in sr.rows("d", "events"))
    code = sp.stop()
    check(code == 0, f"starpipe exited {code}")
    missing = TOTAL - len(ids)
    duplicates = sum(n - 1 for n in ids.values())
    print(f"  {semantic}: {kills} SIGKILLs, {len(ids)} distinct ids of {TOTAL}, {missing} missing, "
          f"{duplicates} duplicate rows", flush=True)
    return missing, duplicates, sp


def test_chaos_exactly_once():
    missing, duplicates, sp = chaos_run("exactly-once", 7)
    check(missing == 0, f"{missing} ids lost")
    check(duplicates == 0, f"{duplicates} duplicate rows with exactly-once")
    logs = sp.logs()
    check("rows are lost" not in logs, "a decided transaction was lost")


def test_chaos_at_least_once_reports_duplicates():
    missing, duplicates, _ = chaos_run("at-least-once", 7)
    check(missing == 0, f"{missing} ids lost with at-least-once")


def txn(sr, op, label, body=None):
    """One transaction operation with curl, an independent HTTP client (follows the 307)."""
    args = ["curl", "-s", "--location-trusted", "-u", "root:", "-H", f"label: {label}", "-H", "db: d",
            "-H", "table: events"]
    if op == "load":
        args += ["-X", "PUT", "-H", "format: json", "-H", "strip_outer_array: true", "-H", "Expect: 100-continue",
                 "--data-binary", body]
    else:
        args += ["-X", "POST"]
    out = subprocess.run(args + [sr.url(f"/api/transaction/{op}")], capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout)


def state(sr, label):
    req = urllib.request.Request(sr.url(f"/api/d/get_load_state?label={label}"),
                                 headers={"Authorization": "Basic cm9vdDo="})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["state"]


def prepare_txn(sr, label, ids, prepare=True):
    check(txn(sr, "begin", label)["Status"] == "OK", f"begin {label}")
    check(txn(sr, "load", label, json.dumps([{"id": i, "p": 0, "note": "k"} for i in ids]))["Status"] == "OK", "load")
    if prepare:
        check(txn(sr, "prepare", label)["Status"] == "OK", f"prepare {label}")


def test_recovery_commits_named_and_rolls_back_lingering():
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    kafka = Kafka({"events": 1})
    sr = StarRocks(SQL)
    kafka.produce("events", [json.dumps({"id": i, "p": 0, "note": "k"}) for i in range(10)], partition=0)
    sp = Starpipe(kafka, sr, [{"name": "ev", "topics": "events", "starrocks.database.name": "d",
                               "sink.semantic": "exactly-once", "sink.label-prefix": "rec"}])
    slot = writer_slot(f"127.0.0.1:{sp.rest_port}", 0)
    # The last checkpoint of a crashed run: rows 0..4 prepared under a label the committed
    # offset (5) names; rows 5..7 prepared under a later label of the same writer, not named.
    named = f"rec-events-{slot}-1"
    lingering = f"rec-events-{slot}-2"
    for label, ids in ((named, range(0, 5)), (lingering, range(5, 8))):
        prepare_txn(sr, label, ids)
    record = json.dumps({"starpipe.eo": 1, "txns": [{"t": "events", "l": named, "s": slot, "n": 1}]})
    c = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id="connect-ev", enable_auto_commit=False,
                      api_version=(2, 5, 0))
    c.commit({TopicPartition("events", 0): OffsetAndMetadata(5, record)})
    c.close()
    check(state(sr, named) == "PREPARED" and state(sr, lingering) == "PREPARED", "both prepared before the start")

    sp.start()
    wait_until(lambda: len(sr.rows("d", "events")) == 10, 60, "rows 0..9 once each")
    check(state(sr, named) == "VISIBLE", f"named transaction {named} is {state(sr, named)}, not committed")
    check(state(sr, lingering) == "ABORTED", f"lingering transaction {lingering} is {state(sr, lingering)}")
    time.sleep(2)
    ids = sorted(int(r[0]) for r in sr.rows("d", "events"))
    check(ids == list(range(10)), f"each id once: {ids}")
    check(sp.stop() == 0, "clean stop")
    # New transactions go under a fresh slot, never under the one that was searched: the
    # emulator's label history.
    labels = sr.labels("d")
    check(f"rec-events-{slot}-3" not in labels, "the old slot is not used again")
    fresh = [lb for lb in labels if re.fullmatch(r"rec-events-w[0-9a-f]{8}t0r[0-9a-f]{6}-1", lb)]
    check(fresh and all(labels[lb] == "VISIBLE" for lb in fresh), f"a fresh slot's first label committed: {labels}")


def test_lingering_transactions_of_a_worker_that_never_returns_are_rolled_back():
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    kafka = Kafka({"events": 2})
    sr = StarRocks(SQL)
    for p in range(2):
        kafka.produce("events", [json.dumps({"id": p * 100 + i, "p": p, "note": "k"}) for i in range(10)], partition=p)
    # What a worker on another host left when it died for good: its last checkpoint named
    # label 3 of its slot (rows 0..4 of each partition, offsets 5); it had then prepared label
    # 4 (rows 5..7) and begun label 5 (rows 8..9), neither named anywhere.
    dead = writer_slot("10.9.8.7:8083", 0, "0dead1")
    named, prepared, begun = (f"gone-events-{dead}-{n}" for n in (3, 4, 5))
    prepare_txn(sr, named, [i for p in range(2) for i in range(p * 100, p * 100 + 5)])
    prepare_txn(sr, prepared, [i for p in range(2) for i in range(p * 100 + 5, p * 100 + 8)])
    prepare_txn(sr, begun, [108, 109], prepare=False)
    record = json.dumps({"starpipe.eo": 1, "o": dead, "txns": [{"t": "events", "l": named, "s": dead, "n": 3}]})
    c = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id="connect-ev", enable_auto_commit=False,
                      api_version=(2, 5, 0))
    c.commit({TopicPartition("events", p): OffsetAndMetadata(5, record) for p in range(2)})
    c.close()
    check([state(sr, x) for x in (named, prepared, begun)] == ["PREPARED", "PREPARED", "PREPARE"], "left as described")

    sp = Starpipe(kafka, sr, [{"name": "ev", "topics": "events", "starrocks.database.name": "d",
                               "sink.semantic": "exactly-once", "sink.label-prefix": "gone"}]).start()
    wait_until(lambda: len(sr.rows("d", "events")) == 20, 60, "rows of both partitions")
    check(state(sr, named) == "VISIBLE", f"named transaction {named} is {state(sr, named)}")
    check(state(sr, prepared) == "ABORTED", f"lingering prepared {prepared} is {state(sr, prepared)}")
    check(state(sr, begun) == "ABORTED", f"lingering begun {begun} is {state(sr, begun)}")
    time.sleep(2)
    ids = sorted(int(r[0]) for r in sr.rows("d", "events"))
    check(ids == sorted(p * 100 + i for p in range(2) for i in range(10)), f"each id once: {ids}")
    check(sp.stop() == 0, "clean stop")
    # The survivor's record now names its own slot on both partitions.
    c = KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id="connect-ev", enable_auto_commit=False,
                      api_version=(2, 5, 0))
    for p in range(2):
        meta = c.committed(TopicPartition("events", p), metadata=True)
        check(meta.offset == 10 and json.loads(meta.metadata)["o"] != dead, f"partition {p}: {meta}")
    c.close()


def test_ambiguous_answers_are_settled_not_guessed():
    """Answers lost after prepare and commit took effect, a load rolled back by back-pressure,
    a begin refused by the running-transaction limit: every row exactly once."""
    kafka = Kafka({"events": 1})
    sr = StarRocks(SQL)
    sr.fault("fail", op="begin", message="current running txns on db 10001 is 1000, larger than limit 1000")
    sr.fault("fail", op="load", message="Failed to load data into tablet 7, because of too many versions, current/limit: 1001/1000")
    sr.fault("drop_after_commit", op="prepare")
    sr.fault("drop_after_commit", op="commit")
    kafka.produce("events", [json.dumps({"id": i, "p": 0, "note": "a"}) for i in range(1000)], partition=0)
    sp = Starpipe(kafka, sr, [{"name": "ev", "topics": "events", "starrocks.database.name": "d",
                               "sink.semantic": "exactly-once"}]).start()
    wait_until(lambda: len(sr.rows("d", "events")) >= 1000, 60, "1000 rows")
    kafka.produce("events", [json.dumps({"id": i, "p": 0, "note": "b"}) for i in range(1000, 1500)], partition=0)
    wait_until(lambda: len(sr.rows("d", "events")) >= 1500, 60, "1500 rows")
    time.sleep(2)
    ids = Counter(int(r[0]) for r in sr.rows("d", "events"))
    check(len(ids) == 1500 and max(ids.values()) == 1, f"each id once: {len(ids)} ids, max count {max(ids.values())}")
    logs = sp.logs()
    check(sp.stop() == 0, "clean stop")
    # The load refused for too many versions rolled label 1 back; its rows went in under label 2,
    # whose lost prepare and commit answers were read from its state, not repeated blindly.
    # The slot is fresh at each rebalance; the first one that loaded is in the log.
    m = re.search(r"label=starpipe-ev-events-(" + writer_slot(f"127.0.0.1:{sp.rest_port}", 0) + r"r[0-9a-f]{6})-2 ", logs)
    check(m is not None, "the prepared label 2 logged")
    first, second = (f"starpipe-ev-events-{m.group(1)}-{n}" for n in (1, 2))
    check(state(sr, first) == "ABORTED", f"{first} is {state(sr, first)}")
    check(state(sr, second) == "VISIBLE", f"{second} is {state(sr, second)}")
    check("rows are lost" not in logs, "nothing lost")


if __name__ == "__main__":
    run_tests([test_recovery_commits_named_and_rolls_back_lingering,
               test_lingering_transactions_of_a_worker_that_never_returns_are_rolled_back,
               test_ambiguous_answers_are_settled_not_guessed,
               test_chaos_exactly_once,
               test_chaos_at_least_once_reports_duplicates])
