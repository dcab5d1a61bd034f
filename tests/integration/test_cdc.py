"""The StarRocks documentation's CDC best practice, replayed: PostgreSQL -> Debezium -> Kafka ->
starpipe with the guide's sink configuration (transforms addfield,unwrap) -> a Primary Key
`customers` table. Insert 1, insert 2, update both emails, delete 1: the table after each step
equals the guide's. Run with schemas on, with schemas off (the guide's worker file), and with
tombstones kept."""
import json
import os
import subprocess
import tempfile

from harness import BIN, Kafka, StarRocks, _procs, check, free_port, run_tests, wait_until

TOPIC = "test.public.customers"
SQL = """
CREATE DATABASE test;
USE test;
CREATE TABLE `customers` (
  `id` int(11) COMMENT "",
  `first_name` varchar(65533) NULL COMMENT "",
  `last_name` varchar(65533) NULL COMMENT "",
  `email` varchar(65533) NULL COMMENT ""
) ENGINE=OLAP
PRIMARY KEY(`id`)
DISTRIBUTED BY hash(id) buckets 1
PROPERTIES (
"bucket_size" = "4294967296",
"in_memory" = "false",
"enable_persistent_index" = "true",
"replicated_storage" = "true",
"fast_schema_evolution" = "true"
);
"""

ROW_FIELDS = [{"type": "int32", "optional": False, "field": "id"},
              {"type": "string", "optional": True, "field": "first_name"},
              {"type": "string", "optional": True, "field": "last_name"},
              {"type": "string", "optional": True, "field": "email"}]
# The envelope schema of the guide's message (step 4 of the best practice).
SCHEMA = {"type": "struct", "fields": [
    {"type": "struct", "fields": ROW_FIELDS, "optional": True, "name": "test.public.customers.Value", "field": "before"},
    {"type": "struct", "fields": ROW_FIELDS, "optional": True, "name": "test.public.customers.Value", "field": "after"},
    {"type": "struct", "fields": [
        {"type": "string", "optional": False, "field": "version"},
        {"type": "string", "optional": False, "field": "connector"},
        {"type": "string", "optional": False, "field": "name"},
        {"type": "int64", "optional": False, "field": "ts_ms"},
        {"type": "string", "optional": True, "name": "io.debezium.data.Enum", "version": 1,
         "parameters": {"allowed": "true,last,false,incremental"}, "default": "false", "field": "snapshot"},
        {"type": "string", "optional": False, "field": "db"},
        {"type": "string", "optional": True, "field": "sequence"},
        {"type": "string", "optional": False, "field": "schema"},
        {"type": "string", "optional": False, "field": "table"},
        {"type": "int64", "optional": True, "field": "txId"},
        {"type": "int64", "optional": True, "field": "lsn"},
        {"type": "int64", "optional": True, "field": "xmin"}],
     "optional": False, "name": "io.debezium.connector.postgresql.Source", "field": "source"},
    {"type": "string", "optional": False, "field": "op"},
    {"type": "int64", "optional": True, "field": "ts_ms"},
    {"type": "struct", "fields": [
        {"type": "string", "optional": False, "field": "id"},
        {"type": "int64", "optional": False, "field": "total_order"},
        {"type": "int64", "optional": False, "field": "data_collection_order"}],
     "optional": True, "name": "event.block", "version": 1, "field": "transaction"}],
    "optional": False, "name": "test.public.customers.Envelope", "version": 1}
KEY_SCHEMA = {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "id"}], "optional": False,
              "name": "test.public.customers.Key"}

_lsn = [22910504]


def event(op, before, after):
    _lsn[0] += 100
    payload = {"before": before, "after": after,
               "source": {"version": "2.5.3.Final", "connector": "postgresql", "name": "test", "ts_ms": 1714283798721,
                          "snapshot": "false", "db": "postgres", "sequence": "[\"22910216\",\"22910504\"]",
                          "schema": "public", "table": "customers", "txId": 756, "lsn": _lsn[0], "xmin": None},
               "op": op, "ts_ms": 1714283798790, "transaction": None}
    return payload


def row(i, first, last, email):
    return {"id": i, "first_name": first, "last_name": last, "email": email}


def produce(kafka, schemas, key_id, payload):
    # The guide's worker keeps key.converter.schemas.enable=true: keys are always envelopes.
    key = {"schema": KEY_SCHEMA, "payload": {"id": key_id}}
    if schemas:
        value = {"schema": SCHEMA, "payload": payload} if payload is not None else None
    else:
        value = payload
    if value is None:
        kafka.produce_tombstone(TOPIC, json.dumps(key, separators=(",", ":")))
    else:
        kafka.produce(TOPIC, [json.dumps(value, separators=(",", ":"))], partition=0,
                      keys=[json.dumps(key, separators=(",", ":"))])


def table(sr):
    return sorted(sr.rows("test", "customers"))


