"""Hostile input and faults (issue 11): records, names, files and servers that must neither
crash nor hang starpipe, nor load rows where they do not belong. Each test fails on the code
before its fix."""
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import threading
import time
import urllib.request

from harness import BIN, Kafka, free_port, StarRocks, Starpipe, Worker, _procs, check, run_tests, wait_until

SQL = """
CREATE DATABASE d;
CREATE TABLE d.t (id INT NOT NULL, note VARCHAR(64)) DUPLICATE KEY(id);
"""

DEEP = 100000


def deep_value(schemas):
    inner = "[" * DEEP + "]" * DEEP
    if schemas:
        return json.dumps({"schema": {"type": "struct", "fields": [
            {"field": "id", "type": "int32"}, {"field": "note", "type": "string", "optional": True}]},
            "payload": {"id": 0, "note": "x"}})[:-2] + ', "deep": ' + inner + "}}"
    return '{"id": 0, "note": ' + inner + "}"


def good_row(i, schemas):
    row = {"id": i, "note": "ok"}
    if schemas:
        return json.dumps({"schema": {"type": "struct", "fields": [
            {"field": "id", "type": "int32"}, {"field": "note", "type": "string", "optional": True}]},
            "payload": row})
    return json.dumps(row)


def task_state(sp, name="c"):
    return sp.task_state(name)


def test_deeply_nested_record_fails_the_task_not_the_process():
    """A record nested 100,000 levels deep under schemas.enable=true and through a transform:
    the process stays up, the task FAILs naming the offset (none) or skips it (all)."""
    variants = [
        ("schemas", {"value.converter.schemas.enable": "true"}, True),
        ("transform", {"transforms": "tag", "transforms.tag.type": "org.apache.kafka.connect.transforms.InsertField$Value",
                       "transforms.tag.static.field": "src", "transforms.tag.static.value": "k"}, False),
    ]
    for label, keys, schemas in variants:
        for tolerance in ("none", "all"):
            kafka = Kafka({"t": 1})
            sr = StarRocks(SQL if label == "schemas" else SQL.replace("note VARCHAR(64)", "note VARCHAR(64), src VARCHAR(8)"))
            kafka.produce("t", [good_row(1, schemas), deep_value(schemas), good_row(2, schemas)], partition=0)
            sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d",
                                       "errors.tolerance": tolerance, **keys}]).start()
            if tolerance == "none":
                st = wait_until(lambda: (s := task_state(sp)) and s["state"] == "FAILED" and s, 30,
                                f"{label}: the task to fail")
                check("offset 1" in st["trace"] and "nested deeper than 512 levels" in st["trace"], st["trace"])
                check(sp.proc.poll() is None, f"{label}: the process died:\n" + sp.logs()[-2000:])
                wait_until(lambda: len(sr.rows("d", "t")) == 1, 30, f"{label}: the row before the bad one")
                committed = kafka.committed("connect-c", "t", 1)[0]
                check(committed is None or committed <= 1, f"{label}: offset moved past the bad record: {committed}")
            else:
                wait_until(lambda: len(sr.rows("d", "t")) == 2, 30, f"{label}: both good rows around the skipped one")
                check(task_state(sp)["state"] == "RUNNING", task_state(sp))
            check(sp.stop() == 0, f"{label}/{tolerance}: exit 0")
            kafka.stop()
            sr.stop()


def test_topics_regex_is_a_full_match():
    """topics.regex over test1, test22, test1extra, mytest1: only the full matches are loaded."""
    topics = ["test1", "test22", "test1extra", "mytest1"]
    sql = "CREATE DATABASE d;\n" + "".join(f"CREATE TABLE d.{t} (id INT NOT NULL, note VARCHAR(64)) DUPLICATE KEY(id);\n"
                                           for t in topics)
    for regex in ("test[0-9]+", "test22|test1", "(?i)TEST\\\\d+"):
        kafka = Kafka({t: 1 for t in topics})
        sr = StarRocks(sql)
        for t in topics:
            kafka.produce(t, [json.dumps({"id": 1, "note": t})], partition=0)
        sp = Starpipe(kafka, sr, [{"name": "c", "topics.regex": regex, "starrocks.database.name": "d"}]).start()
        wait_until(lambda: len(sr.rows("d", "test1")) == 1 and len(sr.rows("d", "test22")) == 1, 30,
                   f"{regex}: the matching topics loaded")
        # The later topics were produced after the matching ones were loaded; give them a flush.
        for t in topics:
            kafka.produce(t, [json.dumps({"id": 2, "note": t})], partition=0)
        wait_until(lambda: len(sr.rows("d", "test1")) == 2 and len(sr.rows("d", "test22")) == 2, 30,
                   f"{regex}: the second rows")
        check(sr.rows("d", "test1extra") == [] and sr.rows("d", "mytest1") == [],
              f"{regex}: loaded topics it does not fully match: {sr.rows('d', 'test1extra')} {sr.rows('d', 'mytest1')}")
        check(sp.stop() == 0, "exit 0")
        kafka.stop()
        sr.stop()


