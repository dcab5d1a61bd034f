"""`starpipe distributed`: the Kafka Connect REST API with writes, state in Kafka topics, and
several workers sharing a connector's partitions through its consumer group. Driven with curl
(an independent HTTP client), Kafka read back with kcat and kafka-python."""
import os
import subprocess
import tempfile
import time

from harness import Kafka, StarRocks, Worker, check, free_port, run_tests, wait_until, writer_slot

SQL = "CREATE DATABASE d; CREATE TABLE d.tab (id INT NOT NULL, v STRING) PRIMARY KEY(id);"
SINK = "com.starrocks.connector.kafka.StarRocksSinkConnector"


def config(sr, topics="orders", **extra):
    c = {"connector.class": SINK, "topics": topics, "starrocks.http.url": f"127.0.0.1:{sr.fe_port}",
         "starrocks.username": "root", "starrocks.password": "", "starrocks.database.name": "d",
         "starrocks.topic2table.map": f"{topics}:tab", "bufferflush.intervalms": "1000"}
    c.update(extra)
    return c


def produce(kafka, ids, topic="orders"):
    kafka.produce(topic, ['{"id":%d,"v":"row %d"}' % (i, i) for i in ids], keys=[str(i) for i in ids])


def ids_in(sr):
    return sorted(int(r[0]) for r in sr.rows("d", "tab"))


def state_of(worker, name):
    code, body, _ = worker.request(f"/connectors/{name}/status")
    return body if code == 200 else None


def flushed_rows(worker):
    """totalFlushRows of this worker's own pipelines, from its Prometheus endpoint."""
    code, text, _ = worker.request("/metrics")
    check(code == 200, text)
    for line in text.splitlines():
        if line.startswith("starpipe_total_flush_rows{"):
            return int(line.split()[-1])
    return 0


