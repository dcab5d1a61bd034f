"""Load faults of every injected kind lose no row; a non-retryable failure stops the task with
StarRocks' message and never commits past the failed batch; a record that is not JSON stops
the task naming its topic, partition and offset."""
import json

from harness import Kafka, StarRocks, Starpipe, check, run_tests, wait_until

SQL = "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, v STRING) DUPLICATE KEY(id);"


def rows(start, n):
    return [json.dumps({"id": i, "v": f"row{i}"}) for i in range(start, start + n)]


def ids(sr):
    return sorted(int(r[0]) for r in sr.rows("d", "t"))


# Where each fault strikes, per interface: Stream Load V1 has one request per load; over the
# transaction interface (the default, sink.version=AUTO) each kind hits the operation where
# it is hardest to handle.
V2_FAULT_OP = {"http_500": "load", "drop_before_body": "begin", "drop_after_commit": "commit", "fail": "load"}


def run_with_fault(kind, interface, expect_no_duplicates=True, **extra):
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    sr.fault(kind, count=2, op="stream_load" if interface == "V1" else V2_FAULT_OP[kind], **extra)
    kafka.produce("t", rows(0, 100))
    connector = {"name": "c", "topics": "t", "starrocks.database.name": "d"}
    if interface == "V1":
        connector["sink.version"] = "V1"
    sp = Starpipe(kafka, sr, [connector]).start()
    wait_until(lambda: len(ids(sr)) >= 100, 60, f"rows after {kind}")
    kafka.produce("t", rows(100, 100))
    wait_until(lambda: set(ids(sr)) >= set(range(200)), 60, "the later rows")
    check(sp.stop() == 0, "exit 0")
    got = ids(sr)
    if expect_no_duplicates:
        check(got == list(range(200)), f"{kind} ({interface}): exactly the 200 rows, got {len(got)}")
    check(kafka.committed("connect-c", "t", 1) == {0: 200}, "committed to the end")
    stats = sr.stats()
    if interface == "V1":
        check(stats["transaction_commits"] == 0 and stats["stream_loads"] >= 2, f"V1 only: {stats}")
    else:
        check(stats["stream_loads"] == 0 and stats["transaction_commits"] >= 2, f"transactions only: {stats}")
    return sp.logs()


def test_http_500_is_retried():
    logs = run_with_fault("http_500", "V1")
    check("retrying" in logs and "with the same label" in logs, "V1: retries logged")
    # A load answered 500 may have half-landed: the transaction is begun again, never reused.
    logs = run_with_fault("http_500", "AUTO")
    check("load of label" in logs and "answered HTTP 500" in logs and "begun again under the next label" in logs,
          "V2: the restart logged")


def test_connection_dropped_before_the_body_is_retried():
    logs = run_with_fault("drop_before_body", "V1")
    check("retrying" in logs and "with the same label" in logs, "V1: retries logged")
    logs = run_with_fault("drop_before_body", "AUTO")
    check("begin of label" in logs and "retrying in" in logs and "with the same label" in logs,
          "V2: the begin retried under its label")


def test_connection_dropped_after_commit_is_settled_by_the_label():
    # The load landed but the answer was lost: the retry with the same label is answered
    # "Label Already Exists" / FINISHED, so nothing is loaded twice.
    logs = run_with_fault("drop_after_commit", "V1")
    check("label already loaded (FINISHED)" in logs, "V1: settled through the label")
    # Over V2 the lost commit answer is read back from the label's state, never repeated blindly.
    logs = run_with_fault("drop_after_commit", "AUTO")
    check("commit of label" in logs and "settled through the label's state (label VISIBLE): done" in logs,
          "V2: settled through the label")


def test_retryable_fail_message_is_retried():
    logs = run_with_fault("fail", "V1", message="Service is shutting down, please retry later!")
    check("retrying" in logs and "with the same label" in logs, "V1: retries logged")
    logs = run_with_fault("fail", "AUTO", message="Service is shutting down, please retry later!")
    check("Service is shutting down" in logs and "begun again under the next label" in logs, "V2: restart logged")