class SilentServer:
    """Takes TCP connections on 127.0.0.1 and never answers: a hung FE or BE."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.accepting = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.accepting:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                return

    def close(self):
        self.accepting = False
        self.sock.close()
        for c in self.held:
            c.close()


def test_silent_fe_is_skipped_and_never_blocks_shutdown():
    """A FE that takes the connection and never answers: the writer moves on to the next FE of
    starrocks.http.url in bounded time, and SIGTERM with a request stuck on it exits 0 within
    task.shutdown.graceful.timeout.ms plus a small margin, committing nothing it did not load."""
    silent = SilentServer()
    try:
        for version in ("AUTO", "V1"):
            kafka = Kafka({"t": 1})
            sr = StarRocks(SQL)
            kafka.produce("t", [good_row(i, False) for i in range(3)], partition=0)
            # V1 waits sink.wait-for-continue.timeout-ms for the FE's 100 Continue (its documented key).
            sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d",
                                       "sink.version": version, "sink.wait-for-continue.timeout-ms": "3000"}])
            with open(sp.files[0]) as f:
                text = f.read()
            with open(sp.files[0], "w") as f:
                f.write(text.replace(f"starrocks.http.url=127.0.0.1:{sr.fe_port}",
                                     f"starrocks.http.url=127.0.0.1:{silent.port},127.0.0.1:{sr.fe_port}"))
            start = time.time()
            sp.start()
            wait_until(lambda: len(sr.rows("d", "t")) == 3, 60, f"{version}: the rows through the second FE")
            took = time.time() - start
            # The probe (AUTO) gives up on a silent FE after 10 s, a V1 load after the 100-continue wait.
            print(f"{version}: first rows through the second FE after {took:.1f}s", flush=True)
            check(took < (20 if version == "AUTO" else 12), f"{version}: failing over took {took:.1f}s")
            check(sp.stop(30) == 0, "exit 0")
            kafka.stop()
            sr.stop()

        # Only the silent FE: SIGTERM while a request hangs on it.
        kafka = Kafka({"t": 1})
        sr = StarRocks(SQL)
        kafka.produce("t", [good_row(i, False) for i in range(3)], partition=0)
        sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}],
                      worker_extra="task.shutdown.graceful.timeout.ms=3000\n")
        with open(sp.files[0]) as f:
            text = f.read()
        with open(sp.files[0], "w") as f:
            f.write(text.replace(f"starrocks.http.url=127.0.0.1:{sr.fe_port}", f"starrocks.http.url=127.0.0.1:{silent.port}"))
        before = len(silent.held)
        sp.start()
        wait_until(lambda: len(silent.held) > before, 30, "a request to the silent FE")
        time.sleep(1)
        start = time.time()
        sp.proc.send_signal(signal.SIGTERM)
        rc = sp.proc.wait(30)
        took = time.time() - start
        check(rc == 0, f"exit code {rc}:\n" + sp.logs()[-2000:])
        print(f"SIGTERM with a request hanging: exit {rc} after {took:.1f}s", flush=True)
        check(took < 3 + 5 + 2, f"SIGTERM took {took:.1f}s with graceful timeout 3 s")
        committed = kafka.committed("connect-c", "t", 1)[0]
        check(committed is None or committed == 0, f"committed {committed} though nothing was loaded")
    finally:
        silent.close()


def test_restart_after_sigkill_resumes_within_seconds():
    """A SIGKILLed standalone worker that restarts loads again within seconds, not after the
    dead member's 45 s session timeout. On a real broker static membership (group.instance.id)
    gives the partitions back at once; librdkafka's mock ignores group.instance.id, so here the
    bound is starpipe's default session timeout of 10 s."""
    kafka = Kafka({"t": 4})
    sr = StarRocks(SQL)
    # The worker keys of a plain connect-standalone.properties: starpipe's default session timeout.
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d", "tasks.max": "2"}])
    with open(sp.worker) as f:
        text = f.read()
    with open(sp.worker, "w") as f:
        f.write(text.replace("consumer.session.timeout.ms=6000\n", "").replace("consumer.heartbeat.interval.ms=1000\n", ""))
    sp.start()
    for p in range(4):
        kafka.produce("t", [json.dumps({"id": p, "note": "before"})], partition=p)
    wait_until(lambda: len(sr.rows("d", "t")) == 4, 60, "the first rows")
    sp.kill()
    start = time.time()
    sp.start()
    for p in range(4):
        kafka.produce("t", [json.dumps({"id": 10 + p, "note": "after"})], partition=p)
    # Waits for the new rows, not a count: a kill between the first load and its offset
    # commit replays the first rows (at-least-once, a DUPLICATE KEY table keeps both copies).
    after = {10, 11, 12, 13}
    wait_until(lambda: after <= {int(r[0]) for r in sr.rows("d", "t")}, 60, "the rows after the restart")
    took = time.time() - start
    print(f"first rows after a SIGKILL and restart: {took:.1f}s", flush=True)
    check(took <= 15, f"the restarted worker took {took:.1f}s to load new rows (45 s before)")
    check(sp.stop() == 0, "exit 0")


