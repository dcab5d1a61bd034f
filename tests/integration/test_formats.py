"""Formats end to end through starpipe: CSV with StringConverter and sink.properties headers,
JsonConverter envelopes (schemas.enable=true), and rows carrying __op into a Primary Key table."""
import json

from harness import Kafka, StarRocks, Starpipe, check, run_tests, wait_until

SQL = """
CREATE DATABASE d;
CREATE TABLE d.csv_rows (id INT NOT NULL, city VARCHAR(32), score DOUBLE) DUPLICATE KEY(id);
CREATE TABLE d.customers (id INT NOT NULL, email VARCHAR(64)) PRIMARY KEY(id);
CREATE TABLE d.typed (id INT NOT NULL, price DECIMAL(10,2), day DATE, at DATETIME) DUPLICATE KEY(id);
"""


def test_csv_with_string_converter():
    kafka = Kafka({"csv": 1})
    sr = StarRocks(SQL)
    kafka.produce("csv", ["1|New York|1.5", "2|Los Angeles|\\N", "3|Chicago|3"])
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "csv", "starrocks.database.name": "d",
                               "starrocks.topic2table.map": "csv:csv_rows",
                               "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                               "sink.properties.format": "csv", "sink.properties.column_separator": "|"}]).start()
    wait_until(lambda: len(sr.rows("d", "csv_rows")) == 3, 30, "the CSV rows")
    check(sr.rows("d", "csv_rows") == [["1", "New York", "1.5"], ["2", "Los Angeles", None], ["3", "Chicago", "3"]],
          sr.rows("d", "csv_rows"))
    check(sp.stop() == 0, "exit 0")


def test_upserts_and_deletes_through_op():
    kafka = Kafka({"customers": 1})
    sr = StarRocks(SQL)
    kafka.produce("customers", [json.dumps(r) for r in [
        {"id": 1, "email": "a@a.com", "__op": 0}, {"id": 2, "email": "b@b.com", "__op": 0}]])
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "customers", "starrocks.database.name": "d"}]).start()
    wait_until(lambda: len(sr.rows("d", "customers")) == 2, 30, "two customers")
    kafka.produce("customers", [json.dumps(r) for r in [
        {"id": 1, "email": "c@c.com", "__op": 0}, {"id": 2, "email": "c@c.com", "__op": 0}, {"id": 1, "__op": 1}]])
    wait_until(lambda: sr.rows("d", "customers") == [["2", "c@c.com"]], 30, "the update and the delete applied")
    check(sp.stop() == 0, "exit 0")


def test_json_converter_envelopes_with_logical_types():
    kafka = Kafka({"typed": 1})
    sr = StarRocks(SQL)
    schema = {"type": "struct", "name": "typed", "optional": False, "fields": [
        {"type": "int32", "optional": False, "field": "id"},
        {"type": "bytes", "optional": True, "name": "org.apache.kafka.connect.data.Decimal",
         "parameters": {"scale": "2"}, "field": "price"},
        {"type": "int32", "optional": True, "name": "org.apache.kafka.connect.data.Date", "field": "day"},
        {"type": "int64", "optional": True, "name": "org.apache.kafka.connect.data.Timestamp", "field": "at"}]}
    # 12345 with scale 2 is "MDk=" in base64; day 19000 = 2022-01-08
    kafka.produce("typed", [json.dumps({"schema": schema, "payload": {"id": 1, "price": "MDk=", "day": 19000,
                                                                      "at": 1700000000123}})])
    sp = Starpipe(kafka, sr, [{"name": "c", "topics": "typed", "starrocks.database.name": "d",
                               "value.converter.schemas.enable": "true"}]).start()
    wait_until(lambda: len(sr.rows("d", "typed")) == 1, 30, "the typed row")
    check(sr.rows("d", "typed") == [["1", "123.45", "2022-01-08", "2023-11-14 22:13:20.123"]], sr.rows("d", "typed"))
    check(sp.stop() == 0, "exit 0")


if __name__ == "__main__":
    run_tests([test_csv_with_string_converter, test_upserts_and_deletes_through_op,
               test_json_converter_envelopes_with_logical_types])
