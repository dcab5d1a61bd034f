"""Process harness for starpipe's integration tests.

Each test starts its own kafka-mock (librdkafka's mock cluster, a real Kafka protocol
broker on 127.0.0.1), its own starrocks-emulator and starpipe, talks to them with
independent clients (kcat, kafka-python, HTTP), and stops everything it started, in
bounded time, even when it fails.
"""
import atexit
import json
import re
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BUILD = os.environ.get("STARPIPE_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
BIN = {name: os.path.abspath(os.path.join(BUILD, name)) for name in ("starpipe", "starrocks-emulator", "kafka-mock")}

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = cond()
        except OSError as e:  # a server still starting up
            last = e
        if last and not isinstance(last, OSError):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Kafka:
    def __init__(self, topics):
        args = [BIN["kafka-mock"]]
        for name, parts in topics.items():
            args += ["--topic", f"{name}:{parts}"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        _procs.append(self.proc)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("bootstrap.servers="), line
        self.bootstrap = line.split("=", 1)[1]

    def produce(self, topic, values, partition=None, keys=None):
        """Produces with kcat, an independent Kafka client; one value per line."""
        args = ["kcat", "-P", "-b", self.bootstrap, "-t", topic, "-X", "linger.ms=5"]
        if partition is not None:
            args += ["-p", str(partition)]
        if keys is not None:
            args += ["-K", "\t"]
            payload = "".join(f"{k}\t{v}\n" for k, v in zip(keys, values))
        else:
            payload = "".join(v + "\n" for v in values)
        subprocess.run(args, input=payload, text=True, check=True, timeout=60)

    def produce_tombstone(self, topic, key, partition=0):
        subprocess.run(["kcat", "-P", "-b", self.bootstrap, "-t", topic, "-p", str(partition), "-Z", "-K", "\t"],
                       input=f"{key}\t\n", text=True, check=True, timeout=30)

    def committed(self, group, topic, partitions):
        """Committed offsets of a consumer group, read with kafka-python."""
        from kafka import KafkaConsumer, TopicPartition
        c = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group, enable_auto_commit=False,
                          api_version=(2, 5, 0))
        try:
            return {p: c.committed(TopicPartition(topic, p)) for p in range(partitions)}
        finally:
            c.close()

    def end_offsets(self, topic, partitions):
        from kafka import KafkaConsumer, TopicPartition
        c = KafkaConsumer(bootstrap_servers=self.bootstrap, api_version=(2, 5, 0))
        try:
            tps = [TopicPartition(topic, p) for p in range(partitions)]
            return {tp.partition: off for tp, off in c.end_offsets(tps).items()}
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Producer(threading.Thread):
    """Produces rows {"id", "p", "note"} with ids 0..total-1 over `partitions` partitions of
    `topic`, `per_round` at a time with a pause between rounds, while the test does other things."""

    def __init__(self, kafka, topic, partitions, total, per_round=1000, pause=0.2, note=""):
        super().__init__(daemon=True)
        self.kafka, self.topic, self.partitions, self.total = kafka, topic, partitions, total
        self.per_round, self.pause, self.note = per_round, pause, note
        self.error = None

    def run(self):
        try:
            next_id = 0
            while next_id < self.total:
                for p in range(self.partitions):
                    n = min(self.per_round // self.partitions, self.total - next_id)
                    if n <= 0:
                        break
                    vals = [json.dumps({"id": i, "p": p, "note": self.note}) for i in range(next_id, next_id + n)]
                    self.kafka.produce(self.topic, vals, partition=p)
                    next_id += n
                time.sleep(self.pause)
        except Exception as e:  # noqa: BLE001
            self.error = e


def writer_slot(worker_id, task=None, token=""):
    """starpipe's exactly-once writer slot (checkpoint_record.cpp): w<FNV-1a of the worker id>,
    then t<task> and r<token> when given."""
    h = 2166136261
    for c in worker_id.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    slot = f"w{h:08x}"
    if task is not None:
        slot += f"t{task}"
    return slot + (f"r{token}" if token else "")


class StarRocks:
    def __init__(self, sql, user="root", password="", no_store=False, transaction_api=True, fe_port=None):
        self.fe_port, self.be_port = fe_port or free_port(), free_port()
        self.dir = tempfile.mkdtemp(prefix="sr-emu-")
        sql_file = os.path.join(self.dir, "schema.sql")
        with open(sql_file, "w") as f:
            f.write(sql)
        args = [BIN["starrocks-emulator"], "--fe-port", str(self.fe_port), "--be-port", str(self.be_port),
                "--user", user, "--password", password, "--sql", sql_file]
        if no_store:
            args.append("--no-store")
        if not transaction_api:
            args.append("--no-transaction-api")  # as StarRocks before 2.4
        self.log = open(os.path.join(self.dir, "emulator.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        _procs.append(self.proc)
        wait_until(self._up, 10, "the emulator to listen")

    def _up(self):
        try:
            self.stats()
            return True
        except OSError:
            return False

    def url(self, path):
        return f"http://127.0.0.1:{self.fe_port}{path}"

    def _get(self, path):
        with urllib.request.urlopen(self.url(path), timeout=10) as r:
            return r.read().decode()

    def _post(self, path, body):
        req = urllib.request.Request(self.url(path), data=body.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    def stats(self):
        return json.loads(self._get("/_emulator/stats"))

    def rows(self, db, table):
        return json.loads(self._get(f"/_emulator/tables/{db}/{table}"))["rows"]

    def labels(self, db):
        """Every label of the database with its transaction state."""
        return json.loads(self._get(f"/_emulator/labels/{db}"))

    def text(self, db, table):
        return self._get(f"/_emulator/tables/{db}/{table}?format=text")

    def fault(self, kind, count=1, **extra):
        self._post("/_emulator/faults", json.dumps({"kind": kind, "count": count, **extra}))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class _StarpipeProcess:
    """A starpipe process logging to self.log_path; subclasses say how it is started."""

    def _write_worker_file(self, kafka, prefix, port, extra):
        """The worker keys every test shares, then `extra` (a later key wins)."""
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.rest_port = port or free_port()
        self.worker = os.path.join(self.dir, "worker.properties")
        with open(self.worker, "w") as f:
            f.write(f"bootstrap.servers={kafka.bootstrap}\n"
                    "key.converter=org.apache.kafka.connect.storage.StringConverter\n"
                    "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
                    "value.converter.schemas.enable=false\n"
                    "offset.flush.interval.ms=1000\n"
                    # The mock cluster sometimes holds a JoinGroup of two members joining at
                    # once for a whole session timeout (librdkafka's default: 45 s).
                    "consumer.session.timeout.ms=6000\n"
                    "consumer.heartbeat.interval.ms=1000\n"
                    f"listeners=http://127.0.0.1:{self.rest_port}\n" + extra)

    def _launch(self, *args):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([BIN["starpipe"], "--log-level", self.log_level, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        _procs.append(self.proc)

    def request(self, path, method="GET", body=None, user=None, cacert=None):
        """curl, an independent client; returns (status, parsed JSON or text or None, headers)."""
        scheme = "https" if cacert else "http"
        args = ["curl", "-s", "-D", "-", "-X", method, f"{scheme}://127.0.0.1:{self.rest_port}{path}"]
        if cacert:
            args += ["--cacert", cacert]
        if user:
            args += ["-u", user]
        data = None
        if body is not None:
            args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
            data = body if isinstance(body, str) else json.dumps(body)
        out = subprocess.run(args, input=data, capture_output=True, text=True, timeout=60)
        # text mode has turned the CRLFs into LFs
        head, _, text = out.stdout.partition("\n\n")
        lines = head.split("\n")
        if not lines or not lines[0].startswith("HTTP/"):
            raise OSError(f"no HTTP answer from {path}: {out.stdout!r} {out.stderr!r}")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, parsed, headers

    def metric(self, name, **labels):
        """The sum of the /metrics series `name` whose labels include `labels`; 0 when the
        process does not answer (not started yet, or gone)."""
        try:
            code, text, _ = self.request("/metrics")
        except OSError:
            return 0
        if code != 200 or not isinstance(text, str):
            return 0
        total = 0
        for line in text.splitlines():
            m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (-?[0-9.e+]+)$", line)
            if not m or m.group(1) != name:
                continue
            have = dict(re.findall(r'([a-z_]+)="([^"]*)"', m.group(2) or ""))
            if all(have.get(k) == str(v) for k, v in labels.items()):
                total += float(m.group(3))
        return total

    def task_state(self, connector="c", task=0):
        """The task's entry of GET /connectors/{connector}/status, or None while there is none."""
        try:
            code, body, _ = self.request(f"/connectors/{connector}/status")
        except OSError:
            return None
        tasks = body.get("tasks") if code == 200 and isinstance(body, dict) else None
        return next((t for t in tasks if t.get("id") == task), None) if tasks else None

    def wait_for_task_state(self, state, timeout, what, connector="c"):
        """Waits until the task reports `state` over REST; returns its status entry."""
        return wait_until(lambda: (t := self.task_state(connector)) and t["state"] == state and t, timeout, what)

    def stop(self, timeout=90):
        """SIGTERM and wait; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def logs(self):
        with open(self.log_path) as f:
            return f.read()


class Starpipe(_StarpipeProcess):
    def __init__(self, kafka, starrocks, connectors, worker_extra="", log_level="info"):
        """connectors: list of dicts of connector keys; the FE address and Kafka are filled in."""
        self._write_worker_file(kafka, "starpipe-", None, worker_extra)
        self.files = []
        for i, c in enumerate(connectors):
            path = os.path.join(self.dir, f"connector{i}.properties")
            keys = {"connector.class": "com.starrocks.connector.kafka.StarRocksSinkConnector",
                    "starrocks.http.url": f"127.0.0.1:{starrocks.fe_port}",
                    "starrocks.username": "root", "starrocks.password": "", **c}
            with open(path, "w") as f:
                f.write("".join(f"{k}={v}\n" for k, v in keys.items()))
            self.files.append(path)
        self.log_path = os.path.join(self.dir, "starpipe.log")
        self.log_level = log_level
        self.proc = None

    def start(self):
        self._launch("standalone", self.worker, *self.files)
        return self


class Worker(_StarpipeProcess):
    """`starpipe distributed`: one worker of a cluster named by group.id, configured over REST."""

    def __init__(self, kafka, group="connect-cluster", worker_extra="", log_level="info", port=None):
        self._write_worker_file(kafka, "starpipe-worker-", port,
                                f"group.id={group}\n"
                                f"config.storage.topic={group}-configs\n"
                                f"status.storage.topic={group}-status\n"
                                f"offset.storage.topic={group}-offsets\n"
                                "config.storage.replication.factor=1\n"
                                "status.storage.replication.factor=1\n"
                                "offset.storage.replication.factor=1\n" + worker_extra)
        self.log_path = os.path.join(self.dir, "starpipe.log")
        self.log_level = log_level
        self.proc = None

    @property
    def worker_id(self):
        return f"127.0.0.1:{self.rest_port}"

    def start(self, wait=True):
        joined = self.logs().count("joined cluster") if os.path.exists(self.log_path) else 0
        self._launch("distributed", self.worker)
        if wait:
            wait_until(lambda: self.logs().count("joined cluster") > joined or self.proc.poll() is not None, 60,
                       "the worker to join")
            check(self.proc.poll() is None, "worker exited at start:\n" + self.logs())
        return self

def check(cond, message):
    if not cond:
        raise AssertionError(message)


def run_tests(tests):
    """Runs each test function, prints a summary line the CI reads, exits non-zero on failure."""
    passed = failed = 0
    for t in tests:
        start = time.time()
        try:
            t()
            passed += 1
            print(f"PASS {t.__name__} ({time.time() - start:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAIL {t.__name__}: {e}", flush=True)
            import traceback
            traceback.print_exc()
        finally:
            _cleanup()
            _procs.clear()
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
