"""The StarRocks emulator against docs/reference/starrocks-protocol.md, driven by curl (an independent
HTTP client), so that a lenient emulator cannot hide client bugs."""
import json
import subprocess

from harness import StarRocks, check, run_tests

SQL = """
CREATE DATABASE d;
CREATE TABLE d.dup (id INT NOT NULL, name VARCHAR(5), price DECIMAL(5,2), day DATE, at DATETIME) DUPLICATE KEY(id);
CREATE TABLE d.pk (id INT NOT NULL, v STRING) PRIMARY KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1;
"""


def curl(args, data=None):
    out = subprocess.run(["curl", "-s", "-i", *args], input=data, capture_output=True, text=True, timeout=30)
    head, _, body = out.stdout.replace("\r\n", "\n").partition("\n\n")
    # curl prints interim (100) and followed (307) answers before the final one
    while (head.startswith("HTTP/1.1 100") or head.startswith("HTTP/1.1 307")) and body.startswith("HTTP/"):
        head, _, body = body.partition("\n\n")
    status = int(head.split()[1]) if head else 0
    return status, head, body


def load(sr, table, body, headers=(), user="root:", label=None, expect=True):
    args = ["--location-trusted", "-u", user, "-X", "PUT", "--data-binary", "@-"]
    if expect:
        args += ["-H", "Expect: 100-continue"]
    for h in headers:
        args += ["-H", h]
    if label:
        args += ["-H", f"label: {label}"]
    status, head, text = curl(args + [sr.url(f"/api/d/{table}/_stream_load")], body)
    return status, head, (json.loads(text) if text.strip().startswith("{") else text)


def test_fe_redirects_with_checks():
    sr = StarRocks(SQL)
    # FE: 307 to the BE without reading the body, connection closed
    status, head, _ = curl(["-X", "PUT", "-u", "root:", "-H", "Expect: 100-continue", "--data-binary", "x",
                            sr.url("/api/d/dup/_stream_load")])
    check(status == 307, f"307 expected, got {status}")
    check(f"Location: http://127.0.0.1:{sr.be_port}/api/d/dup/_stream_load" in head, head)
    check("Connection: close" in head or "connection: close" in head.lower(), head)
    # no Expect header
    status, _, body = load(sr, "dup", "1\ta\n", expect=False)
    check(status == 200 and body["Status"] == "FAILED" and "There is no 100-continue header" in body["Message"], body)
    # bad password: 401 from the FE with a Basic challenge
    status, head, _ = load(sr, "dup", "1\ta\n", user="root:wrong")
    check(status == 401 and 'WWW-Authenticate: Basic realm=""' in head, head)


def test_be_validates_before_100_continue():
    sr = StarRocks(SQL)
    _, _, body = load(sr, "missing", "1\n")
    check(body["Status"] == "Fail" and body["TxnId"] == -1 and "unknown table" in body["Message"], body)
    _, _, body = load(sr, "dup", "1\n", ["format: xml"])
    check(body["Status"] == "Fail" and body["Message"] == "unknown data format, format=xml", body)
    _, _, body = load(sr, "dup", "1\n", ["strict_mode: yes"])
    check(body["Message"] == "Invalid strict mode format. Must be bool type", body)
    _, _, body = load(sr, "dup", "1\n", ["timeout: 0"])
    check(body["Message"] == "Invalid timeout format", body)
    _, _, body = load(sr, "dup", "1\n", ["columns: id,nope"])
    check(body["Message"] == "Mapping column is not in table. column: nope", body)
    _, _, body = load(sr, "dup", "1\n", ["partial_update: true"])
    check(body["Message"] == "Only primary key table support partial update", body)


