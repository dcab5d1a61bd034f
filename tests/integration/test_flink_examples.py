"""The StarRocks Flink connector documentation's "Best practices" examples, with Kafka as the
source and the documented options: partial update and conditional update of score_board,
BITMAP (page_uv, to_bitmap) and HLL (hll_uv, hll_hash) columns of aggregate tables. Each
emulator table is compared with the result the documentation shows."""
import json
import subprocess

from harness import Kafka, StarRocks, Starpipe, check, run_tests, wait_until

SCORE_BOARD = """CREATE DATABASE test;
CREATE TABLE `test`.`score_board`
(
    `id` int(11) NOT NULL COMMENT "",
    `name` varchar(65533) NULL DEFAULT "" COMMENT "",
    `score` int(11) NOT NULL DEFAULT "0" COMMENT ""
)
ENGINE=OLAP
PRIMARY KEY(`id`)
COMMENT "OLAP"
DISTRIBUTED BY HASH(`id`);
"""

PAGE_UV = """CREATE DATABASE test;
CREATE TABLE `test`.`page_uv` (
  `page_id` INT NOT NULL COMMENT 'page ID',
  `visit_date` datetime NOT NULL COMMENT 'access time',
  `visit_users` BITMAP BITMAP_UNION NOT NULL COMMENT 'user ID'
) ENGINE=OLAP
AGGREGATE KEY(`page_id`, `visit_date`)
DISTRIBUTED BY HASH(`page_id`);
"""

HLL_UV = """CREATE DATABASE test;
CREATE TABLE `test`.`hll_uv` (
  `page_id` INT NOT NULL COMMENT 'page ID',
  `visit_date` datetime NOT NULL COMMENT 'access time',
  `visit_users` HLL HLL_UNION NOT NULL COMMENT 'user ID'
) ENGINE=OLAP
AGGREGATE KEY(`page_id`, `visit_date`)
DISTRIBUTED BY HASH(`page_id`);
"""


def seed(sr, table, rows):
    """The documentation's `INSERT INTO score_board VALUES (1, 'starrocks', 100), (2, 'flink', 100)`,
    as a Stream Load with curl."""
    out = subprocess.run(["curl", "-s", "--location-trusted", "-u", "root:", "-H", "Expect: 100-continue",
                          "-H", "format: json", "-H", "strip_outer_array: true", "-T", "-",
                          sr.url(f"/api/test/{table}/_stream_load")],
                         input=json.dumps(rows), capture_output=True, text=True, timeout=30)
    check(json.loads(out.stdout)["Status"] == "Success", out.stdout)


def run_connector(sr, topic, table, values, options, expect):
    kafka = Kafka({topic: 1})
    kafka.produce(topic, [json.dumps(v) for v in values], partition=0)
    sp = Starpipe(kafka, sr, [{"name": table, "topics": topic, "starrocks.topic2table.map": f"{topic}:{table}",
                               "starrocks.database.name": "test", **options}]).start()
    try:
        return wait_until(lambda: expect(sr.rows("test", table)), 60, f"{table} as documented")
    finally:
        check(sp.stop() == 0, "clean stop")


def table_of(rows):
    return sorted(tuple(None if v is None else str(v) for v in r) for r in rows)


def test_partial_update_score_board():
    for semantic in ("at-least-once", "exactly-once"):
        sr = StarRocks(SCORE_BOARD)
        seed(sr, "score_board", [{"id": 1, "name": "starrocks", "score": 100}, {"id": 2, "name": "flink", "score": 100}])
        documented = [("1", "starrocks-update", "100"), ("2", "flink-update", "100")]
        run_connector(sr, "score", "score_board",
                      [{"id": 1, "name": "starrocks-update"}, {"id": 2, "name": "flink-update"}],
                      {"sink.properties.partial_update": "true", "sink.properties.columns": "id,name,__op",
                       "sink.semantic": semantic},
                      lambda rows: table_of(rows) == documented)
        print(sr.text("test", "score_board"), end="")
        sr.stop()


def test_conditional_update_score_board():
    sr = StarRocks(SCORE_BOARD)
    seed(sr, "score_board", [{"id": 1, "name": "starrocks", "score": 100}, {"id": 2, "name": "flink", "score": 100}])
    documented = [("1", "starrocks", "100"), ("2", "flink-update", "101")]
    run_connector(sr, "score", "score_board",
                  [{"id": 1, "name": "starrocks-update", "score": 99}, {"id": 2, "name": "flink-update", "score": 101}],
                  {"sink.properties.merge_condition": "score", "sink.version": "V1"},
                  lambda rows: table_of(rows) == documented)
    print(sr.text("test", "score_board"), end="")


def uv(rows):
    """SELECT page_id, COUNT(DISTINCT visit_users) ... GROUP BY page_id, over the stored sets."""
    by_page = {}
    for page, _date, members in rows:
        by_page.setdefault(str(page), set()).update(m for m in (members or "").split(",") if m)
    return {p: len(m) for p, m in by_page.items()}


def visits(rows):
    return [{"page_id": p, "visit_date": d, "visit_user_id": u} for p, d, u in rows]


def test_bitmap_page_uv():
    sr = StarRocks(PAGE_UV)
    run_connector(sr, "page_visits", "page_uv",
                  visits([(1, "2020-06-23 01:30:30", 13), (1, "2020-06-23 01:30:30", 23), (1, "2020-06-23 01:30:30", 33),
                          (1, "2020-06-23 02:30:30", 13), (2, "2020-06-23 01:30:30", 23)]),
                  {"sink.properties.columns": "page_id,visit_date,visit_user_id,visit_users=to_bitmap(visit_user_id)"},
                  lambda rows: uv(rows) == {"1": 3, "2": 1})


def test_hll_hll_uv():
    sr = StarRocks(HLL_UV)
    run_connector(sr, "hll_visits", "hll_uv",
                  visits([(3, "2023-07-24 12:00:00", 78), (4, "2023-07-24 13:20:10", 2), (3, "2023-07-24 12:30:00", 674)]),
                  {"sink.properties.columns": "page_id,visit_date,visit_user_id,visit_users=hll_hash(visit_user_id)",
                   "sink.semantic": "exactly-once"},
                  lambda rows: uv(rows) == {"3": 2, "4": 1})


if __name__ == "__main__":
    run_tests([test_partial_update_score_board, test_conditional_update_score_board, test_bitmap_page_uv,
               test_hll_hll_uv])