def test_rest_api_writes_and_errors():
    kafka = Kafka({"orders": 2})
    sr = StarRocks(SQL)
    w = Worker(kafka).start()
    code, body, _ = w.request("/")
    check(code == 200 and body["version"], body)
    code, body, _ = w.request("/connectors")
    check((code, body) == (200, []), body)

    # Invalid: every bad key named, nothing stored.
    bad = config(sr, **{"bufferflush.intervalms": "5", "sink.maxretries": "-2"})
    del bad["starrocks.database.name"]
    code, body, _ = w.request("/connectors", "POST", {"name": "s1", "config": bad})
    check(code == 400, body)
    for key in ("bufferflush.intervalms", "sink.maxretries", "starrocks.database.name"):
        check(key in body["message"], body)
    check(body["message"].startswith("Connector configuration is invalid and contains the following 3 error(s):"), body)
    code, body, _ = w.request("/connectors", "POST", '{"name": "s1", "config": {')
    check(code == 400 and body["error_code"] == 400, body)
    code, body, _ = w.request("/connectors", "POST", {"name": "s1", "config": {"topics": "x"}})
    check(code == 400 and "contains no connector type" in body["message"], body)
    code, body, _ = w.request("/connectors", "POST", {"name": "s1", "config": dict(config(sr), **{"connector.class": "Nope"})})
    check(code == 500 and "Failed to find any class" in body["message"], body)
    code, body, _ = w.request("/connectors", "POST", {"name": "s1", "config": dict(config(sr), name="other")})
    check(code == 400 and "doesn't match connector name" in body["message"], body)
    code, body, _ = w.request("/connectors", "POST", "x" * (2 * 1024 * 1024))
    check(code == 413, body)
    code, body, _ = w.request("/connectors")
    check(body == [], body)

    # Create, as the StarRocks documentation's curl does.
    code, body, headers = w.request("/connectors", "POST", {"name": "s1", "config": config(sr)})
    check(code == 201 and headers.get("location") == "/connectors/s1" and body["name"] == "s1", (code, body, headers))
    check(body["config"]["name"] == "s1" and body["type"] == "sink", body)
    code, body, _ = w.request("/connectors", "POST", {"name": "s1", "config": config(sr)})
    check(code == 409 and body["message"] == "Connector s1 already exists", body)
    wait_until(lambda: (state_of(w, "s1") or {}).get("tasks"), 30, "s1 to have tasks")
    st = state_of(w, "s1")
    check(st["connector"]["state"] == "RUNNING" and st["tasks"][0]["worker_id"] == w.worker_id, st)
    produce(kafka, range(0, 20))
    wait_until(lambda: ids_in(sr) == list(range(20)), 30, "the first 20 rows")

    code, body, _ = w.request("/connectors/s1/config")
    check(code == 200 and body["topics"] == "orders", body)
    code, body, _ = w.request("/connectors/s1/tasks")
    check(code == 200 and body[0]["id"] == {"connector": "s1", "task": 0}, body)
    code, body, _ = w.request("/connectors/s1/tasks/0/status")
    check(code == 200 and body["state"] == "RUNNING", body)
    code, body, _ = w.request("/connectors/s1/topics")
    check(code == 200 and body == {"s1": {"topics": ["orders"]}}, body)
    code, body, _ = w.request("/connectors?expand=status&expand=info")
    check(body["s1"]["status"]["connector"]["state"] == "RUNNING" and body["s1"]["info"]["name"] == "s1", body)

    # Offsets = the consumer group's commits, the same as kafka-python reads.
    def offsets_match():
        code, body, _ = w.request("/connectors/s1/offsets")
        got = {o["partition"]["kafka_partition"]: o["offset"]["kafka_offset"] for o in body["offsets"]}
        committed = kafka.committed("connect-s1", "orders", 2)
        return code == 200 and got and sum(got.values()) == 20 and got == committed
    wait_until(offsets_match, 30, "offsets to show the 20 committed records")

    # PUT config: replace (200), create (201), mismatched name (400), invalid (400, unchanged).
    code, body, _ = w.request("/connectors/s1/config", "PUT", dict(config(sr), **{"bufferflush.intervalms": "1500"}))
    check(code == 200 and body["config"]["bufferflush.intervalms"] == "1500", body)
    code, body, _ = w.request("/connectors/s1/config", "PUT", dict(config(sr), name="zzz"))
    check(code == 400 and "doesn't match" in body["message"], body)
    code, body, _ = w.request("/connectors/s1/config", "PUT", dict(config(sr), **{"sink.maxretries": "x"}))
    check(code == 400 and "sink.maxretries" in body["message"], body)
    code, body, _ = w.request("/connectors/s1/config")
    check(body["bufferflush.intervalms"] == "1500", body)
    code, body, headers = w.request("/connectors/s2/config", "PUT", config(sr, topics="other"))
    check(code == 201 and headers.get("location") == "/connectors/s2", (code, body))
    code, body, _ = w.request("/connectors/s2", "DELETE")
    check(code == 204, body)
    code, body, _ = w.request("/connectors/s2")
    check(code == 404 and body["message"] == "Connector s2 not found", body)
    code, body, _ = w.request("/connectors")
    check(body == ["s1"], body)

    # Pause keeps consuming nothing; resume loads what came meanwhile.
    wait_until(lambda: (state_of(w, "s1") or {}).get("tasks"), 30, "s1 restarted after its config change")
    code, body, _ = w.request("/connectors/s1/pause", "PUT")
    check(code == 202 and body is None, body)
    wait_until(lambda: state_of(w, "s1")["connector"]["state"] == "PAUSED", 30, "PAUSED")
    check(all(t["state"] == "PAUSED" for t in state_of(w, "s1")["tasks"]), state_of(w, "s1"))
    produce(kafka, range(20, 30))
    time.sleep(3)
    check(ids_in(sr) == list(range(20)), "rows loaded while paused")
    code, _, _ = w.request("/connectors/s1/pause", "PUT")
    check(code == 202, "pause is idempotent")
    code, body, _ = w.request("/connectors/s1/resume", "PUT")
    check(code == 202, body)
    wait_until(lambda: ids_in(sr) == list(range(30)), 30, "rows produced while paused, after resume")
    check(state_of(w, "s1")["connector"]["state"] == "RUNNING", state_of(w, "s1"))

    # Stop tears the tasks down; resume starts them again.
    code, body, _ = w.request("/connectors/s1/stop", "PUT")
    check(code == 204, body)
    wait_until(lambda: state_of(w, "s1")["connector"]["state"] == "STOPPED", 60, "STOPPED")
    check(state_of(w, "s1")["tasks"] == [], state_of(w, "s1"))
    produce(kafka, range(30, 35))
    code, body, _ = w.request("/connectors/s1/resume", "PUT")
    check(code == 202, body)
    wait_until(lambda: ids_in(sr) == list(range(35)), 60, "rows after resuming a stopped connector")

    # Restarts.
    code, body, _ = w.request("/connectors/s1/restart", "POST")
    check(code == 204, body)
    code, body, _ = w.request("/connectors/s1/restart?includeTasks=true", "POST")
    check(code == 202 and body["connector"]["state"] == "RESTARTING", body)
    check(all(t["state"] == "RESTARTING" for t in body["tasks"]), body)
    wait_until(lambda: state_of(w, "s1")["tasks"] and state_of(w, "s1")["tasks"][0]["state"] == "RUNNING", 60,
               "RUNNING after the restart")
    code, body, _ = w.request("/connectors/s1/tasks/0/restart", "POST")
    check(code == 204, body)
    code, body, _ = w.request("/connectors/s1/tasks/7/restart", "POST")
    check(code == 404, body)
    produce(kafka, range(35, 40))
    wait_until(lambda: ids_in(sr) == list(range(40)), 60, "rows after the restarts")

    # Unknown connectors and wrong methods.
    for method, path, message in [("GET", "/connectors/nope", "Connector nope not found"),
                                  ("GET", "/connectors/nope/status", "No status found for connector nope"),
                                  ("PUT", "/connectors/nope/pause", "Unknown connector nope"),
                                  ("PUT", "/connectors/nope/resume", "Unknown connector nope"),
                                  ("DELETE", "/connectors/nope", "Connector nope not found"),
                                  ("POST", "/connectors/nope/restart", "Connector nope not found"),
                                  ("GET", "/connectors/nope/offsets", "Connector nope not found")]:
        code, body, _ = w.request(path, method)
        check(code == 404 and body == {"error_code": 404, "message": message}, (method, path, body))
    code, body, _ = w.request("/connectors/s1", "PATCH")
    check(code == 405, body)

    # The configs live in the config topic, in Kafka Connect's record shapes (read with kcat).
    out = subprocess.run(["kcat", "-C", "-b", kafka.bootstrap, "-t", "connect-cluster-configs", "-e", "-q",
                          "-f", "%k\t%s\n"], capture_output=True, text=True, timeout=30).stdout
    check("connector-s1\t{\"properties\":" in out and "target-state-s1\t" in out, out)
    check("connector-s2\t\n" in out, "s2's deletion is a tombstone:\n" + out)
    check(w.stop() == 0, w.logs())
    check("123456" not in w.logs(), "no secret in the log")