def timed_get(port, path="/"):
    start = time.time()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        r.read()
        return r.status, time.time() - start


def test_rest_port_cannot_be_exhausted():
    """A flood of idle connections under a lowered `ulimit -n`, then malformed requests:
    GET / keeps answering within a second, loads go on, and each malformed request gets a
    status instead of a closed socket."""
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}])
    sp.log = open(sp.log_path, "a")
    sp.proc = subprocess.Popen([BIN["starpipe"], "standalone", sp.worker, *sp.files], stdout=sp.log,
                               stderr=subprocess.STDOUT,
                               preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)))
    _procs.append(sp.proc)
    wait_until(lambda: task_state(sp) and task_state(sp)["state"] == "RUNNING", 30, "the connector to run")
    flood = []
    try:
        for _ in range(600):  # more than the process has descriptors
            try:
                flood.append(socket.create_connection(("127.0.0.1", sp.rest_port), timeout=2))
            except OSError:
                break
        worst = 0.0
        for i in range(20):
            status, took = timed_get(sp.rest_port)
            check(status == 200, f"GET / answered {status}")
            worst = max(worst, took)
            kafka.produce("t", [good_row(1000 + i, False)], partition=0)
        print(f"{len(flood)} idle connections held; slowest GET / {worst:.2f}s", flush=True)
        check(worst < 1.0, f"GET / took {worst:.2f}s under the flood")
        wait_until(lambda: len(sr.rows("d", "t")) == 20, 30, "the rows produced during the flood")
        check(task_state(sp)["state"] == "RUNNING", task_state(sp))
    finally:
        for c in flood:
            c.close()
    malformed = {
        b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n": b" 400 ",
        b"POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}": b" 400 ",
        b"GET / HTTP/1.1\nHost: x\n\n": b" 400 ",
        b"GET /\r\n\r\n": b" 400 ",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": b" 400 ",
        b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": b" 414 ",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"b" * 40000 + b"\r\n\r\n": b" 431 ",
    }
    for request, expected in malformed.items():
        with socket.create_connection(("127.0.0.1", sp.rest_port), timeout=5) as c:
            c.sendall(request)
            first = c.recv(200).split(b"\r\n")[0]
        check(expected in first, f"{request[:40]!r}: answered {first!r}, expected {expected!r}")
    check(sp.stop() == 0, "exit 0")


