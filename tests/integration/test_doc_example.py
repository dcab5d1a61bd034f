"""The StarRocks Kafka connector documentation's example, end to end: topic `test` with the
three city rows into example_db.test_tbl, with the documentation's files and SQL."""
import os
import shutil
import subprocess
import tempfile

from harness import BIN, Kafka, StarRocks, check, free_port, run_tests, wait_until, _procs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC_ROWS = ['{"id":1,"city":"New York"}', '{"id":2,"city":"Los Angeles"}', '{"id":3,"city":"Chicago"}']


def test_documentation_example():
    kafka = Kafka({"test": 1})
    with open(os.path.join(ROOT, "conf/examples/example_db.sql")) as f:
        sr = StarRocks(f.read(), user="user1", password="123456")
    kafka.produce("test", DOC_ROWS)
    d = tempfile.mkdtemp()
    # The documentation's files; only the addresses differ.
    worker = open(os.path.join(ROOT, "conf/examples/connect-standalone.properties")).read()
    worker = worker.replace("127.0.0.1:9092", kafka.bootstrap) + f"listeners=http://127.0.0.1:{free_port()}\n"
    sink = open(os.path.join(ROOT, "conf/examples/connect-StarRocks-sink.properties")).read()
    sink = sink.replace("127.0.0.1:8030", f"127.0.0.1:{sr.fe_port}")
    open(os.path.join(d, "w.properties"), "w").write(worker)
    open(os.path.join(d, "s.properties"), "w").write(sink)
    log = open(os.path.join(d, "log"), "w")
    p = subprocess.Popen([BIN["starpipe"], "standalone", os.path.join(d, "w.properties"), os.path.join(d, "s.properties")],
                         stdout=log, stderr=subprocess.STDOUT)
    _procs.append(p)
    wait_until(lambda: len(sr.rows("example_db", "test_tbl")) == 3, 30, "the three rows")
    check(sr.rows("example_db", "test_tbl") == [["1", "New York"], ["2", "Los Angeles"], ["3", "Chicago"]],
          sr.text("example_db", "test_tbl"))
    text = sr.text("example_db", "test_tbl")
    check("|  2 | Los Angeles |" in text and "3 rows in set" in text, text)
    p.send_signal(15)
    check(p.wait(60) == 0, "starpipe exits 0 on SIGTERM")
    committed = kafka.committed("connect-starrocks-kafka-connector", "test", 1)
    check(committed == {0: 3}, f"committed offsets {committed}")
    logs = open(os.path.join(d, "log")).read()
    check("loaded table=example_db.test_tbl rows=3" in logs, "a log line per load")
    check("123456" not in logs, "the password never reaches the log")
    shutil.rmtree(d)


def test_json_connector_file():
    """connect-standalone also takes the REST body shape as a connector file, as the
    StarRocks CDC guide's sr-sink.properties is written."""
    import json
    kafka = Kafka({"test": 1})
    with open(os.path.join(ROOT, "conf/examples/example_db.sql")) as f:
        sr = StarRocks(f.read(), user="user1", password="123456")
    kafka.produce("test", DOC_ROWS)
    d = tempfile.mkdtemp()
    open(os.path.join(d, "w.properties"), "w").write(f"bootstrap.servers={kafka.bootstrap}\n"
                                                    "value.converter.schemas.enable=false\n"
                                                    f"listeners=http://127.0.0.1:{free_port()}\n")
    open(os.path.join(d, "sr-sink.properties"), "w").write(json.dumps({"name": "starrocks-kafka-connector", "config": {
        "connector.class": "com.starrocks.connector.kafka.StarRocksSinkConnector", "tasks.max": "1", "topics": "test",
        "starrocks.http.url": f"127.0.0.1:{sr.fe_port}", "starrocks.database.name": "example_db",
        "starrocks.username": "user1", "starrocks.password": "123456", "sink.properties.strip_outer_array": "true",
        "connect.timeoutms": "3000", "starrocks.topic2table.map": "test:test_tbl"}}, indent=2))
    p = subprocess.Popen([BIN["starpipe"], "standalone", os.path.join(d, "w.properties"),
                          os.path.join(d, "sr-sink.properties")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _procs.append(p)
    wait_until(lambda: len(sr.rows("example_db", "test_tbl")) == 3, 30, "the three rows")
    p.send_signal(15)
    check(p.wait(60) == 0, "exit 0")
    shutil.rmtree(d)


def test_cli_help_version_and_bad_config():
    out = subprocess.run([BIN["starpipe"], "--help"], capture_output=True, text=True, timeout=10)
    check(out.returncode == 0 and "standalone WORKER.properties" in out.stdout, out.stdout)
    out = subprocess.run([BIN["starpipe"], "--version"], capture_output=True, text=True, timeout=10)
    check(out.returncode == 0 and out.stdout.startswith("starpipe "), out.stdout)
    d = tempfile.mkdtemp()
    open(os.path.join(d, "w.properties"), "w").write("bootstrap.servers=127.0.0.1:1\noffset.flush.interval.ms=x\n")
    open(os.path.join(d, "c.properties"), "w").write(
        "name=c\nconnector.class=com.starrocks.connector.kafka.StarRocksSinkConnector\ntopics=t\n"
        "starrocks.http.url=127.0.0.1:8030\nstarrocks.database.name=d\nstarrocks.username=u\nstarrocks.password=pw\n"
        "bufferflush.intervalms=5\nsink.properties.format=xml\nmystery.key=1\n")
    out = subprocess.run([BIN["starpipe"], "standalone", os.path.join(d, "w.properties"), os.path.join(d, "c.properties")],
                         capture_output=True, text=True, timeout=20)
    check(out.returncode == 1, f"exit code {out.returncode}")
    for needle in ["offset.flush.interval.ms='x'", "c.properties:8: bufferflush.intervalms='5': must be an integer in [1000, 3600000]",
                   "sink.properties.format='xml'"]:
        check(needle in out.stderr, f"{needle!r} not in:\n{out.stderr}")
    shutil.rmtree(d)


if __name__ == "__main__":
    run_tests([test_documentation_example, test_json_connector_file, test_cli_help_version_and_bad_config])
