"""`linkwatch simulate --archetypes`: a small world with every operator archetype and their honest twins."""
from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import duckdb
import pytest

from app.cli import main
from graph.errors import LinkwatchError
from loaders.synthetic import config_for, generate
from loaders.synthetic.archetypes import ARCHETYPES


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("archetypes") / "world"
    generate(config_for("demo", seed=5, accounts=2_000, archetypes="all"), out)
    return out


@pytest.fixture(scope="module")
def db(world):
    connection = duckdb.connect()
    for name in ("accounts", "requests", "relations", "ip_intel", "links", "truth", "truth_groups"):
        connection.execute(f"create view {name} as select * from read_csv('{world / (name + '.csv')}', "
                           "all_varchar=true)")
    return connection


def test_truth_lists_every_archetype_and_scenario_describes_each_operator(world, db):
    kinds = {k for (k,) in db.execute("select distinct archetype from truth where campaign_id is not null").fetchall()}
    assert kinds == set(ARCHETYPES)
    assert db.execute("select count(*) from truth where campaign_id is null and archetype is not null").fetchone() == (0,)
    assert db.execute("select count(*) from truth where campaign_id is not null and archetype is null").fetchone() == (0,)
    scenario = json.loads((world / "scenario.json").read_text())
    assert scenario["days"] == 45  # the slow operator spreads its traffic over 45 days
    assert {c["archetype"] for c in scenario["campaigns"]} == set(ARCHETYPES)
    # resellers' accounts are all fronts
    assert db.execute("select distinct role from truth where archetype = 'reseller'").fetchall() == [("reseller_front",)]


def test_hosting_operator_lives_in_one_unflagged_range_with_own_cards_and_devices(world, db):
    scenario = json.loads((world / "scenario.json").read_text())
    intel = db.execute("select network, proxy_type from ip_intel").fetchall()
    for operator in (c for c in scenario["campaigns"] if c["archetype"] == "hosting"):
        ips = {ipaddress.ip_address(ip) for (ip,) in db.execute(
            "select distinct ip from requests join truth using (account_id) where campaign_id = ?",
            parameters=[operator["campaign_id"]]).fetchall()}
        block = ipaddress.ip_network(operator["knobs"]["address_range"])
        assert 22 <= block.prefixlen <= 24 and all(ip in block for ip in ips)
        assert all(ip in ipaddress.ip_network(f"{block.network_address}/22", strict=False) for ip in ips)
        covering = [(net, kind) for net, kind in intel if any(ip in ipaddress.ip_network(net) for ip in list(ips)[:1])]
        assert covering and all(kind == "none" for _, kind in covering), covering
        shared = db.execute("""select max(n) from (select value, count(distinct account_id) n from links
                           join truth using (account_id) where campaign_id = ? and kind in ('payment', 'device')
                           group by value)""", parameters=[operator["campaign_id"]]).fetchone()[0]
        assert int(shared) == 1


def test_ring_is_created_within_about_an_hour_and_linked_by_a_referral_chain(db):
    for (campaign,) in db.execute("select distinct campaign_id from truth where archetype = 'ring'").fetchall():
        size, first, last, devices = db.execute("""
            select count(*), min(created_at::timestamp), max(created_at::timestamp),
                   (select count(distinct value) from links join truth t using (account_id)
                    where t.campaign_id = ? and kind = 'device')
            from accounts join truth using (account_id) where campaign_id = ?""",
                                             parameters=[campaign, campaign]).fetchone()
        assert 15 <= size <= 40 and 2 <= devices <= 3
        assert (last - first).total_seconds() <= 75 * 60
        referred = db.execute("""select count(distinct r.other_account_id) from relations r
                             join truth a on a.account_id = r.account_id join truth b on b.account_id = r.other_account_id
                             where r.kind = 'referred' and a.campaign_id = ? and b.campaign_id = ?""",
                          parameters=[campaign, campaign]).fetchone()[0]
        assert referred == size - 1  # every account but the first was referred from inside the ring


def test_wrapper_prompts_put_varying_tasks_inside_fixed_instructions(world, db):
    scenario = json.loads((world / "scenario.json").read_text())
    for operator in (c for c in scenario["campaigns"] if c["archetype"] == "hosting"):
        assert 2 <= operator["templates"] <= 4 and len(operator["wrappers"]) == operator["templates"] * operator["paraphrases"]
        patterns = [re.compile(re.escape(w).replace("<task>", "(.+)")) for w in operator["wrappers"]]
        rows = db.execute("""select prompt, prompt_fingerprint from requests join truth using (account_id)
                         where campaign_id = ? and prompt like '%. %' and prompt_fingerprint is null""",
                      parameters=[operator["campaign_id"]]).fetchall()
        tasks, used = [], set()
        for prompt, _ in rows:
            match = next(((i, p.fullmatch(prompt)) for i, p in enumerate(patterns) if p.fullmatch(prompt)), None)
            if match:
                used.add(match[0])
                tasks.append(match[1].group(1))
        assert len(tasks) > 0.8 * len(rows) > 100
        assert all(8 <= len(t.split()) <= 15 for t in tasks)
        assert len(set(tasks)) > 0.99 * len(tasks)  # every task differs
        assert len(used) >= 2 * operator["templates"] - 1  # paraphrases are used too
    # wrapped prompts travel without a fingerprint; hydra templates keep theirs
    assert db.execute("""select count(*) from requests join truth using (account_id)
                     where archetype = 'hydra' and prompt_fingerprint is null and capability in ('reasoning', 'math')
                     and prompt like '%Task: %'""").fetchone() == (0,)


def test_families_share_a_card_and_device_but_join_over_months(db):
    rows = db.execute("""
        select g.group_id, count(*), datediff('day', min(a.created_at::timestamp), max(a.created_at::timestamp)),
               count(distinct case when l.kind = 'payment' then l.value end),
               count(distinct case when l.kind = 'device' then l.value end)
        from truth_groups g join accounts a using (account_id) join links l using (account_id)
        where g.segment = 'household' group by 1 having count(distinct a.account_id) >= 4""").fetchall()
    families = [r for r in rows if r[3] == 1 and r[4] == 1]
    assert families and all(days >= 7 for _, _, days, _, _ in families)


def test_archetype_options_are_checked(tmp_path, capsys):
    with pytest.raises(LinkwatchError, match="unknown archetype 'botnet'"):
        config_for("demo", accounts=1_000, archetypes="hydra,botnet")
    with pytest.raises(LinkwatchError, match="classic only"):
        config_for("demo", accounts=1_000, archetypes="all", campaigns=3)
    assert config_for("demo", seed=2, accounts=1_000, archetypes="ring,hosting").archetypes != ()
    assert config_for("demo", seed=2, accounts=1_000).archetypes == ()
    # the seed draws counts and sizes
    assert (config_for("medium", seed=1, accounts=20_000, archetypes="all").campaign_sizes
            != config_for("medium", seed=2, accounts=20_000, archetypes="all").campaign_sizes)
    assert main(["simulate", "--scale", "demo", "--accounts", "1000", "--archetypes", "nope",
                 "--out", str(tmp_path / "w"), "--quiet"]) == 2
    assert "unknown archetype 'nope'" in capsys.readouterr().err