def test_csv_json_types_and_filtering():
    sr = StarRocks(SQL)
    _, _, body = load(sr, "dup", "1\tabc\t1.5\t2024-02-29\t2024-01-02 03:04:05\n2\t\\N\t\\N\t\\N\t\\N\n", label="csv1")
    check(body["Status"] == "Success" and body["NumberLoadedRows"] == 2 and body["Label"] == "csv1", body)
    check(list(body)[:4] == ["TxnId", "Label", "Status", "Message"], f"key order {list(body)}")
    rows = sr.rows("d", "dup")
    check(rows == [["1", "abc", "1.50", "2024-02-29", "2024-01-02 03:04:05"], ["2", None, None, None, None]], rows)
    # a too-long string is filtered; ratio 0 -> the whole load fails, nothing is applied
    _, _, body = load(sr, "dup", '[{"id":3,"name":"toolong"},{"id":4,"name":"ok"}]',
                      ["format: json", "strip_outer_array: true"])
    check(body["Status"] == "Fail" and body["Message"] == "too many filtered rows", body)
    check(body["NumberFilteredRows"] == 1 and "ErrorURL" in body, body)
    status, _, log = curl([body["ErrorURL"]])
    check(status == 200 and "exceeds 5 bytes" in log, log)
    check(len(sr.rows("d", "dup")) == 2, "a failed load applies nothing")
    # within max_filter_ratio it loads the good row
    _, _, body = load(sr, "dup", '[{"id":3,"name":"toolong"},{"id":4,"name":"ok"}]',
                      ["format: json", "strip_outer_array: true", "max_filter_ratio: 0.5"])
    check(body["Status"] == "Success" and body["NumberLoadedRows"] == 1 and body["NumberFilteredRows"] == 1, body)
    # non-strict: a bad value becomes NULL; strict: the row is filtered
    _, _, body = load(sr, "dup", '{"id":5,"price":"abc"}', ["format: json"])
    check(body["Status"] == "Success" and sr.rows("d", "dup")[-1][2] is None, body)
    _, _, body = load(sr, "dup", '{"id":6,"price":"abc"}', ["format: json", "strict_mode: true"])
    check(body["Status"] == "Fail" and body["NumberFilteredRows"] == 1, body)
    # JSON array without strip_outer_array, and a body that is not JSON
    _, _, body = load(sr, "dup", '[{"id":7}]', ["format: json"])
    check(body["Status"] == "Fail", body)
    _, _, body = load(sr, "dup", 'x', ["format: json"])
    check(body["Message"] == "illegal json started with x", body)


def test_labels_and_load_state():
    sr = StarRocks(SQL)
    _, _, body = load(sr, "dup", "1\ta\t1\t2024-01-01\t2024-01-01\n", label="L1")
    check(body["Status"] == "Success", body)
    _, _, body = load(sr, "dup", "1\ta\t1\t2024-01-01\t2024-01-01\n", label="L1")
    check(body["Status"] == "Label Already Exists" and body["ExistingJobStatus"] == "FINISHED", body)
    check(len(sr.rows("d", "dup")) == 1, "the repeated label loaded nothing")
    status, _, text = curl(["-u", "root:", sr.url("/api/d/get_load_state?label=L1")])
    check(json.loads(text)["state"] == "VISIBLE", text)
    status, _, text = curl(["-u", "root:", sr.url("/api/d/get_load_state?label=never")])
    check(json.loads(text)["state"] == "UNKNOWN", text)
    # an aborted label may be used again
    _, _, body = load(sr, "dup", "bad-row\n", label="L2")
    check(body["Status"] == "Fail", body)
    _, _, text = curl(["-u", "root:", sr.url("/api/d/get_load_state?label=L2")])
    check(json.loads(text)["state"] == "ABORTED", text)
    _, _, body = load(sr, "dup", "2\tb\t1\t2024-01-01\t2024-01-01\n", label="L2")
    check(body["Status"] == "Success", body)


def test_primary_key_upsert_and_delete():
    sr = StarRocks(SQL)
    load(sr, "pk", '[{"id":1,"v":"a"},{"id":2,"v":"b"}]', ["format: json", "strip_outer_array: true"])
    load(sr, "pk", '[{"id":1,"v":"c"},{"id":2,"__op":1}]', ["format: json", "strip_outer_array: true"])
    check(sr.rows("d", "pk") == [["1", "c"]], sr.rows("d", "pk"))
    load(sr, "pk", "3,x,0\n1,y,1\n", ["column_separator: ,", "columns: id,v,__op"])
    check(sr.rows("d", "pk") == [["3", "x"]], sr.rows("d", "pk"))


if __name__ == "__main__":
    run_tests([test_fe_redirects_with_checks, test_be_validates_before_100_continue, test_csv_json_types_and_filtering,
               test_labels_and_load_state, test_primary_key_upsert_and_delete])