def reads_partitions(worker, connector):
    """The worker's own tasks of `connector` read at least one partition now (its /metrics)."""
    return worker.metric("starpipe_task_partitions", connector=connector) > 0


def test_two_workers_share_the_partitions_and_take_over():
    kafka = Kafka({"orders": 4})
    sr = StarRocks(SQL)
    a = Worker(kafka).start()
    b = Worker(kafka).start()
    code, body, _ = a.request("/connectors", "POST", {"name": "shared", "config": config(sr)})
    check(code == 201, body)
    # B reads the config topic: it lists the connector and runs it too.
    wait_until(lambda: b.request("/connectors")[1] == ["shared"], 30, "B to list the connector created on A")
    wait_until(lambda: {t["worker_id"] for t in state_of(b, "shared")["tasks"]} == {a.worker_id, b.worker_id}, 60,
               "tasks on both workers")
    wait_until(lambda: reads_partitions(a, "shared") and reads_partitions(b, "shared"), 60,
               "the group to spread the partitions (starpipe_task_partitions on both workers)")
    produce(kafka, range(0, 2000))
    wait_until(lambda: len(ids_in(sr)) == 2000, 60, "2000 rows")
    check(flushed_rows(a) > 0 and flushed_rows(b) > 0, f"both load: A {flushed_rows(a)}, B {flushed_rows(b)}")

    # SIGKILL A: B's consumer gets all four partitions; nothing is lost.
    a.kill()
    produce(kafka, range(2000, 4000))
    wait_until(lambda: ids_in(sr) == list(range(4000)), 90, "every row after A died")
    wait_until(lambda: [t["worker_id"] for t in state_of(b, "shared")["tasks"]] == [b.worker_id], 60,
               "A's task to leave the status")
    # A comes back: the work spreads again.
    before = flushed_rows(b)
    a.start()
    wait_until(lambda: len(state_of(b, "shared")["tasks"]) == 2, 60, "A back in the status")
    wait_until(lambda: reads_partitions(a, "shared"), 60, "A to get partitions again")
    produce(kafka, range(4000, 6000))
    wait_until(lambda: ids_in(sr) == list(range(6000)), 60, "every row after A came back")
    check(flushed_rows(a) > 0, "A loads again after its restart")
    check(flushed_rows(b) > before, "B keeps loading")
    check(a.stop() == 0 and b.stop() == 0, "clean stops")


