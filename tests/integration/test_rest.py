"""The Kafka Connect REST API's read-only endpoints in standalone mode, checked with curl (an
independent client): shapes, error bodies, statuses that tell the truth, /metrics."""
import json
import subprocess

from harness import Kafka, StarRocks, Starpipe, check, run_tests, wait_until

SQL = "CREATE DATABASE d; CREATE TABLE d.t (id INT NOT NULL, v STRING) DUPLICATE KEY(id);"


def curl(port, path, method="GET", body=None):
    args = ["curl", "-s", "-X", method, "-w", "\n%{http_code}", f"http://127.0.0.1:{port}{path}"]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "-d", body]
    out = subprocess.run(args, capture_output=True, text=True, timeout=20)
    body, _, code = out.stdout.rpartition("\n")
    return int(code), body


def test_read_only_endpoints_and_errors():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    kafka.produce("t", ['{"id":%d,"v":"x"}' % i for i in range(10)])
    sr.stop()
    sr = StarRocks(SQL, password="s3cret-pw")
    sp = Starpipe(kafka, sr, [{"name": "sr-sink", "topics": "t", "starrocks.database.name": "d",
                               "starrocks.password": "s3cret-pw"}]).start()
    port = sp.rest_port
    wait_until(lambda: len(sr.rows("d", "t")) == 10, 30, "rows")
    code, body = curl(port, "/")
    check(code == 200 and "version" in json.loads(body), body)
    code, body = curl(port, "/connectors")
    check(code == 200 and json.loads(body) == ["sr-sink"], body)
    code, body = curl(port, "/connectors?expand=status&expand=info")
    both = json.loads(body)["sr-sink"]
    check(both["status"]["connector"]["state"] == "RUNNING" and both["info"]["type"] == "sink", body)
    code, body = curl(port, "/connectors/sr-sink")
    info = json.loads(body)
    check(info["name"] == "sr-sink" and info["tasks"] == [{"connector": "sr-sink", "task": 0}], body)
    code, body = curl(port, "/connectors/sr-sink/config")
    check(json.loads(body)["topics"] == "t", body)
    code, body = curl(port, "/connectors/sr-sink/status")
    status = json.loads(body)
    check(status["tasks"][0]["state"] == "RUNNING" and "trace" not in status["tasks"][0], body)
    check(status["connector"]["worker_id"] == f"127.0.0.1:{port}", body)
    code, body = curl(port, "/connectors/sr-sink/tasks/0/status")
    check(code == 200 and json.loads(body)["id"] == 0, body)
    code, body = curl(port, "/connectors/sr-sink/tasks")
    check(json.loads(body)[0]["id"] == {"connector": "sr-sink", "task": 0}, body)
    code, body = curl(port, "/connectors/sr-sink/topics")
    check(json.loads(body) == {"sr-sink": {"topics": ["t"]}}, body)
    code, body = curl(port, "/connector-plugins")
    check(json.loads(body)[0]["class"] == "com.starrocks.connector.kafka.StarRocksSinkConnector", body)
    code, body = curl(port, "/connector-plugins?connectorsOnly=false")
    check(any(p["class"] == "io.debezium.transforms.ExtractNewRecordState" for p in json.loads(body)), body)
    # errors, in Kafka Connect's shape
    code, body = curl(port, "/connectors/nope")
    check(code == 404 and json.loads(body) == {"error_code": 404, "message": "Connector nope not found"}, body)
    code, body = curl(port, "/connectors/nope/status")
    check(code == 404 and json.loads(body)["message"] == "No status found for connector nope", body)
    code, body = curl(port, "/connectors/sr-sink/tasks/7/status")
    check(code == 404 and json.loads(body)["message"] == "No status found for task sr-sink-7", body)
    code, body = curl(port, "/no/such/path")
    check(code == 404 and json.loads(body)["error_code"] == 404, body)
    code, body = curl(port, "/connectors/sr-sink", "DELETE")
    check(code == 405 and json.loads(body)["error_code"] == 405, body)
    # validation, in Connect's shape
    cfg = {"connector.class": "com.starrocks.connector.kafka.StarRocksSinkConnector", "name": "x", "topics": "t",
           "starrocks.http.url": "fe:8030", "starrocks.database.name": "d", "starrocks.username": "u",
           "bufferflush.intervalms": "5", "transforms": "u", "transforms.u.type": "com.example.Nope"}
    code, body = curl(port, "/connector-plugins/StarRocksSink/config/validate", "PUT", json.dumps(cfg))
    v = json.loads(body)
    check(code == 200 and v["name"] == cfg["connector.class"] and v["error_count"] == 3, body)
    errs = {c["value"]["name"]: c["value"]["errors"] for c in v["configs"]}
    check(any("[1000, 3600000]" in e for e in errs["bufferflush.intervalms"]), errs)
    check(any("You must specify starrocks.password" in e for e in errs["starrocks.password"]), errs)
    check(any("unknown transform class for alias 'u'" in e for e in errs["transforms.u.type"]), errs)
    check(errs["topics"] == [], errs)
    code, body = curl(port, "/connector-plugins/FileStreamSink/config/validate", "PUT", json.dumps(cfg))
    check(code == 400, body)
    code, body = curl(port, "/connector-plugins/StarRocksSink/config/validate", "PUT", "{not json")
    check(code == 400 and json.loads(body)["error_code"] == 400, body)
    # metrics
    code, body = curl(port, "/metrics")
    check(code == 200 and 'starpipe_total_flush_rows{connector="sr-sink"} 10' in body, body)
    check("# TYPE starpipe_consumer_lag gauge" in body, body)
    check('starpipe_task_running{connector="sr-sink",task="0",state="RUNNING"} 1' in body, body)
    wait_until(lambda: 'starpipe_task_consumer_lag{connector="sr-sink",task="0"} 0' in curl(port, "/metrics")[1], 30,
               "the task's lag")
    check("s3cret-pw" not in sp.logs(), "no password in the log")
    check(sp.stop() == 0, "exit 0")


