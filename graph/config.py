"""Linkwatch settings: one table of named settings, read from the environment.

Every setting has a documented default (docs/configuration.md lists them all).
Neo4j's own variable names (NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD,
NEO4J_DATABASE) point Linkwatch at an external server; when NEO4J_URI is unset
Linkwatch uses the managed local server started by ``linkwatch neo4j start``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CYPHER_DIR = PROJECT_ROOT / "cypher"
RUNTIME_POM = PROJECT_ROOT / "docker" / "neo4j-runtime" / "pom.xml"

# Pinned together: GDS 2.13.9 was released against Neo4j 5.26.24.
NEO4J_VERSION = "5.26.24"
GDS_VERSION = "2.13.9"

# name -> (default, description); the single source for docs/configuration.md
SETTINGS: dict[str, tuple[str, str]] = {
    "LINKWATCH_HOME": (str(PROJECT_ROOT / ".linkwatch"), "state folder: managed Neo4j data, logs, generated password"),
    "LINKWATCH_RUNTIME_DIR": (str(PROJECT_ROOT / ".linkwatch" / "runtime"), "cache of the Neo4j + GDS jars resolved by Maven, shared by every LINKWATCH_HOME"),
    "LINKWATCH_MAVEN_SETTINGS": ("", "a Maven settings.xml (mirror, proxy, local repository) used to resolve the jars"),
    "LINKWATCH_NEO4J_PORT": ("7687", "Bolt port of the managed Neo4j (always bound to 127.0.0.1)"),
    "LINKWATCH_NEO4J_HEAP": ("4g", "JVM heap of the managed Neo4j (GDS projections live here)"),
    "LINKWATCH_NEO4J_PAGECACHE": ("2g", "page cache of the managed Neo4j"),
    "LINKWATCH_NEO4J_START_TIMEOUT": ("180", "seconds to wait for the managed Neo4j to answer"),
    "LINKWATCH_JAVA": ("", "java executable to run Neo4j with (default: JAVA_HOME, PATH, then /usr/lib/jvm)"),
    "LINKWATCH_LOAD_BATCH_SIZE": ("10000", "rows per Neo4j write transaction while loading (--batch-size)"),
    "LINKWATCH_LOAD_TOP_IPS": ("50", "USED_IP (and USED_ASN) relationships kept per account, the most used first (--top-ips)"),
    "LINKWATCH_LOAD_MEMORY": ("3GB", "DuckDB memory limit while validating and aggregating (spills to disk beyond it)"),
    "LINKWATCH_LOAD_LSH_THRESHOLD": ("0.8", "Jaccard similarity (word 3-grams) above which normalised prompts share a template"),
    "LINKWATCH_LOAD_LSH_MAX_TEXTS": ("200000", "most frequent distinct normalised prompts clustered with MinHash LSH; rarer ones are a template of their own"),
    "LINKWATCH_LOAD_WRAPPER_MIN_TEXTS": ("20", "a wrapper template (a fixed instruction around varying payloads) needs at least this many distinct prompts sharing its skeleton"),
    "LINKWATCH_LOAD_WRAPPER_MIN_WORDS": ("6", "fixed words (start plus end) a wrapper skeleton needs; shorter shared openers (\"how do i\") are free text"),
    "LINKWATCH_LOAD_WRAPPER_BRANCHING": ("8", "effective number of different next words at which a wrapper's fixed instruction ends and its payload begins"),
    "LINKWATCH_LOAD_WRAPPER_JACCARD": ("0.5", "Jaccard similarity (word 3-grams) above which two wrapper skeletons are one template family (paraphrased instructions)"),
    "LINKWATCH_LOAD_MIN_TEMPLATE_ACCOUNTS": ("2", "a prompt template is stored only when at least this many accounts sent it (one account's own prompts link nobody)"),
    "LINKWATCH_LOAD_BULK_MIN_ROWS": ("300000", "linkwatch load --bulk auto: rows to write (after aggregation) from which a first load into an empty managed database goes through neo4j-admin database import instead of transactions (below it the server restart costs more than it saves)"),
    "LINKWATCH_LOAD_BULK_MEMORY": ("1g", "off-heap memory neo4j-admin database import may use during a bulk first load (--max-off-heap-memory)"),
    "LINKWATCH_LOAD_MAX_VALUE_BYTES": ("4096", "longest value (UTF-8 bytes) a loaded row may hold in any stored column; longer ones are rejected before writing (Neo4j refuses index keys over about 8 KB)"),
    "LINKWATCH_LOAD_MAX_LINE_BYTES": ("16777216", "longest physical line (bytes, after decompression) a CSV/JSONL file may hold; a longer line is rejected without being held in memory"),
    "LINKWATCH_LOAD_MAX_JSON_DEPTH": ("64", "deepest nesting of arrays/objects in a JSONL line; a deeper line is rejected before it is parsed"),
    "LINKWATCH_SPARK_MASTER": ("local[*]", "linkwatch aggregate --engine spark: Spark master URL when --master is not given and the command is not run by spark-submit"),
    "LINKWATCH_SPARK_DRIVER_MEMORY": ("1g", "linkwatch aggregate --engine spark: JVM memory of the Spark driver (spark.driver.memory; in local mode also the executors')"),
    "LINKWATCH_SPARK_SHUFFLE_PARTITIONS": ("4", "linkwatch aggregate --engine spark: partitions of every Spark shuffle (spark.sql.shuffle.partitions; raise it on a cluster)"),
    "LINKWATCH_DETECT_WINDOW_DAYS": ("0", "detection counts only evidence last seen within this many days before the newest activity in the graph (0 = all history; --window-days)"),
    "LINKWATCH_SCHEDULE": ("0 6 * * *", "linkwatch scheduler: crontab line in UTC (5 fields, or 6 with seconds first); default daily at 06:00"),
    "LINKWATCH_SCHEDULE_SOURCE": ("", "linkwatch scheduler: bundle folder(s) to load at every tick, comma-separated (empty = detect on what the graph holds)"),
    "LINKWATCH_SCHEDULE_ENGINE": ("gds", "linkwatch scheduler: detection engine, gds or local"),
    "LINKWATCH_DELIVER_DIR": ("", "deliver every scheduled report by copying its folder here (empty = off)"),
    "LINKWATCH_DELIVER_WEBHOOK": ("", "deliver every scheduled report summary as a JSON POST to this http(s) URL (empty = off)"),
    "LINKWATCH_DELIVER_WEBHOOK_SECRET": ("", "when set, webhook POSTs carry X-Linkwatch-Signature: sha256=HMAC of the body with this secret"),
    "LINKWATCH_SMTP_HOST": ("", "deliver every scheduled report by e-mail through this SMTP server (empty = off)"),
    "LINKWATCH_SMTP_PORT": ("587", "SMTP port"),
    "LINKWATCH_SMTP_STARTTLS": ("1", "1 = upgrade the SMTP connection with STARTTLS before logging in; 0 = plain (local relays)"),
    "LINKWATCH_SMTP_USER": ("", "SMTP login (empty = no login)"),
    "LINKWATCH_SMTP_PASSWORD": ("", "SMTP password"),
    "LINKWATCH_MAIL_FROM": ("linkwatch@localhost", "sender address of report e-mails"),
    "LINKWATCH_MAIL_TO": ("", "recipients of report e-mails, comma-separated"),
    "LINKWATCH_SECRET_KEY": ("", "Flask session signing key (default: generated once into <LINKWATCH_HOME>/flask-secret-key)"),
    "LINKWATCH_SECURE_COOKIES": ("0", "1 = session cookies only over HTTPS (set it behind a TLS proxy)"),
    "LINKWATCH_WEB_MAX_JSON_BYTES": ("1048576", "web: bytes a JSON request body may have (larger = 400; files are uploaded as multipart, not JSON)"),
    "LINKWATCH_WEB_MAX_JSON_DEPTH": ("32", "web: nesting levels a JSON request body may have (checked before it is parsed; deeper = 400)"),
    "LINKWATCH_WEB_MAX_PAGE": ("100000", "web: highest page number of a paged list (higher = 400)"),
    "LINKWATCH_WEB_NETWORK_MAX_NODES": ("120", "web: nodes a campaign's network view draws at most; above it members using the same shared identifiers are drawn as one group node"),
    "LINKWATCH_WEB_WARM_CAMPAIGNS": ("20", "web: flagged campaigns (highest score first) whose pages `linkwatch serve` builds in the background when a new detection run completes (0 = none)"),
    "LINKWATCH_WEB_MAX_PARAM_CHARS": ("2000", "web: characters of one text parameter such as a search (longer = 400)"),
    "LINKWATCH_CONSOLE_TIMEOUT_S": ("30", "Cypher console: seconds before the server terminates a query"),
    "LINKWATCH_CONSOLE_MAX_ROWS": ("10000", "Cypher console: rows returned at most (the result says when it was truncated)"),
    "LINKWATCH_CONSOLE_MAX_RESPONSE_BYTES": ("8000000", "Cypher console: encoded size of the rows returned at most; longer answers are cut and say truncated"),
    "LINKWATCH_CONSOLE_MAX_QUERY_CHARS": ("20000", "Cypher console: longest query text accepted (refused before the server plans it)"),
    "LINKWATCH_CONSOLE_MAX_NESTING": ("40", "Cypher console: deepest nesting of (), [] and {} accepted (refused before the server plans it)"),
    "LINKWATCH_CONSOLE_MAX_UNIONS": ("20", "Cypher console: most UNIONs in one query (refused before the server plans it)"),
    "LINKWATCH_CONSOLE_MAX_CONCURRENT": ("4", "Cypher console: queries running at once for all users together; more answer 429 (keep it below the web server's threads)"),
    "LINKWATCH_CONSOLE_MAX_CONCURRENT_PER_USER": ("2", "Cypher console: queries running at once for one user; more answer 429"),
    "LINKWATCH_CHOKEPOINT_TARGET": ("0.95", "chokepoints: share of a campaign's accounts and of its requests the blocked identifiers must cover (--target)"),
    "LINKWATCH_STIX_TLP": ("amber", "TLP marking of exported STIX bundles: clear, green, amber or red (an imported indicator keeps its own, stricter marking)"),
    "NEO4J_URI": ("", "Bolt URI of an external Neo4j (`bolt://` one server, `neo4j://` a cluster: reads go to readers); unset = the managed server"),
    "NEO4J_USERNAME": ("neo4j", "user for NEO4J_URI"),
    "NEO4J_PASSWORD": ("", "password for NEO4J_URI"),
    "NEO4J_DATABASE": ("neo4j", "database Linkwatch reads and writes"),
}


def setting(name: str) -> str:
    default, _ = SETTINGS[name]
    value = os.environ.get(name, "")
    return value if value != "" else default


@dataclass(frozen=True)
class ManagedPaths:
    home: Path
    runtime: Path

    @property
    def neo4j_home(self) -> Path:
        return self.home / "neo4j"

    @property
    def conf_dir(self) -> Path:
        return self.neo4j_home / "conf"

    @property
    def data_dir(self) -> Path:
        return self.neo4j_home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.neo4j_home / "logs"

    @property
    def pid_file(self) -> Path:
        return self.neo4j_home / "neo4j.pid"

    @property
    def password_file(self) -> Path:
        return self.home / "neo4j-password"

    @property
    def lib_dir(self) -> Path:
        return self.runtime / "lib"

    @property
    def plugins_dir(self) -> Path:
        return self.runtime / "plugins"


def managed_paths() -> ManagedPaths:
    home = Path(setting("LINKWATCH_HOME")).expanduser().resolve()
    runtime_root = Path(setting("LINKWATCH_RUNTIME_DIR")).expanduser().resolve()
    return ManagedPaths(home=home, runtime=runtime_root / f"neo4j-{NEO4J_VERSION}-gds-{GDS_VERSION}")


@dataclass(frozen=True)
class Connection:
    uri: str
    username: str
    password: str
    database: str
    managed: bool


def connection() -> Connection:
    """Where Linkwatch connects: NEO4J_URI when set, else the managed server."""
    database = setting("NEO4J_DATABASE")
    uri = setting("NEO4J_URI")
    if uri:
        return Connection(uri, setting("NEO4J_USERNAME"), setting("NEO4J_PASSWORD"), database, managed=False)
    paths = managed_paths()
    password = paths.password_file.read_text().strip() if paths.password_file.exists() else ""
    port = setting("LINKWATCH_NEO4J_PORT")
    return Connection(f"bolt://127.0.0.1:{port}", "neo4j", password, database, managed=True)
