"""`linkwatch simulate`: the statistics the detector relies on, the bundle contract, determinism.

No Neo4j here: worlds are generated into temporary folders and read back with DuckDB.
Worlds are small (a few thousand accounts) so the whole module runs in seconds.
"""
from __future__ import annotations

import csv
import hashlib
import ipaddress
import json
import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from app.cli import main as cli_main
from loaders.synthetic import config_for, generate
from loaders.synthetic import world as world_module
from loaders.synthetic.config import with_format
from loaders.synthetic.network import CGNAT_SPACE

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CONTRACT = {
    "accounts": ["account_id", "created_at", "email", "org", "country", "plan", "status"],
    "links": ["account_id", "kind", "value", "first_seen", "last_seen", "count"],
    "relations": ["account_id", "other_account_id", "kind", "ts"],
    "labels": ["account_id", "label", "source"],
    "ip_intel": ["network", "asn", "as_org", "proxy_type", "proxy_network"],
    "requests": ["ts", "account_id", "ip", "api_key", "model", "input_tokens", "output_tokens", "prompt",
                 "prompt_fingerprint", "capability"],
}
SIZES = (30, 60, 150)


def _world(root: Path, name: str, **overrides) -> Path:
    options = {"seed": 11, "accounts": 2_500, "campaign_sizes": SIZES, **overrides}
    fmt = options.pop("fmt", None)
    cfg = config_for("demo", **options)
    if fmt:
        cfg = with_format(cfg, fmt)
    return generate(cfg, root / name).out_dir


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """Small demo-style worlds at each evasion level (CSV with prompt text)."""
    root = tmp_path_factory.mktemp("worlds")
    return {level: _world(root, level, evasion=level) for level in ("none", "low", "high")}


@pytest.fixture(scope="module")
def low(worlds):
    return _Bundle(worlds["low"])