def test_failed_task_reports_the_cause():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    kafka.produce("t", ['{"id":"x","v":"bad"}'])
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}]).start()
    sp.wait_for_task_state("FAILED", 30, "the task to fail")
    task = json.loads(curl(sp.rest_port, "/connectors/c/status")[1])["tasks"][0]
    check("too many filtered rows" in task["trace"], task)
    code, body = curl(sp.rest_port, "/metrics")
    check('starpipe_total_flush_failed_times{connector="c"} 1' in body, body)
    check(sp.stop() == 0, "exit 0")


def test_a_stalled_task_is_reported():
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    sr.fault("slow", count=1, ms=12000, op="load")  # the first load's body hangs for 12 s
    kafka.produce("t", ['{"id":%d,"v":"x"}' % i for i in range(5)])
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}],
                  worker_extra="task.stall.timeout.ms=2000\n").start()
    def task():
        code, body = curl(sp.rest_port, "/connectors/c/status")
        return json.loads(body)["tasks"][0] if code == 200 else {}
    wait_until(lambda: "Stalled" in task().get("trace", ""), 30, "the stall in the task status")
    check(task()["state"] == "RUNNING", "still running, but not silently")
    check('starpipe_stalled{connector="c"} 1' in curl(sp.rest_port, "/metrics")[1], "the stalled gauge")
    wait_until(lambda: len(sr.rows("d", "t")) == 5, 30, "the load to finish")
    wait_until(lambda: "trace" not in task(), 15, "the stall to clear")
    check('starpipe_stalled{connector="c"} 0' in curl(sp.rest_port, "/metrics")[1], "the stalled gauge back to 0")
    check(sp.stop() == 0, "exit 0")


def test_basic_authentication():
    import os
    import tempfile
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    users = os.path.join(tempfile.mkdtemp(), "credentials.properties")
    with open(users, "w") as f:
        f.write("admin=adm1n-pw\n")
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}],
                  worker_extra=f"rest.basic.auth.file={users}\n").start()
    wait_until(lambda: "REST API on" in sp.logs(), 10, "the REST listener")
    out = subprocess.run(["curl", "-s", "-i", f"http://127.0.0.1:{sp.rest_port}/connectors"], capture_output=True,
                         text=True, timeout=20).stdout
    check(out.startswith("HTTP/1.1 401") and 'WWW-Authenticate: Basic realm="starpipe"' in out, out)
    out = subprocess.run(["curl", "-s", "-u", "admin:wrong", "-w", "%{http_code}", "-o", "/dev/null",
                          f"http://127.0.0.1:{sp.rest_port}/connectors"], capture_output=True, text=True, timeout=20).stdout
    check(out == "401", out)
    out = subprocess.run(["curl", "-s", "-u", "admin:adm1n-pw", f"http://127.0.0.1:{sp.rest_port}/connectors"],
                         capture_output=True, text=True, timeout=20).stdout
    check(json.loads(out) == ["c"], out)
    check("adm1n-pw" not in sp.logs(), "the REST password never reaches the log")
    check(sp.stop() == 0, "exit 0")


if __name__ == "__main__":
    run_tests([test_read_only_endpoints_and_errors, test_failed_task_reports_the_cause, test_a_stalled_task_is_reported,
               test_basic_authentication])