def test_old_starrocks_without_the_transaction_interface_gets_stream_load_v1():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL, transaction_api=False)
    kafka.produce("t", rows(0, 50))
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}]).start()
    wait_until(lambda: len(ids(sr)) == 50, 60, "the rows over V1")
    check(sr.stats()["transaction_commits"] == 0, "no transaction")
    check("sink.version=AUTO: table d.t loads through Stream Load V1; the FE answered HTTP 404" in sp.logs(),
          "the choice and its evidence logged")
    check(sp.stop() == 0, "exit 0")
    # Exactly-once cannot be had there: the task fails saying why, and commits nothing.
    kafka2 = Kafka({"t": 1})
    kafka2.produce("t", rows(0, 5))
    sp = Starpipe(kafka2, sr, [{"name": "e", "topics": "t", "starrocks.database.name": "d",
                                "sink.semantic": "exactly-once"}]).start()
    task = sp.wait_for_task_state("FAILED", 60, "the exactly-once task to fail", connector="e")
    check("exactly-once needs the transaction Stream Load interface (StarRocks 2.4 or later)" in task["trace"],
          f"the reason in the task's trace: {task}")
    check(sp.stop() == 0, "exit 0")
    # The task records its slot at offset 0 when it takes the partition (exactly-once
    # recovery); no offset past a row may be committed.
    committed = kafka2.committed("connect-e", "t", 1)
    check(committed[0] in (None, 0), f"nothing committed past the start: {committed}")


def test_slow_answer_is_waited_for():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    sr.fault("slow", count=1, ms=1500)
    kafka.produce("t", rows(0, 50))
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}]).start()
    wait_until(lambda: len(ids(sr)) == 50, 60, "rows after a slow answer")
    check(sp.stop() == 0, "exit 0")
    check(ids(sr) == list(range(50)), "no duplicate after a slow answer")


def test_non_retryable_failure_stops_the_task_without_committing_past_it():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    kafka.produce("t", rows(0, 10))
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}]).start()
    wait_until(lambda: len(ids(sr)) == 10, 60, "the good rows")
    wait_until(lambda: kafka.committed("connect-c", "t", 1) == {0: 10}, 30, "commit of the good rows")
    # id is INT NOT NULL: a string id becomes NULL and the row is filtered -> too many filtered rows
    kafka.produce("t", ['{"id":"not-a-number","v":"bad"}'] + rows(10, 5))
    task = sp.wait_for_task_state("FAILED", 30, "the task to fail")
    # The trace names the record, StarRocks' answer, and the reason read from its ErrorURL.
    check("topic t, partition 0, offset 10" in task["trace"], f"the rejected record named: {task}")
    check("too many filtered rows" in task["trace"], f"StarRocks' answer: {task}")
    check("NULL value in non-nullable column 'id'" in task["trace"], f"the ErrorURL's reason: {task}")
    check(sp.stop() == 0, "exit 0")
    check(ids(sr) == list(range(10)), "nothing of the failed batch loaded")
    check(kafka.committed("connect-c", "t", 1) == {0: 10}, "offset not committed past the failed batch")


def test_filtered_rows_within_the_ratio_are_reported_with_reasons():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    kafka.produce("t", rows(0, 3) + ['{"id":"x","v":"bad"}'] + rows(3, 6))
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d",
                               "sink.properties.max_filter_ratio": "0.2"}]).start()
    wait_until(lambda: len(ids(sr)) == 9, 30, "the good rows")
    wait_until(lambda: "reasons:" in sp.logs(), 10, "the filtered-row report")
    logs = sp.logs()
    check("StarRocks filtered 1 rows of table t" in logs, "how many")
    check("NULL value in non-nullable column 'id'" in logs, "why, from the ErrorURL")
    check(sp.stop() == 0, "exit 0")


def test_record_that_is_not_json_stops_the_task_naming_it():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    kafka.produce("t", rows(0, 3) + ["this is not json"] + rows(3, 3))
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}]).start()
    task = sp.wait_for_task_state("FAILED", 30, "the task to fail")
    wait_until(lambda: len(ids(sr)) == 3, 30, "the rows before the bad record")
    check("topic t, partition 0, offset 3" in task["trace"], f"the bad record is named: {task}")
    check(sp.stop() == 0, "exit 0")
    check(kafka.committed("connect-c", "t", 1) == {0: 3}, "committed up to the bad record, not past it")


def test_poison_record_skipped_and_logged_with_tolerance_all():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    kafka.produce("t", rows(0, 3) + ["this is not json"] + rows(3, 3))
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d", "errors.tolerance": "all",
                               "errors.log.enable": "true", "errors.log.include.messages": "true"}]).start()
    wait_until(lambda: len(ids(sr)) == 6, 30, "every good row")
    logs = sp.logs()
    check("skipped record at topic t, partition 0, offset 3: value is not a JSON object" in logs, "the skip is logged")
    check("value: this is not json" in logs, "with the message, as errors.log.include.messages asks")
    check("task FAILED" not in logs, "the task goes on")
    check(sp.stop() == 0, "exit 0")
    check(kafka.committed("connect-c", "t", 1) == {0: 7}, "committed past the skipped record")


