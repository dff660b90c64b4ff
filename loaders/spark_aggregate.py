"""The Spark engine of `linkwatch aggregate`: the GROUP BYs of loaders/aggregate.py in Spark SQL.

It starts where the DuckDB engine starts, after validation: DuckDB has checked the requests (the one set of
rules and rejects), mined the prompt templates (loaders/templates.py: the same Python code, run on the
distinct prompt texts, which are few next to the requests) and flattened the bundle's ip_intel into segments.
The valid requests go to Spark as one Parquet file; Spark computes every per-account feature table; the
results (per-account summaries, far fewer rows than requests) come back to the driver and are written by
the same code as the DuckDB engine's, in the same types.

Every output matches the DuckDB engine's row for row: the same groupings, lists ordered by the same keys
(ties by the text/number the DuckDB query names), top-k by ``n DESC`` then the key, timestamps formatted to
milliseconds in UTC, and ``hour_entropy`` rounded as DuckDB's ``round(x, 6)`` does (``round(x * 1e6) / 1e6``,
half away from zero). Proxy-network and ASN usage match each distinct IP to its segment in Python workers
(a sorted search over the segments, which are shipped with the function).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from graph.config import setting
from graph.errors import LinkwatchError
from loaders.aggregate import FEATURE_TABLES, AggregateOptions
from loaders.tables import sql_text
from loaders.templates import build_prompt_templates

ISO_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
DAY_TEXT = "date_format(day, 'yyyy-MM-dd')"
# the signed twin of DuckDB's unsigned 64-bit prompt hash (Spark has no unsigned type); one to one
SIGNED_HASH = "(prompt_hash::HUGEINT - 9223372036854775808)::BIGINT"


def iso(column: str) -> str:
    """Spark SQL: a timestamp as ISO-8601 UTC text with milliseconds (the session time zone is UTC)."""
    return f"date_format({column}, \"{ISO_FORMAT}\")"


def _top(k: int, source: str, order: str) -> str:
    return (f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY {order}) AS _rank "
            f"FROM {source}) WHERE _rank <= {int(k)}")


def _ordered_list(value: str, key: str) -> str:
    """Spark SQL aggregate: the list of ``value`` ordered by ``key`` (a struct sorts by its fields in order)."""
    return f"transform(sort_array(collect_list(struct({key}, {value} AS _v))), x -> x._v)"


def spark_session(options: AggregateOptions):
    """A SparkSession for the aggregation: UTC, ANSI arithmetic (an overflowing sum fails rather than wraps)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise LinkwatchError("the Spark engine needs pyspark: pip install 'linkwatch[spark]' "
                             "(and a Java 17 runtime)") from exc
    # the Python workers run the interpreter that runs linkwatch (pandas and pyarrow are there)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("linkwatch-aggregate")
    master = options.master or (None if os.environ.get("SPARK_ENV_LOADED") or _submitted() else
                                setting("LINKWATCH_SPARK_MASTER"))
    if master:
        builder = builder.master(master)
    conf = {
        "spark.driver.memory": setting("LINKWATCH_SPARK_DRIVER_MEMORY"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.shuffle.partitions": setting("LINKWATCH_SPARK_SHUFFLE_PARTITIONS"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # DuckDB writes proleptic Gregorian timestamps: read them as they are, also before 1582
        "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
        "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
        **options.spark_conf,
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _submitted() -> bool:
    """Whether this process runs under spark-submit (which sets the master itself)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def aggregate_with_spark(conn: duckdb.DuckDBPyConnection, work: Path, options: AggregateOptions, settings: dict,
                         have_intel: bool) -> None:
    """Create the feature tables in ``conn`` (as aggregate_requests does) with Spark doing the grouping."""
    build_prompt_templates(conn, settings["lsh_threshold"], settings["lsh_max_texts"])
    stage = work / "spark-stage"
    stage.mkdir()
    conn.execute(
        f"COPY (SELECT account_id, ts, ip, model, capability, input_tokens, output_tokens, "
        f"{SIGNED_HASH} AS prompt_hash, prompt_fingerprint FROM valid_requests) "
        f"TO {sql_text(str(stage / 'requests.parquet'))} (FORMAT parquet)")
    prompt_templates = conn.sql(f"SELECT {SIGNED_HASH} AS prompt_hash, template_id FROM prompt_templates").to_arrow_table()
    samples = conn.sql("SELECT template_id, sample FROM template_samples").to_arrow_table()
    segments = _segment_arrays(conn) if have_intel else None

    spark = spark_session(options)
    staged = _spark_path(stage / "requests.parquet")
    try:
        if options.stage:  # executors on other machines read the valid requests from a shared file system
            staged = options.stage.rstrip("/") + f"/linkwatch-requests-{os.getpid()}.parquet"
            _hadoop_copy(spark, _spark_path(stage / "requests.parquet"), staged)
        # every feature reads the requests again: cached once (spilling to disk beyond memory)
        spark.read.parquet(staged).persist().createOrReplaceTempView("requests")
        spark.createDataFrame(prompt_templates.to_pandas(), "prompt_hash bigint, template_id string") \
            .createOrReplaceTempView("prompt_templates")
        spark.createDataFrame(samples.to_pandas(), "template_id string, sample string") \
            .createOrReplaceTempView("template_samples")
        for table, frame in _features(spark, settings, segments).items():
            began = time.monotonic()
            _collect_into(conn, table, frame)
            if options.progress:
                print(f"spark: {table} in {time.monotonic() - began:.1f} s", file=sys.stderr)
    finally:
        if options.stage:
            _hadoop_delete(spark, staged)
        if not _submitted():
            spark.stop()


def _hadoop_path(spark, url: str):
    path = spark._jvm.org.apache.hadoop.fs.Path(url)
    return path, path.getFileSystem(spark._jsc.hadoopConfiguration())


def _hadoop_copy(spark, source: str, target: str) -> None:
    """Copy a file or folder between Hadoop file systems (file://, s3a://, hdfs://, ...) with Spark's settings."""
    source_path, source_fs = _hadoop_path(spark, source)
    target_path, target_fs = _hadoop_path(spark, target)
    spark._jvm.org.apache.hadoop.fs.FileUtil.copy(source_fs, source_path, target_fs, target_path, False, True,
                                                  spark._jsc.hadoopConfiguration())


def _hadoop_delete(spark, url: str) -> None:
    try:
        path, fs = _hadoop_path(spark, url)
        fs.delete(path, True)
    except Exception:  # cleaning up a stage must not hide the result or the error before it
        pass


def fetch_inputs(urls: list[str], folder: Path, options: AggregateOptions) -> list[Path]:
    """Copy request/ip_intel files or bundle folders from URLs Spark's Hadoop file systems read (s3a://,
    hdfs://, ...) into ``folder`` (one sub-folder per URL, named after it), for DuckDB to validate."""
    spark = spark_session(options)
    local = []
    for number, url in enumerate(urls):
        name = url.rstrip("/").rsplit("/", 1)[-1] or f"input-{number}"
        target = folder / str(number) / name
        target.parent.mkdir(parents=True)
        try:
            _hadoop_copy(spark, url, target.resolve().as_uri())
        except Exception as exc:
            raise LinkwatchError(f"{url}: cannot be read ({java_message(exc)})") from exc
        local.append(target)
    return local


def java_message(exc: Exception) -> str:
    """The line of a Py4J/Spark error that says what went wrong (not the JVM's stack)."""
    text = getattr(exc, "desc", None) or str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = next((ln for ln in lines if ("Exception:" in ln or "Error:" in ln) and not ln.startswith("at ")),
                lines[0] if lines else type(exc).__name__)
    return line[:300]


def _spark_path(path: Path) -> str:
    return path.resolve().as_uri()  # file:///...: not resolved against a cluster's default file system


def _segment_arrays(conn: duckdb.DuckDBPyConnection) -> dict:
    """The flattened ip_intel segments as sorted lists (IPv4 as 32-bit numbers, everything as 128-bit keys)."""
    rows = {}
    for name in ("ip_segments4", "ip_segments6"):
        rows[name] = conn.execute(f'SELECT start::VARCHAR, "end"::VARCHAR, asn, proxy_network FROM {name} '
                                  f"ORDER BY start").fetchall()
    return {name: ([int(r[0]) for r in found], [int(r[1]) for r in found], [r[2] for r in found],
                   [r[3] for r in found]) for name, found in rows.items()}


def _matcher(segments: dict):
    """A mapInPandas function: (ip) batches -> (ip, asn, proxy_network) for the IPs inside a segment."""
    def match(batches):  # runs in Spark's Python workers: imports nothing from linkwatch
        import bisect
        import ipaddress

        import numpy as np
        import pandas as pd

        starts4, ends4, asns4, networks4 = segments["ip_segments4"]
        starts6, ends6, asns6, networks6 = segments["ip_segments6"]
        starts4_np, ends4_np = np.array(starts4, dtype=np.uint64), np.array(ends4, dtype=np.uint64)
        for batch in batches:
            ips = batch["ip"]
            v4 = ~ips.str.contains(":", regex=False)
            out_ip, out_asn, out_network = [], [], []
            if v4.any():
                octets = ips[v4].str.split(".", expand=True).astype(np.uint64)
                keys = (((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3]).to_numpy(np.uint64)
                at = np.searchsorted(starts4_np, keys, side="right") - 1
                inside = (at >= 0) & (keys <= ends4_np[np.maximum(at, 0)]) if len(starts4) else np.zeros(len(keys), bool)
                for ip, index in zip(ips[v4].to_numpy()[inside], at[inside]):
                    out_ip.append(ip)
                    out_asn.append(asns4[index])
                    out_network.append(networks4[index])
            for ip in ips[~v4]:
                key = int(ipaddress.ip_address(ip))  # a canonical IPv6 address (IPv4-mapped ones are IPv4)
                index = bisect.bisect_right(starts6, key) - 1
                if index >= 0 and key <= ends6[index]:
                    out_ip.append(ip)
                    out_asn.append(asns6[index])
                    out_network.append(networks6[index])
            yield pd.DataFrame({"ip": pd.Series(out_ip, dtype=object),
                                "asn": pd.array(out_asn, dtype="Int64"),
                                "proxy_network": pd.Series(out_network, dtype=object)})
    return match


def _features(spark, settings: dict, segments: dict | None) -> dict:
    """{feature table: DataFrame}, each the Spark SQL twin of a query in loaders/aggregate.py."""
    sql = spark.sql
    k = settings["top_ips"]
    pairs = sql("SELECT account_id, ip, count(*) AS n, min(ts) AS first_seen, max(ts) AS last_seen "
                "FROM requests WHERE ip IS NOT NULL GROUP BY account_id, ip").persist()
    pairs.createOrReplaceTempView("account_ip_pairs")
    out = {}
    out["account_ips"] = sql(f"SELECT account_id, ip, n, {iso('first_seen')} AS first_seen, {iso('last_seen')} AS last_seen "
                             f"FROM ({_top(k, 'account_ip_pairs', 'n DESC, ip')})")
    sql("SELECT account_id, hour(ts) AS hour, count(*) AS n, sum(CAST(input_tokens AS DECIMAL(38, 0))) AS input_tokens, "
        "sum(CAST(output_tokens AS DECIMAL(38, 0))) AS output_tokens, min(ts) AS first_ts, max(ts) AS last_ts "
        "FROM requests GROUP BY account_id, hour(ts)").persist().createOrReplaceTempView("hour_counts")
    sql(f"SELECT account_id, kind, {_ordered_list('name', '-n, name')} AS names, "
        f"{_ordered_list('n', '-n, name')} AS counts FROM ("
        f"  SELECT account_id, 'model' AS kind, model AS name, count(*) AS n FROM requests "
        f"  WHERE model IS NOT NULL GROUP BY account_id, model "
        f"  UNION ALL SELECT account_id, 'capability' AS kind, capability AS name, count(*) AS n FROM requests "
        f"  WHERE capability IS NOT NULL GROUP BY account_id, capability"
        f") GROUP BY account_id, kind").persist().createOrReplaceTempView("account_mix")
    sql(f"SELECT account_id, count(*) AS active_days, "
        f"{_ordered_list(DAY_TEXT, 'day')} AS activity_days, "
        f"{_ordered_list('n', 'day')} AS activity_counts "
        f"FROM (SELECT account_id, to_date(ts) AS day, count(*) AS n FROM requests GROUP BY account_id, to_date(ts)) "
        f"GROUP BY account_id").persist().createOrReplaceTempView("account_days")
    sql("SELECT account_id, model, to_date(ts) AS day, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts "
        "FROM requests WHERE model IS NOT NULL GROUP BY account_id, model, to_date(ts)"
        ).persist().createOrReplaceTempView("account_model_days")
    out["account_models"] = sql(
        f"SELECT account_id, model, sum(n) AS requests, {iso('min(first_ts)')} AS first_seen, "
        f"{iso('max(last_ts)')} AS last_seen, {_ordered_list(DAY_TEXT, 'day')} AS days, "
        f"{_ordered_list('n', 'day')} AS counts FROM account_model_days GROUP BY account_id, model")
    out["models"] = sql(f"SELECT model AS name, {iso('min(first_ts)')} AS first_seen FROM account_model_days GROUP BY model")
    out["account_usage"] = sql(
        "WITH totals AS (SELECT account_id, sum(n) AS requests, sum(input_tokens) AS input_tokens, "
        "  sum(output_tokens) AS output_tokens, min(first_ts) AS first_ts, max(last_ts) AS last_ts, "
        "  map_from_entries(collect_list(struct(hour, n))) AS hour_n, "
        "  -sum((n / t) * log2(n / t)) AS hour_entropy "
        "  FROM (SELECT *, sum(n) OVER (PARTITION BY account_id) AS t FROM hour_counts) GROUP BY account_id), "
        "ips AS (SELECT account_id, count(*) AS distinct_ips FROM account_ip_pairs GROUP BY account_id) "
        "SELECT t.account_id, t.requests, CAST(t.input_tokens AS BIGINT) AS input_tokens, "
        "  CAST(t.output_tokens AS BIGINT) AS output_tokens, d.active_days, d.activity_days, d.activity_counts, "
        "  transform(sequence(0, 23), h -> coalesce(try_element_at(t.hour_n, h), CAST(0 AS BIGINT))) AS hour_profile, "
        # DuckDB's round(x, 6): round(x * 10^6) / 10^6, half away from zero
        "  abs(round(t.hour_entropy * CAST(1000000 AS DOUBLE), 0) / CAST(1000000 AS DOUBLE)) AS hour_entropy, "
        f" {iso('t.first_ts')} AS first_request, {iso('t.last_ts')} AS last_request, "
        "  coalesce(i.distinct_ips, 0) AS distinct_ips, "
        "  m.names AS models, m.counts AS model_counts, c.names AS capabilities, c.counts AS capability_counts "
        "FROM totals t JOIN account_days d ON d.account_id = t.account_id "
        "LEFT JOIN ips i ON i.account_id = t.account_id "
        "LEFT JOIN account_mix m ON m.account_id = t.account_id AND m.kind = 'model' "
        "LEFT JOIN account_mix c ON c.account_id = t.account_id AND c.kind = 'capability'")
    sql(f"SELECT account_id, template_id, count(*) AS n, {iso('min(ts)')} AS first_seen, {iso('max(ts)')} AS last_seen "
        f"FROM (SELECT r.account_id, r.ts, coalesce(r.prompt_fingerprint, p.template_id) AS template_id "
        f"      FROM requests r LEFT JOIN prompt_templates p "
        f"      ON r.prompt_fingerprint IS NULL AND p.prompt_hash = r.prompt_hash) "
        f"WHERE template_id IS NOT NULL GROUP BY account_id, template_id").persist().createOrReplaceTempView("all_account_templates")
    out["templates"] = sql(
        "SELECT a.template_id, sum(a.n) AS requests, count(*) AS accounts, first(s.sample) AS sample "
        "FROM all_account_templates a LEFT JOIN template_samples s ON s.template_id = a.template_id "
        f"GROUP BY a.template_id HAVING count(*) >= {int(settings['min_template_accounts'])}")
    out["templates"].createOrReplaceTempView("kept_templates")
    out["account_templates"] = sql("SELECT * FROM all_account_templates a LEFT SEMI JOIN kept_templates k "
                                   "ON k.template_id = a.template_id")
    if segments is not None:
        matched = pairs.select("ip").distinct().mapInPandas(_matcher(segments), "ip string, asn bigint, proxy_network string")
        pairs.join(matched, "ip").createOrReplaceTempView("matched_pairs")
        out["account_networks"] = sql(
            f"SELECT account_id, proxy_network, sum(n) AS n, count(*) AS distinct_ips, {iso('min(first_seen)')} AS first_seen, "
            f"{iso('max(last_seen)')} AS last_seen FROM matched_pairs WHERE proxy_network IS NOT NULL "
            f"GROUP BY account_id, proxy_network")
        sql("SELECT account_id, asn, sum(n) AS n, count(*) AS distinct_ips, min(first_seen) AS first_seen, "
            "max(last_seen) AS last_seen FROM matched_pairs WHERE asn IS NOT NULL GROUP BY account_id, asn"
            ).createOrReplaceTempView("asn_usage")
        out["account_asns"] = sql(f"SELECT account_id, asn, n, distinct_ips, {iso('first_seen')} AS first_seen, "
                                  f"{iso('last_seen')} AS last_seen FROM ({_top(k, 'asn_usage', 'n DESC, asn')})")
    return out


def _collect_into(conn: duckdb.DuckDBPyConnection, table: str, frame) -> None:
    """Bring a Spark result to the driver as Arrow and store it in ``conn`` in the feature table's types."""
    from pyspark.sql.pandas.types import to_arrow_schema

    columns = FEATURE_TABLES[table][0]
    frame = frame.select(*(name for name, _ in columns))
    batches = frame._collect_as_arrow()
    arrow = pa.Table.from_batches(batches, schema=to_arrow_schema(frame.schema)) if batches else \
        to_arrow_schema(frame.schema).empty_table()
    conn.register("spark_result", arrow)
    select = ", ".join(f"{name}::{kind} AS {name}" for name, kind in columns)
    conn.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select} FROM spark_result")
    conn.unregister("spark_result")