def test_exactly_once_survives_a_worker_that_never_returns():
    """A is SIGKILLed for good while one of its transactions is prepared but not yet named by
    any offset commit: B takes A's partitions, rolls that transaction back, replays its rows,
    and the duplicate-key table ends with every id exactly once."""
    kafka = Kafka({"orders": 4})
    sr = StarRocks("CREATE DATABASE d; CREATE TABLE d.tab (id INT NOT NULL, v STRING) DUPLICATE KEY(id);")
    a = Worker(kafka, worker_extra="offset.flush.interval.ms=2000\n").start()
    b = Worker(kafka, worker_extra="offset.flush.interval.ms=2000\n").start()
    code, body, _ = a.request("/connectors", "POST", {"name": "eo", "config": config(
        sr, **{"sink.semantic": "exactly-once"})})
    check(code == 201, body)
    wait_until(lambda: reads_partitions(a, "eo") and reads_partitions(b, "eo"), 60,
               "the group to spread the partitions")
    produce(kafka, range(0, 2000))
    wait_until(lambda: len(ids_in(sr)) == 2000, 60, "2000 rows")
    # Every prepare from now on is answered 6 s late (the transaction is PREPARED at once):
    # A dies inside that window, before its offset commit could name the label.
    sr.fault("slow", count=50, ms=6000, op="prepare")
    produce(kafka, range(2000, 4000))
    mine = writer_slot(a.worker_id)

    def a_prepared():
        return [lb for lb, st in sr.labels("d").items() if mine in lb and st == "PREPARED"]
    lingering = wait_until(a_prepared, 60, "a prepared transaction of A")
    a.kill()
    check(all(sr.labels("d")[lb] == "PREPARED" for lb in lingering), "still prepared when A died")
    wait_until(lambda: sorted(set(ids_in(sr))) == list(range(4000)), 120, "every row after A died")
    time.sleep(3)  # anything still arriving would be a duplicate
    got = ids_in(sr)
    check(got == list(range(4000)), f"each id once: {len(got)} rows for {len(set(got))} ids")
    states = sr.labels("d")
    check(all(states[lb] == "ABORTED" for lb in lingering), f"A's lingering transactions: {[states[lb] for lb in lingering]}")
    check(not [lb for lb, st in states.items() if mine in lb and st in ("PREPARE", "PREPARED")],
          "none of A's transactions is left open")
    check(b.stop() == 0, "clean stop")


def test_restart_keeps_connectors_and_statuses():
    kafka = Kafka({"orders": 1, "other": 1})
    sr = StarRocks(SQL + " CREATE TABLE d.tab2 (id INT NOT NULL, v STRING) PRIMARY KEY(id);")
    w = Worker(kafka).start()
    check(w.request("/connectors", "POST", {"name": "run", "config": config(sr)})[0] == 201, "create run")
    code, body, _ = w.request("/connectors", "POST", {"name": "held", "initial_state": "PAUSED",
                                                      "config": config(sr, topics="other", **{"starrocks.topic2table.map": "other:tab2"})})
    check(code == 201, body)
    wait_until(lambda: state_of(w, "held")["connector"]["state"] == "PAUSED", 30, "held PAUSED from the start")
    produce(kafka, range(10))
    wait_until(lambda: ids_in(sr) == list(range(10)), 30, "rows before the restart")
    check(w.stop() == 0, w.logs())
    w.start()
    code, body, _ = w.request("/connectors")
    check(sorted(body) == ["held", "run"], body)
    wait_until(lambda: state_of(w, "run")["connector"]["state"] == "RUNNING", 30, "run RUNNING again")
    wait_until(lambda: state_of(w, "held")["connector"]["state"] == "PAUSED", 30, "held still PAUSED")
    produce(kafka, range(10, 20))
    wait_until(lambda: ids_in(sr) == list(range(20)), 30, "rows after the restart")
    check(w.stop() == 0, w.logs())