class _Bundle:
    """A generated CSV bundle with DuckDB views named like its tables."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.db = duckdb.connect()
        for name in (*CONTRACT, "truth", "truth_groups"):
            self.db.execute(f"create view {name} as select * from read_csv('{folder / (name + '.csv')}', "
                            "all_varchar=true)")

    def rows(self, sql: str) -> list[tuple]:
        return self.db.execute(sql).fetchall()

    def value(self, sql: str):
        return self.rows(sql)[0][0]


def test_every_table_has_exactly_the_contract_columns(worlds):
    folder = worlds["low"]
    for name, columns in CONTRACT.items():
        with open(folder / f"{name}.csv", newline="") as handle:
            assert next(csv.reader(handle)) == columns, name
    with open(folder / "truth.csv", newline="") as handle:
        assert next(csv.reader(handle)) == ["account_id", "campaign_id", "role", "archetype"]
    scenario = json.loads((folder / "scenario.json").read_text())
    assert scenario["seed"] == 11 and scenario["evasion"] == "low" and scenario["scale"] == "demo"
    assert scenario["start"] == "2026-04-22T00:00:00Z" and scenario["end"] == "2026-05-22T00:00:00Z"
    assert scenario["counts"]["accounts"] == 2_500 and scenario["campaign_sizes"] == list(SIZES)


def test_values_follow_the_contract(low):
    assert {k for (k,) in low.rows("select distinct kind from links")} == {"payment", "ip", "device", "email", "phone"}
    assert {s for (s,) in low.rows("select distinct status from accounts")} <= {"active", "suspended", "banned"}
    assert {k for (k,) in low.rows("select distinct proxy_type from ip_intel")} == {
        "none", "vpn", "datacenter", "residential", "tor", "hosting"}
    assert {k for (k,) in low.rows("select distinct label from labels")} == {"fraud", "benign"}
    assert low.value("select count(*) from links where kind = 'payment' and value not similar to 'pm_[0-9a-f]{12}'") == 0
    stamps = low.rows("select created_at from accounts union all select first_seen from links "
                      "union all select ts from relations union all (select ts from requests limit 1000)")
    assert all(ISO_Z.match(ts) for (ts,) in stamps)
    for (network,) in low.rows("select network from ip_intel"):
        ipaddress.ip_network(network)  # raises on anything that is not a CIDR or an address
    assert low.value("select count(*) - count(distinct account_id) from accounts") == 0
    assert low.value("select count(*) - count(distinct network) from ip_intel") == 0
    assert low.value("select count(*) from links where last_seen < first_seen") == 0
    assert low.value("select count(*) from requests where prompt is null or prompt_fingerprint is null") == 0


def test_campaign_sizes_and_roles_match_the_configuration(low):
    sizes = low.rows("select campaign_id, count(*) from truth where campaign_id is not null group by 1 order by 1")
    assert sizes == [("camp-01", 30), ("camp-02", 60), ("camp-03", 150)]
    roles = {r for (r,) in low.rows("select distinct role from truth")}
    assert roles == {"benign", "operator_account", "reseller_front"}
    assert low.value("select count(*) from truth where campaign_id is null and role <> 'benign'") == 0


def test_requests_per_campaign_account_are_in_the_published_range(low):
    medians = low.rows("""
        select t.campaign_id, median(n) from truth t
        join (select account_id, count(*) n from requests group by 1) r using (account_id)
        where t.campaign_id is not null group by 1""")
    assert len(medians) == 3
    assert all(670 <= median <= 1_150 for _, median in medians), medians


def test_cgnat_addresses_are_shared_by_hundreds_of_unrelated_accounts(low):
    degree, households = low.rows("""
        select count(distinct r.account_id), count(distinct g.group_id)
        from requests r join truth_groups g using (account_id)
        where r.ip like '100.%' group by r.ip order by 1 desc limit 1""")[0]
    assert degree >= 200 and households >= 100
    ranges = [ipaddress.ip_network(n) for (n,) in low.rows(
        "select network from ip_intel where proxy_type = 'none' and network like '100.%'")]
    assert ranges and all(r.subnet_of(ipaddress.ip_network("100.64.0.0/10")) for r in ranges)
    assert int(ipaddress.ip_address("100.64.0.0")) == CGNAT_SPACE


def test_most_honest_accounts_share_some_identifier_with_another_account(low):
    share = low.value("""
        with shared as (select kind, value from links group by 1, 2 having count(distinct account_id) > 1),
             linked as (select distinct account_id from links join shared using (kind, value))
        select avg(case when l.account_id is null then 0 else 1 end)
        from truth t left join linked l using (account_id) where t.campaign_id is null""")
    assert 0.5 <= share <= 0.98


def test_honest_clusters_are_as_large_as_the_smallest_campaign(low):
    smallest = min(SIZES)
    corporate_card = low.value("""
        select max(n) from (select value, count(distinct account_id) n from links join truth_groups using (account_id)
                            where kind = 'payment' and segment = 'employee' group by 1)""")
    corporate_nat = low.value("""
        select max(n) from (select g.group_id, count(distinct r.account_id) n from requests r
                            join truth_groups g using (account_id) where g.segment = 'employee'
                            and r.ip like '172.1%' group by 1)""")
    household_cards = low.value("""
        select count(*) from (select value from links join truth_groups using (account_id)
                              where kind = 'payment' and segment = 'household' group by 1
                              having count(distinct account_id) > 1)""")
    assert corporate_card >= smallest and corporate_nat >= smallest and household_cards >= 20


def test_window_is_thirty_days_for_demo_and_forty_five_for_seed(low):
    first, last = low.rows("select min(ts), max(ts) from requests")[0]
    assert first.startswith("2026-04-22") and last.startswith("2026-05-21")
    seed = config_for("seed")
    assert seed.days == 45 and seed.describe()["start"] == "2026-04-22T00:00:00Z"
    assert seed.describe()["end"] == "2026-06-06T00:00:00Z"


def test_scales_have_the_documented_shape():
    demo = config_for("demo")
    assert demo.accounts == 5_000 and len(demo.campaign_sizes) == 4
    assert (min(demo.campaign_sizes), max(demo.campaign_sizes)) == (30, 800)
    seed = config_for("seed")
    assert seed.accounts == 1_000_000 and seed.campaign_sizes[0] == 25_000
    assert seed.campaign_sizes[0] * seed.campaign_requests_per_account[0] == 28_800_000
    assert all(670 <= t <= 1_150 for t in config_for("large", seed=5).campaign_requests_per_account)


def test_campaigns_move_about_half_their_traffic_to_the_new_model_within_a_day(low):
    release = json.loads((low.folder / "scenario.json").read_text())["model_release"]
    before = low.value(f"select count(*) from requests where model = 'atlas-4' and ts < '{release}'")
    assert before == 0
    shares = dict(low.rows(f"""
        select t.campaign_id is not null, avg(case when r.model = 'atlas-4' then 1 else 0 end)
        from requests r join truth t using (account_id)
        where r.ts >= strftime(cast('{release}' as timestamp) + interval 24 hour, '%Y-%m-%dT%H:%M:%SZ')
          and r.ts < strftime(cast('{release}' as timestamp) + interval 48 hour, '%Y-%m-%dT%H:%M:%SZ')
        group by 1"""))
    assert shares[True] >= 0.35 and shares[False] <= 0.15


def test_campaign_capabilities_are_narrow_and_honest_ones_broad(low):
    def top_two_share(where: str) -> float:
        counts = [n for (n,) in low.rows(f"""
            select count(*) n from requests r join truth t using (account_id) where {where}
            group by r.capability order by n desc""")]
        return sum(counts[:2]) / sum(counts)
    for campaign in ("camp-01", "camp-02", "camp-03"):
        assert top_two_share(f"t.campaign_id = '{campaign}' and t.role = 'operator_account'") >= 0.8
    assert top_two_share("t.campaign_id is null") <= 0.5


def test_power_users_are_honest_high_volume_and_flat_around_the_clock(low):
    volume = dict(low.rows("""
        select g.segment = 'power_user', median(n) from truth_groups g
        join (select account_id, count(*) n from requests group by 1) r using (account_id)
        where g.segment <> 'campaign' group by 1"""))
    assert volume[True] >= 20 * volume[False]
    quarters = [share for (share,) in low.rows("""
        select count(*) * 1.0 / sum(count(*)) over () from requests r join truth_groups g using (account_id)
        where g.segment = 'power_user' group by cast(substr(r.ts, 12, 2) as int) // 6""")]
    assert len(quarters) == 4 and all(0.18 <= q <= 0.32 for q in quarters)