def run_scenario(schemas, drop_tombstones="true", ignore_deletes=False):
    kafka = Kafka({TOPIC: 1})
    sr = StarRocks(SQL, user="root", password="StarRocks@123")
    d = tempfile.mkdtemp()
    # The guide's worker file: JsonConverter, key schemas on, value schemas off.
    with open(os.path.join(d, "connect-standalone.properties"), "w") as f:
        f.write(f"bootstrap.servers={kafka.bootstrap}\noffset.storage.file.filename=/tmp/connect.offsets\n"
                "key.converter=org.apache.kafka.connect.json.JsonConverter\n"
                "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
                "key.converter.schemas.enable=true\n"
                f"value.converter.schemas.enable={'true' if schemas else 'false'}\n"
                "plugin.path=/path/to/kafka_2.13-3.7.0/plugins\noffset.flush.interval.ms=10000\n"
                f"listeners=http://127.0.0.1:{free_port()}\n")
    # The guide's sr-sink.properties (JSON content), with this machine's FE address.
    sink = {"name": "starrocks-kafka-connector", "config": {
        "connector.class": "com.starrocks.connector.kafka.StarRocksSinkConnector",
        "tasks.max": "1",
        "topics": "test.public.customers",
        "starrocks.http.url": f"127.0.0.1:{sr.fe_port}",
        "starrocks.database.name": "test",
        "starrocks.username": "root",
        "starrocks.password": "StarRocks@123",
        "sink.properties.strip_outer_array": "true",
        "connect.timeoutms": "3000",
        "starrocks.topic2table.map": "test.public.customers:customers",
        "transforms": "addfield,unwrap",
        "transforms.addfield.type": "com.starrocks.connector.kafka.transforms.AddOpFieldForDebeziumRecord",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.drop.tombstones": drop_tombstones,
        "transforms.unwrap.delete.handling.mode": "rewrite"}}
    if ignore_deletes:
        sink["config"]["sink.ignore.deletes"] = "true"
    with open(os.path.join(d, "sr-sink.properties"), "w") as f:
        json.dump(sink, f, indent=4)
    log_path = os.path.join(d, "starpipe.log")
    p = subprocess.Popen([BIN["starpipe"], "standalone", os.path.join(d, "connect-standalone.properties"),
                          os.path.join(d, "sr-sink.properties")], stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    _procs.append(p)

    produce(kafka, schemas, 1, event("c", None, row(1, "a", "a", "a@a.com")))
    wait_until(lambda: table(sr) == [["1", "a", "a", "a@a.com"]], 30, "row 1")
    # INSERT
    produce(kafka, schemas, 2, event("c", None, row(2, "b", "b", "b@b.com")))
    wait_until(lambda: table(sr) == [["1", "a", "a", "a@a.com"], ["2", "b", "b", "b@b.com"]], 30,
               "the guide's table after INSERT")
    # UPDATE customers SET email='c@c.com' (REPLICA IDENTITY DEFAULT: no before image)
    produce(kafka, schemas, 1, event("u", None, row(1, "a", "a", "c@c.com")))
    produce(kafka, schemas, 2, event("u", None, row(2, "b", "b", "c@c.com")))
    wait_until(lambda: table(sr) == [["1", "a", "a", "c@c.com"], ["2", "b", "b", "c@c.com"]], 30,
               "the guide's table after UPDATE")
    # DELETE FROM customers WHERE id=1, then Debezium's tombstone for the key
    produce(kafka, schemas, 1, event("d", row(1, None, None, None), None))
    produce(kafka, schemas, 1, None)
    if ignore_deletes:  # history is kept: the delete is consumed and committed, row 1 stays
        wait_until(lambda: kafka.committed("connect-starrocks-kafka-connector", TOPIC, 1) == {0: 6}, 30,
                   "the delete consumed")
        check(table(sr) == [["1", "a", "a", "c@c.com"], ["2", "b", "b", "c@c.com"]], f"history kept: {table(sr)}")
    else:
        wait_until(lambda: table(sr) == [["2", "b", "b", "c@c.com"]], 30, "the guide's table after DELETE")
    print("  " + sr.text("test", "customers").replace("\n", "\n  ").rstrip())
    p.send_signal(15)
    check(p.wait(60) == 0, "exit 0")
    committed = kafka.committed("connect-starrocks-kafka-connector", TOPIC, 1)
    check(committed == {0: 6}, f"every event committed, tombstone included: {committed}")
    logs = open(log_path).read()
    check("StarRocks@123" not in logs, "no password in the log")


def test_guide_scenario_with_schemas():
    run_scenario(schemas=True)


def test_guide_scenario_with_schemas_off():
    run_scenario(schemas=False)


def test_guide_scenario_keeping_tombstones():
    run_scenario(schemas=True, drop_tombstones="false")


def test_guide_scenario_ignoring_deletes():
    run_scenario(schemas=True, ignore_deletes=True)


if __name__ == "__main__":
    run_tests([test_guide_scenario_with_schemas, test_guide_scenario_with_schemas_off,
               test_guide_scenario_keeping_tombstones, test_guide_scenario_ignoring_deletes])