def test_rest_writes_wait_for_start_up_and_never_hold_the_readers():
    """Distributed mode: the guide's POST /connectors sent as soon as the listener answers is
    held until the worker is ready (201, not 503); 60 concurrent writes never make GET / slow."""
    kafka = Kafka({"orders": 1})
    sr = StarRocks("CREATE DATABASE d; CREATE TABLE d.tab (id INT NOT NULL, v STRING) PRIMARY KEY(id);")
    w = Worker(kafka)
    cfg = {"connector.class": "com.starrocks.connector.kafka.StarRocksSinkConnector", "topics": "orders",
           "starrocks.http.url": f"127.0.0.1:{sr.fe_port}", "starrocks.username": "root", "starrocks.password": "",
           "starrocks.database.name": "d", "starrocks.topic2table.map": "orders:tab"}
    w.start(wait=False)
    # The POST goes out the moment the listener takes a connection, long before the worker
    # has read its config topic and joined its group.
    deadline = time.time() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", w.rest_port, timeout=120)
            conn.connect()
            break
        except OSError:
            check(time.time() < deadline, "the listener never opened")
            time.sleep(0.005)
    conn.request("POST", "/connectors", json.dumps({"name": "early", "config": cfg}),
                 {"Content-Type": "application/json"})
    answer = conn.getresponse()
    body = answer.read().decode()
    conn.close()
    check(answer.status == 201, f"POST right after the listener opened: {answer.status} {body}")
    kafka.produce("orders", ['{"id":1,"v":"a"}'])
    wait_until(lambda: sr.rows("d", "tab") == [["1", "a"]], 60, "the early connector's row")

    results = []

    def put(i):
        results.append(w.request("/connectors/early/config", "PUT", dict(cfg, **{"bufferflush.intervalms": str(1000 + i)}))[0])

    threads = [threading.Thread(target=put, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    worst = 0.0
    for _ in range(10):
        status, took = timed_get(w.rest_port)
        worst = max(worst, took)
        time.sleep(0.05)
    for t in threads:
        t.join(120)
    print(f"60 concurrent PUTs: answers {sorted(set(results))}; slowest GET / {worst:.2f}s", flush=True)
    check(worst < 1.0, f"GET / took {worst:.2f}s while 60 writes were under way")
    check(len(results) == 60 and all(c in (200, 201, 409) for c in results), f"writes answered {results}")
    check(w.stop() == 0, "exit 0")


def metric(sp, name):
    code, text, _ = sp.request("/metrics")
    for line in text.splitlines():
        if line.startswith(name + "{"):
            return int(line.rsplit(" ", 1)[1])
    return None


def test_starrocks_down_at_start_is_waited_for():
    """With the default sink.maxretries=3 the task once FAILed 3.5 s after start and stayed so.
    Now it stays RUNNING, says it is retrying and why, and loads once the FE comes up."""
    kafka = Kafka({"t": 1})
    fe_port = free_port()
    sp = Starpipe(kafka, type("Down", (), {"fe_port": fe_port})(),
                  [{"name": "c", "topics": "t", "starrocks.database.name": "d"}]).start()
    kafka.produce("t", [good_row(i, False) for i in range(5)], partition=0)
    st = wait_until(lambda: (s := task_state(sp)) and s.get("trace", "").startswith("Retrying") and s, 30,
                    "the task to say it is retrying")
    time.sleep(8)  # well past the old 3.5 s failure
    st = task_state(sp)
    check(st["state"] == "RUNNING" and "unreachable" in st["trace"], st)
    check(metric(sp, "starpipe_waiting_for_starrocks") == 1, "gauge while StarRocks is down")
    sr = StarRocks(SQL, fe_port=fe_port)
    wait_until(lambda: len(sr.rows("d", "t")) == 5, 60, "the rows once the FE is up")
    wait_until(lambda: metric(sp, "starpipe_waiting_for_starrocks") == 0, 10, "the gauge to clear")
    check("trace" not in task_state(sp) or not task_state(sp)["trace"], task_state(sp))
    check(sp.stop() == 0, "exit 0")


def run_starpipe(args, env=None, timeout=20):
    out = subprocess.run([BIN["starpipe"], *args], capture_output=True, text=True, errors="replace", timeout=timeout,
                         env={**os.environ, **(env or {})})
    return out.returncode, out.stdout + out.stderr


def test_wrong_files_names_and_options_are_refused():
    """Each refused with exit 1 and a reason, never started with defaults or guessed."""
    kafka = Kafka({"t": 1})
    sr = StarRocks(SQL)
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}])
    d = sp.dir
    binary = os.path.join(d, "binary.properties")
    with open(binary, "wb") as f:
        f.write(open(BIN["starpipe"], "rb").read(4096))
    broken = os.path.join(d, "broken.json")
    with open(broken, "w") as f:
        f.write('{"name": "c", "config": {\n  "topics": "t",\n  "tasks.max": }}')
    nul = os.path.join(d, "nul.properties")
    with open(sp.files[0]) as f:
        base = f.read()
    with open(nul, "w") as f:
        f.write(base.replace("name=c", "name=a\\u0000b"))
    pg = os.path.join(d, "pg-source.properties")
    with open(pg, "w") as f:
        f.write("name=pg\nconnector.class=io.debezium.connector.postgresql.PostgresConnector\nplugin.name=pgoutput\n"
                "database.hostname=localhost\ndatabase.port=5432\ntopic.prefix=test\n")
    cases = [
        (["standalone", d, sp.files[0]], "is a directory"),
        (["standalone", binary, sp.files[0]], "is not a text file"),
        (["standalone", sp.worker, d], "is a directory"),
        (["standalone", sp.worker, os.path.join(d, "missing.properties")], "(ENOENT)"),
        (["standalone", sp.worker, broken], "line 3, column"),
        (["standalone", sp.worker, nul], "name='a\\x00b': String may not contain control sequences"),
        (["standalone", sp.worker, pg], "is a source connector"),
        (["--log-level", "loud", "standalone", sp.worker, sp.files[0]], "'loud' is not a log level"),
    ]
    for args, expected in cases:
        rc, text = run_starpipe(args)
        check(rc == 1 and expected in text, f"{args}: rc={rc}, expected {expected!r} in:\n{text[-1500:]}")
    rc, text = run_starpipe(["standalone", sp.worker, pg])
    check(text.count("connector.class") == 1 and "topics" not in text, "one error for a source file:\n" + text)
    rc, text = run_starpipe(["standalone", sp.worker, sp.files[0]], env={"STARPIPE_LOG_LEVEL": "chatty"})
    check(rc == 1 and "STARPIPE_LOG_LEVEL='chatty'" in text, text)
    # --log-level=debug is an option like any other: the worker starts and stops cleanly.
    sp.log_level = "debug"
    sp.log = open(sp.log_path, "a")
    sp.proc = subprocess.Popen([BIN["starpipe"], "--log-level=debug", "standalone", sp.worker, *sp.files],
                               stdout=sp.log, stderr=subprocess.STDOUT)
    _procs.append(sp.proc)
    wait_until(lambda: task_state(sp) and task_state(sp)["state"] == "RUNNING", 30, "the connector to run")
    check(sp.stop() == 0, "exit 0")