def test_poison_record_goes_to_the_dead_letter_topic_with_context_headers():
    import subprocess
    kafka = Kafka({"t": 1, "t-dlq": 1})
    sr = StarRocks(SQL)
    kafka.produce("t", rows(0, 2) + ["this is not json"] + rows(2, 2), keys=["k0", "k1", "bad-key", "k3", "k4"])
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d", "errors.tolerance": "all",
                               "errors.deadletterqueue.topic.name": "t-dlq",
                               "errors.deadletterqueue.context.headers.enable": "true"}]).start()
    wait_until(lambda: len(ids(sr)) == 4, 30, "every good row")
    out = subprocess.run(["kcat", "-C", "-b", kafka.bootstrap, "-t", "t-dlq", "-J", "-e", "-o", "beginning",
                          "-X", "fetch.wait.max.ms=10"], capture_output=True, text=True, timeout=30)
    msgs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    check(len(msgs) == 1, f"one record in the dead-letter topic: {out.stdout} {out.stderr}")
    m = msgs[0]
    check(m["payload"] == "this is not json" and m["key"] == "bad-key", f"original key and value: {m}")
    h = dict(zip(m["headers"][0::2], m["headers"][1::2]))
    check(h.get("__connect.errors.topic") == "t" and h.get("__connect.errors.partition") == "0" and
          h.get("__connect.errors.offset") == "2", f"where it came from: {h}")
    check(h.get("__connect.errors.connector.name") == "c" and h.get("__connect.errors.stage") == "VALUE_CONVERTER",
          f"connector and stage: {h}")
    check("not a JSON object" in h.get("__connect.errors.exception.message", ""), f"why: {h}")
    check(sp.stop() == 0, "exit 0")
    check(kafka.committed("connect-c", "t", 1) == {0: 5}, "committed past the dead-lettered record")


def test_starrocks_down_then_up():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    fe_port = sr.fe_port
    kafka.produce("t", rows(0, 20))
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d", "sink.maxretries": "-1"}])
    sr.stop()
    sp.start()
    # Waiting for StarRocks shows over REST and in /metrics, the task still RUNNING.
    sp.wait_for_task_state("RUNNING", 30, "the task", connector="c")
    wait_until(lambda: (t := sp.task_state("c")) and "None of the hosts in starrocks.http.url could be connected"
               in t.get("trace", "") and t["trace"].startswith("Retrying: "), 30, "the retrying trace")
    wait_until(lambda: sp.metric("starpipe_waiting_for_starrocks", connector="c") == 1, 30,
               "starpipe_waiting_for_starrocks = 1")
    sr2 = StarRocks.__new__(StarRocks)
    # restart the emulator on the same ports; the pipeline keeps retrying with the same label
    import subprocess, os
    from harness import BIN, _procs
    sql_file = os.path.join(sr.dir, "schema.sql")
    sr2.fe_port, sr2.be_port, sr2.dir = fe_port, sr.be_port, sr.dir
    sr2.log = open(os.path.join(sr.dir, "emulator2.log"), "w")
    sr2.proc = subprocess.Popen([BIN["starrocks-emulator"], "--fe-port", str(fe_port), "--be-port", str(sr.be_port),
                                 "--sql", sql_file], stdout=sr2.log, stderr=subprocess.STDOUT)
    _procs.append(sr2.proc)
    wait_until(lambda: len(ids(sr2)) == 20, 60, "rows once StarRocks is back")
    wait_until(lambda: sp.metric("starpipe_waiting_for_starrocks", connector="c") == 0, 30, "the gauge back to 0")
    check(not sp.task_state("c").get("trace"), "the trace cleared")
    check(sp.stop() == 0, "exit 0")


if __name__ == "__main__":
    run_tests([test_http_500_is_retried, test_connection_dropped_before_the_body_is_retried,
               test_connection_dropped_after_commit_is_settled_by_the_label, test_retryable_fail_message_is_retried,
               test_slow_answer_is_waited_for, test_non_retryable_failure_stops_the_task_without_committing_past_it,
               test_filtered_rows_within_the_ratio_are_reported_with_reasons,
               test_record_that_is_not_json_stops_the_task_naming_it, test_poison_record_skipped_and_logged_with_tolerance_all,
               test_poison_record_goes_to_the_dead_letter_topic_with_context_headers, test_starrocks_down_then_up,
               test_old_starrocks_without_the_transaction_interface_gets_stream_load_v1])