def test_labels_are_a_few_confirmed_cases(low):
    fraud = low.rows("select t.campaign_id from labels l join truth t using (account_id) where l.label = 'fraud'")
    assert fraud and all(campaign is not None for (campaign,) in fraud)
    assert len(fraud) <= 0.05 * sum(SIZES)
    wrong = low.value("""select count(*) from labels l join truth t using (account_id)
                         where l.label = 'benign' and t.campaign_id is not null""")
    assert wrong == 0


def test_intel_marks_only_part_of_the_residential_exits(low):
    marked = low.value("""
        with exits as (select distinct r.ip from requests r join truth t using (account_id)
                       where t.role = 'operator_account' and r.ip like '10.%')
        select avg(case when i.network is null then 0 else 1 end)
        from exits left join ip_intel i on i.network = exits.ip""")
    assert 0.2 <= marked <= 0.5


def _payment_sharing(bundle: _Bundle) -> float:
    """Mean number of campaign accounts per payment value used by campaign accounts."""
    return bundle.value("""
        select avg(n) from (select value, count(distinct account_id) n from links join truth using (account_id)
                            where kind = 'payment' and campaign_id is not null group by 1)""")


def test_high_evasion_hides_payment_but_keeps_weak_shared_infrastructure(worlds):
    none, high = _Bundle(worlds["none"]), _Bundle(worlds["high"])
    assert _payment_sharing(none) >= 10 and _payment_sharing(high) <= 1.2
    # Still shared at high: one residential proxy network, one template family, creation bursts.
    scenario = json.loads((worlds["high"] / "scenario.json").read_text())
    networks = high.rows("""
        select distinct i.proxy_network from requests r join truth t using (account_id)
        join ip_intel i on i.network = r.ip where t.campaign_id = 'camp-03' and t.role = 'operator_account'""")
    assert networks == [(scenario["campaigns"][2]["residential_network"],)]
    family = high.value("""
        select count(distinct prompt_fingerprint) from requests r join truth t using (account_id)
        where t.campaign_id = 'camp-03' and r.prompt like '%Task: %'""")
    assert 0 < family <= 5 * 40
    created_days = high.value("""
        select count(distinct substr(created_at, 1, 10)) from accounts join truth using (account_id)
        where campaign_id = 'camp-03'""")
    assert created_days <= 20


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_bundles_and_another_seed_does_not(tmp_path, worlds):
    again = _world(tmp_path, "again", evasion="low")
    assert _digest(again) == _digest(worlds["low"])
    other = _world(tmp_path, "other", evasion="low", seed=12)
    assert _digest(other)["accounts.csv"] != _digest(worlds["low"])["accounts.csv"]


def test_parquet_requests_stream_to_deterministic_part_files(tmp_path, monkeypatch):
    monkeypatch.setattr(world_module, "CHUNK_ROWS", 15_000)
    first = _world(tmp_path, "a", fmt="parquet", accounts=1_000, campaign_sizes=(20, 40))
    parts = sorted((first / "requests").glob("part-*.parquet"))
    assert len(parts) >= 5
    table = pq.read_table(first / "requests")
    assert table.column_names == [c for c in CONTRACT["requests"] if c != "prompt"]
    assert str(table.schema.field("ts").type) == "int64"
    scenario = json.loads((first / "scenario.json").read_text())
    assert table.num_rows == scenario["counts"]["requests"]
    assert pq.read_table(first / "accounts.parquet").column_names == CONTRACT["accounts"]
    second = _world(tmp_path, "b", fmt="parquet", accounts=1_000, campaign_sizes=(20, 40))
    assert _digest(first) == _digest(second)


def test_cli_writes_a_bundle_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "bundle"
    args = ["simulate", "--scale", "demo", "--seed", "3", "--out", str(out), "--accounts", "600", "--campaigns", "2",
            "--quiet"]
    assert cli_main(args) == 0
    assert (out / "truth.csv").exists() and (out / "requests.csv").exists()
    assert cli_main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli_main(args + ["--force"]) == 0
    assert cli_main(["simulate", "--out", str(tmp_path / "x"), "--accounts", "100", "--quiet"]) == 2
    assert "--accounts must be at least 200" in capsys.readouterr().err
