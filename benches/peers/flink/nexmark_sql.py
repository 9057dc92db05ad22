"""Flink SQL of the Nexmark queries in benches/nexmark/, over JSON-lines dumps of the
same generated events (persons.jsonl, auctions.jsonl, bids.jsonl).

Each query computes what its Weir .pipe writes to `out`; where that differs from the
Flink port's SQL (github.com/nexmark/nexmark, nexmark-flink/src/main/resources/queries)
the entry says how. Watermarks are `date_time - 3 s`, as the .pipe sources declare.
"""

TABLES = {
    "person": """CREATE TEMPORARY TABLE person (
  id BIGINT, name STRING, email_address STRING, credit_card STRING, city STRING,
  state STRING, date_time TIMESTAMP_LTZ(3), extra STRING,
  WATERMARK FOR date_time AS date_time - INTERVAL '3' SECOND
) WITH ({options})""",
    "auction": """CREATE TEMPORARY TABLE auction (
  id BIGINT, item_name STRING, description STRING, initial_bid BIGINT, reserve BIGINT,
  date_time TIMESTAMP_LTZ(3), expires TIMESTAMP_LTZ(3), seller BIGINT, category BIGINT,
  extra STRING,
  WATERMARK FOR date_time AS date_time - INTERVAL '3' SECOND
) WITH ({options})""",
    "bid": """CREATE TEMPORARY TABLE bid (
  auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING,
  date_time TIMESTAMP_LTZ(3), extra STRING,
  WATERMARK FOR date_time AS date_time - INTERVAL '3' SECOND
) WITH ({options})""",
}

FILES = {"person": "persons.jsonl", "auction": "auctions.jsonl", "bid": "bids.jsonl"}


def table_options(path):
    return (f"'connector' = 'filesystem', 'path' = '{path}', 'format' = 'json', "
            "'json.timestamp-format.standard' = 'ISO-8601', "
            "'json.ignore-parse-errors' = 'false'")


# query → (tables read, [setup statements], {sink name: SELECT}, note). The SELECT
# named `out` is the answer; others are the .pipe's other sinks (run, not counted).
QUERIES = {
    "q0": (["bid"], [], {
        "out": "SELECT auction, bidder, price, channel, url, date_time, extra FROM bid",
    }, "port: the same, without channel and url"),
    "q1": (["bid"], [], {
        "out": "SELECT auction, bidder, price * 89 / 100 AS price, date_time FROM bid",
    }, "port: 0.908 * price as DECIMAL; here Beam's integer cents, as the .pipe"),
    "q2": (["bid"], [], {
        "out": "SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0",
    }, "port: the same"),
    "q3": (["auction", "person"], [], {
        "out": """SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')""",
    }, "port: the same (unbounded regular join)"),
    "q5": (["bid"], ["""CREATE TEMPORARY VIEW auction_counts AS
SELECT auction, COUNT(*) AS bids, window_start, window_end
FROM TABLE(HOP(TABLE bid, DESCRIPTOR(date_time), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end"""], {
        "out": """SELECT C.window_start AS starts, C.window_end AS ends, C.auction, C.bids
FROM auction_counts C
JOIN (SELECT window_start, window_end, MAX(bids) AS maxn
      FROM auction_counts GROUP BY window_start, window_end) M
ON C.window_start = M.window_start AND C.window_end = M.window_end AND C.bids = M.maxn""",
    }, "port: HOP 2 s/10 s; here 10 s/5 s as Beam and the .pipe, the hot auctions joined back "
       "as the port does"),
    "q7": (["bid"], [], {
        "out": """SELECT B.window_start AS starts, B.auction, B.bidder, B.price, B.date_time
FROM (SELECT auction, bidder, price, date_time, window_start, window_end
      FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(date_time), INTERVAL '10' SECOND))) B
JOIN (SELECT window_start, window_end, MAX(price) AS maxprice
      FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(date_time), INTERVAL '10' SECOND))
      GROUP BY window_start, window_end) M
ON B.window_start = M.window_start AND B.window_end = M.window_end AND B.price = M.maxprice""",
    }, "port: the same join of the bids with the per-window maximum"),
    "q8": (["person", "auction"], [], {
        "out": """SELECT P.id, P.name, P.starttime
FROM (
  SELECT id, name, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(date_time), INTERVAL '10' SECOND))
  GROUP BY id, name, window_start, window_end
) P
JOIN (
  SELECT seller, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(date_time), INTERVAL '10' SECOND))
  GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime""",
    }, "port: the same"),
    "q11": (["bid"], [], {
        "out": """SELECT bidder, COUNT(*) AS bids, window_start AS starts, window_end AS ends
FROM TABLE(SESSION(TABLE bid PARTITION BY bidder, DESCRIPTOR(date_time), INTERVAL '10' SECOND))
GROUP BY bidder, window_start, window_end""",
    }, "port: legacy SESSION group window; here the SESSION table function, same sessions"),
    "q12": (["bid"], ["""CREATE TEMPORARY VIEW bid_p AS SELECT *, PROCTIME() AS p_time FROM bid"""], {
        "out": """SELECT bidder, COUNT(*) AS bids, window_start, window_end
FROM TABLE(TUMBLE(TABLE bid_p, DESCRIPTOR(p_time), INTERVAL '10' SECOND))
GROUP BY bidder, window_start, window_end""",
    }, "port: the same TUMBLE(PROCTIME(), 10 s) as the .pipe; counts depend on the wall clock"),
}
