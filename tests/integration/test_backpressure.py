"""Memory is bounded: with StarRocks answering slowly and ~100 MB waiting in Kafka, starpipe
pauses consumption when its bufferflush.maxbytes budget is spent instead of growing, and
still loads every row."""
import re

from harness import Kafka, StarRocks, Starpipe, check, run_tests, wait_until

PARTITIONS = 32  # ~3 MB each: inside the mock broker's per-partition window
ROWS = 100_000


def run_with_budget(budget_mb, partitions, rows, slow_loads, extra=None):
    """~1 KB rows over `partitions`, StarRocks slow for its first loads; returns the peak RSS
    (MB) and the processes, after every row was loaded."""
    kafka = Kafka({"big": partitions})
    sr = StarRocks("CREATE DATABASE d; CREATE TABLE d.big (id BIGINT, pad STRING);", no_store=True)
    pad = "x" * 1000
    per = rows // partitions
    for p in range(partitions):
        kafka.produce("big", ['{"id":%d,"pad":"%s"}' % (p * per + i, pad) for i in range(per)], partition=p)
    sr.fault("slow", count=slow_loads, ms=1500)  # the first loads take 1.5 s each
    sp = Starpipe(kafka, sr, [{"name": "bp", "topics": "big", "starrocks.database.name": "d",
                               "bufferflush.maxbytes": str(budget_mb * 1024 * 1024), **(extra or {})}],
                  log_level="debug").start()
    peak = 0
    def done():
        nonlocal peak
        with open(f"/proc/{sp.proc.pid}/status") as f:
            peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) // 1024)
        return sr.stats()["rows"] >= per * PARTITIONS
    wait_until(done, 240, "every row loaded")
    return peak, kafka, sr, sp, per


def test_consumption_pauses_on_spent_credit():
    peak, kafka, sr, sp, per = run_with_budget(64, PARTITIONS, ROWS, 6)
    check(sp.metric("starpipe_credit_pauses_total", connector="bp") > 0,
          "consumption paused when the budget was spent (starpipe_credit_pauses_total)")
    check(sp.metric("starpipe_credit_resumes_total", connector="bp") > 0,
          "and resumed as loads finished (starpipe_credit_resumes_total)")
    print(f"  peak RSS {peak} MB for ~{ROWS // 1000} MB of records and a 64 MB budget")
    check(peak <= 64 + 64, f"peak RSS {peak} MB within bufferflush.maxbytes + 64 MB")
    check(sp.stop() == 0, "exit 0")
    check(sum(kafka.committed("connect-bp", "big", PARTITIONS).values()) == per * PARTITIONS, "all committed")


def test_a_large_budget_holds_too():
    """bufferflush.maxbytes=256 MB with ~400 MB waiting and a slow StarRocks: the bound holds
    at every size (once 339-402 MB, when a body grew past its quarter while a load was in
    flight and std::string doubling overshot)."""
    peak, kafka, sr, sp, per = run_with_budget(256, 128, 384_000, 8)
    print(f"  peak RSS {peak} MB for ~384 MB of records and a 256 MB budget")
    check(peak <= 256 + 64, f"peak RSS {peak} MB within bufferflush.maxbytes + 64 MB")
    check(sp.stop() == 0, "exit 0")
    peak, kafka, sr, sp, per = run_with_budget(256, 128, 384_000, 8, {"sink.semantic": "exactly-once"})
    print(f"  exactly-once: peak RSS {peak} MB for ~384 MB of records and a 256 MB budget")
    check(peak <= 256 + 64, f"exactly-once: peak RSS {peak} MB within bufferflush.maxbytes + 64 MB")
    check(sp.stop() == 0, "exit 0")


if __name__ == "__main__":
    run_tests([test_consumption_pauses_on_spent_credit, test_a_large_budget_holds_too])