def read_topic(kafka, topic):
    out = subprocess.run(["kcat", "-C", "-b", kafka.bootstrap, "-t", topic, "-J", "-e", "-o", "beginning",
                          "-X", "fetch.wait.max.ms=10"], capture_output=True, text=True, timeout=30)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def rejection_run(name, extra, tolerance, length, bad=500, csv=False):
    keys = [f"k{i}" for i in range(1000)]
    note = lambda i: ("x" * length) if i == bad else f"n{i}"
    if csv:
        values = [f"{i}|{note(i)}" for i in range(1000)]
        extra = {**extra, "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                 "sink.properties.format": "csv", "sink.properties.column_separator": "|"}
    else:
        values = [json.dumps({"id": i, "note": note(i)}) for i in range(1000)]
    kafka = Kafka({"t": 1, "t-dlq": 1})
    sr = StarRocks(SQL)
    subprocess.run(["kcat", "-P", "-b", kafka.bootstrap, "-t", "t", "-K", "\t", "-H", "trace=abc",
                    "-X", "linger.ms=5"], input="".join(f"{k}\t{v}\n" for k, v in zip(keys, values)),
                   text=True, check=True, timeout=60)
    c = {"name": "c", "topics": "t", "starrocks.database.name": "d", "errors.tolerance": tolerance,
         "sink.label-prefix": "rej", **extra}
    if tolerance == "all":
        c.update({"errors.deadletterqueue.topic.name": "t-dlq",
                  "errors.deadletterqueue.context.headers.enable": "true"})
    sp = Starpipe(kafka, sr, [c]).start()
    what = f"{name}{' CSV' if csv else ''}, errors.tolerance={tolerance}, a {length}-byte note"
    if tolerance == "all":
        wait_until(lambda: len(sr.rows("d", "t")) >= 999, 60, f"the 999 good rows ({what})")
        wait_until(lambda: read_topic(kafka, "t-dlq"), 30, f"the dead letter ({what})")
        time.sleep(1)  # nothing more may arrive
        got = sorted(int(r[0]) for r in sr.rows("d", "t"))
        check(got == [i for i in range(1000) if i != bad], f"{what}: each good row once, the bad one not")
        letters = read_topic(kafka, "t-dlq")
        check(len(letters) == 1, f"{what}: exactly one dead letter: {letters}")
        m = letters[0]
        check(m["key"] == f"k{bad}" and m["payload"] == values[bad], f"{what}: the original record: {m}")
        h = dict(zip(m["headers"][0::2], m["headers"][1::2]))
        check(h.get("trace") == "abc", f"{what}: its own header: {h}")
        check(h.get("__connect.errors.offset") == str(bad) and h.get("__connect.errors.partition") == "0"
              and h.get("__connect.errors.topic") == "t" and h.get("__connect.errors.stage") == "TASK_PUT",
              f"{what}: where it came from: {h}")
        check("Value length is beyond the capacity" in h.get("__connect.errors.exception.message", ""),
              f"{what}: StarRocks' reason: {h}")
        check(task_state(sp)["state"] == "RUNNING", f"{what}: the task goes on")
        check(sp.stop() == 0, "exit 0")
        check(kafka.committed("connect-c", "t", 1) == {0: 1000}, f"{what}: committed past the rejected row")
    else:
        st = wait_until(lambda: (s := task_state(sp)) and s["state"] == "FAILED" and s, 60, f"FAILED ({what})")
        check(f"topic t, partition 0, offset {bad}" in st["trace"] and "Value length is beyond" in st["trace"],
              f"{what}: names the record and the reason: {st['trace'][:400]}")
        check(sp.stop() == 0, "exit 0")
        committed = kafka.committed("connect-c", "t", 1)[0]
        check(committed is None or committed <= bad, f"{what}: not committed past it: {committed}")
        if name == "exactly-once":
            check(len(sr.rows("d", "t")) == 0, f"{what}: nothing of the refused checkpoint is visible")
        check(read_topic(kafka, "t-dlq") == [], f"{what}: no dead letter")
    loads = re.findall(r"rejected=1 .*\(in (\d+) loads\)", sp.logs())
    print(f"  {what}: ok" + (f", {loads[0]} loads to find the row" if loads else ""))


def test_librdkafka_lines_go_through_the_logger():
    """A Kafka that is not there: librdkafka's own complaints come out as starpipe log lines
    (timestamp, level, component kafka), never as its raw %N|... lines beside them."""
    class NoKafka:
        bootstrap = f"127.0.0.1:{free_port()}"
    sr = StarRocks(SQL)
    sp = Starpipe(NoKafka(), sr, [{"name": "c", "topics": "t", "starrocks.database.name": "d"}]).start()
    port = NoKafka.bootstrap.split(":")[1]
    pattern = re.compile(r"^\d{4}-\d\d-\d\dT\S+Z (WARN |ERROR) \[kafka\] .*127\.0\.0\.1:" + port, re.M)
    wait_until(lambda: pattern.search(sp.logs()), 30, "librdkafka's connection failure in starpipe's format")
    raw = [l for l in sp.logs().splitlines() if re.match(r"^%\d\|", l)]
    check(sp.stop() == 0, "exit 0")
    check(raw == [], f"no raw librdkafka lines: {raw[:3]}")


def test_rows_starrocks_rejects_do_not_stop_good_rows():
    """One over-long string among 1,000 rows: StarRocks refuses the whole load ("too many
    filtered rows"). Under errors.tolerance=all the other 999 load, exactly once each, and the
    rejected record goes to the dead-letter topic with its key, value, headers and StarRocks'
    reason; under none the task FAILs naming its offset and commits nothing past it. Over
    Stream Load V1, transactions (AUTO) and exactly-once. The emulator's error log quotes rows
    of up to 200 bytes: the short bad row is found there, the long one (quoted cut short) by
    loading halves of the batch under new labels."""
    for name, extra in [("V1", {"sink.version": "V1"}), ("transactions", {}),
                        ("exactly-once", {"sink.semantic": "exactly-once", "bufferflush.intervalms": "1000"})]:
        for tolerance in ["all", "none"]:
            for length in [100, 300]:
                rejection_run(name, extra, tolerance, length)
    rejection_run("transactions", {}, "all", 100, csv=True)
    rejection_run("V1", {"sink.version": "V1"}, "all", 300, csv=True)


if __name__ == "__main__":
    run_tests([test_deeply_nested_record_fails_the_task_not_the_process, test_topics_regex_is_a_full_match,
               test_rows_starrocks_rejects_do_not_stop_good_rows, test_librdkafka_lines_go_through_the_logger,
               test_wrong_files_names_and_options_are_refused, test_silent_fe_is_skipped_and_never_blocks_shutdown,
               test_restart_after_sigkill_resumes_within_seconds, test_rest_port_cannot_be_exhausted,
               test_rest_writes_wait_for_start_up_and_never_hold_the_readers, test_starrocks_down_at_start_is_waited_for])
