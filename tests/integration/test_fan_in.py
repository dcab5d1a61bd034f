"""Several topics into several tables of one connector; several connector files in one
process; topics.regex picking up a topic created after the start."""
import json

from harness import Kafka, StarRocks, Starpipe, check, run_tests, wait_until

SQL = """
CREATE DATABASE shop;
CREATE TABLE shop.orders (id BIGINT NOT NULL, source VARCHAR(32), amount DECIMAL(10,2)) DUPLICATE KEY(id);
CREATE TABLE shop.events (id BIGINT NOT NULL, kind STRING) DUPLICATE KEY(id);
CREATE TABLE shop.metrics (id BIGINT NOT NULL, name STRING) DUPLICATE KEY(id);
CREATE TABLE shop.metrics_cpu (id BIGINT NOT NULL, name STRING) DUPLICATE KEY(id);
"""


def rows(n, start, **extra):
    return [json.dumps({"id": i, **extra}) for i in range(start, start + n)]


def test_three_topics_two_tables_and_two_connectors():
    kafka = Kafka({"web_orders": 2, "app_orders": 2, "clicks": 2, "metrics": 1})
    sr = StarRocks(SQL)
    for p in range(2):
        kafka.produce("web_orders", rows(500, 10000 * (p + 1), source="web", amount="1.50"), partition=p)
        kafka.produce("app_orders", rows(500, 100000 + 10000 * (p + 1), source="app", amount="2.25"), partition=p)
        kafka.produce("clicks", rows(300, 1000 * (p + 1), kind="click"), partition=p)
    kafka.produce("metrics", rows(50, 1, name="cpu"))
    sp = Starpipe(kafka, sr, [
        {"name": "orders-and-clicks", "topics": "web_orders,app_orders,clicks", "starrocks.database.name": "shop",
         "starrocks.topic2table.map": "web_orders:orders,app_orders:orders,clicks:events", "tasks.max": "2"},
        {"name": "metrics", "topics": "metrics", "starrocks.database.name": "shop"},
    ]).start()
    wait_until(lambda: len(sr.rows("shop", "orders")) == 2000 and len(sr.rows("shop", "events")) == 600
               and len(sr.rows("shop", "metrics")) == 50, 60, "all rows in three tables")
    orders = sr.rows("shop", "orders")
    check(len({r[0] for r in orders}) == 2000, "no duplicate order ids")
    check({r[1] for r in orders} == {"web", "app"}, "both topics fanned into orders")
    check({r[2] for r in orders} == {"1.50", "2.25"}, "decimals typed")
    check(sp.stop() == 0, "clean stop")
    for topic in ("web_orders", "app_orders", "clicks"):
        c = kafka.committed("connect-orders-and-clicks", topic, 2)
        e = kafka.end_offsets(topic, 2)
        check(c == e, f"{topic}: committed {c} == end {e}")
    check(kafka.committed("connect-metrics", "metrics", 1) == {0: 50}, "second connector committed")


def test_regex_picks_up_new_topics():
    kafka = Kafka({"metrics_mem": 1})
    sr = StarRocks(SQL)
    kafka.produce("metrics_mem", rows(10, 1, name="mem"))
    sp = Starpipe(kafka, sr, [{"name": "m", "topics.regex": "metrics_.*", "starrocks.database.name": "shop",
                               "starrocks.topic2table.map": "metrics_mem:metrics"}]).start()
    wait_until(lambda: len(sr.rows("shop", "metrics")) == 10, 30, "rows of the existing topic")
    kafka.produce("metrics_cpu", rows(7, 100, name="cpu"))  # a new topic, auto-created by the produce
    wait_until(lambda: len(sr.rows("shop", "metrics_cpu")) == 7, 120, "rows of the topic created later")
    check(sp.stop() == 0, "clean stop")


if __name__ == "__main__":
    run_tests([test_three_topics_two_tables_and_two_connectors, test_regex_picks_up_new_topics])