def test_failed_task_shows_the_cause_and_restarts_on_request():
    kafka = Kafka({"orders": 1})
    sr = StarRocks("CREATE DATABASE d;")
    w = Worker(kafka).start()
    produce(kafka, range(5))
    check(w.request("/connectors", "POST", {"name": "s", "config": config(sr)})[0] == 201, "create")

    def failed_task():
        st = state_of(w, "s")
        return st and st["tasks"] and st["tasks"][0]["state"] == "FAILED" and st["tasks"][0]
    task = wait_until(failed_task, 60, "the task to fail on the missing table")
    check("tab" in task["trace"] and task["worker_id"] == w.worker_id, task)
    # The operator fixes the cause, then restarts only what failed.
    sr._post("/_emulator/sql", "CREATE TABLE d.tab (id INT NOT NULL, v STRING) PRIMARY KEY(id);")
    code, body, _ = w.request("/connectors/s/restart?includeTasks=true&onlyFailed=true", "POST")
    check(code == 202 and body["tasks"][0]["state"] == "RESTARTING", body)
    wait_until(lambda: ids_in(sr) == list(range(5)), 60, "the rows after the restart")
    check(state_of(w, "s")["tasks"][0]["state"] == "RUNNING", state_of(w, "s"))
    check(w.stop() == 0, w.logs())


def test_https_listener_and_basic_auth():
    kafka = Kafka({"orders": 1})
    d = tempfile.mkdtemp(prefix="starpipe-tls-")
    key, crt, pem, p12 = (os.path.join(d, n) for n in ("key.pem", "cert.pem", "keystore.pem", "keystore.p12"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    with open(pem, "w") as f:
        f.write(open(key).read() + open(crt).read())
    subprocess.run(["openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", p12, "-passout", "pass:ks-secret"],
                   check=True, capture_output=True, timeout=60)
    users = os.path.join(d, "users.properties")
    with open(users, "w") as f:
        f.write("admin=admin-secret\n")

    port = free_port()
    pem_worker = Worker(kafka, port=port, worker_extra=f"listeners=https://127.0.0.1:{port}\n"
                        f"listeners.https.ssl.keystore.type=PEM\nlisteners.https.ssl.keystore.location={pem}\n"
                        f"rest.basic.auth.file={users}\n").start()
    code, body, _ = pem_worker.request("/connectors", cacert=crt)
    check(code == 401, body)
    code, body, _ = pem_worker.request("/connectors", cacert=crt, user="admin:wrong")
    check(code == 401, body)
    code, body, _ = pem_worker.request("/connectors", cacert=crt, user="admin:admin-secret")
    check((code, body) == (200, []), body)
    plain = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/"],
                           capture_output=True, text=True, timeout=30).stdout
    check(plain == "000", "plain HTTP is not answered on an https listener: " + plain)
    check(pem_worker.stop() == 0, pem_worker.logs())

    port = free_port()
    p12_worker = Worker(kafka, port=port, worker_extra=f"listeners=https://127.0.0.1:{port}\n"
                        f"ssl.keystore.type=PKCS12\nssl.keystore.location={p12}\nssl.keystore.password=ks-secret\n").start()
    code, body, _ = p12_worker.request("/", cacert=crt)
    check(code == 200 and body["version"], body)
    check(p12_worker.stop() == 0, p12_worker.logs())

    # A wrong keystore password: the worker does not start, says which key, never the secret.
    port = free_port()
    bad = Worker(kafka, port=port, worker_extra=f"listeners=https://127.0.0.1:{port}\n"
                 f"ssl.keystore.type=PKCS12\nssl.keystore.location={p12}\nssl.keystore.password=not-it\n")
    bad.start(wait=False)
    check(bad.proc.wait(30) == 1, bad.logs())
    check("ssl.keystore.password" in bad.logs() and "not-it" not in bad.logs(), bad.logs())


if __name__ == "__main__":
    run_tests([test_rest_api_writes_and_errors, test_two_workers_share_the_partitions_and_take_over,
               test_restart_keeps_connectors_and_statuses, test_failed_task_shows_the_cause_and_restarts_on_request,
               test_https_listener_and_basic_auth, test_exactly_once_survives_a_worker_that_never_returns])
