"""Partner STIX import: plain indicators stored exactly, every malformed bundle refused with nothing written,
re-import idempotent, TLP honoured on export, and the round trip — export from one database, import into a
second one that holds the same operator's infrastructure under other account ids, detect: corroborated."""
from __future__ import annotations

import csv
import json
import shutil
from collections import Counter

import pytest

from app import auth, create_app
from app.cli import main
from graph import db
from graph.act import indicators
from graph.errors import LinkwatchError

from webtools import PASSWORD, bearer

TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
PAYMENT_HASH = indicators.sha256("pm_partner")


def _indicator(n: int, pattern: str, markings=None, **extra) -> dict:
    obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
           "created": "2026-06-01T00:00:00.000Z", "modified": "2026-06-01T00:00:00.000Z", "pattern": pattern,
           "pattern_type": "stix", "valid_from": "2026-06-01T00:00:00Z", **extra}
    if markings:
        obj["object_marking_refs"] = markings
    return obj


def _bundle(*objects) -> dict:
    return {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001", "objects": list(objects)}


def _write(tmp_path, bundle, name="bundle.json"):
    path = tmp_path / name
    path.write_text(bundle if isinstance(bundle, str) else json.dumps(bundle), encoding="utf-8")
    return path


def _stored():
    return sorted((r["source"], r["kind"], r["value"], r["tlp"]) for r in db.driver().execute_query(
        "MATCH (i:PartnerIndicator) RETURN i.source AS source, i.kind AS kind, i.value AS value, i.tlp AS tlp",
        database_=db.database()).records)


PLAIN = _bundle(
    _indicator(1, "[ipv4-addr:value = '198.51.100.7']", [TLP_GREEN]),
    _indicator(2, "[ipv4-addr:value = '198.51.100.0/24' OR ipv6-addr:value = '2001:DB8::1']"),
    _indicator(3, "[autonomous-system:number = 64500] AND [domain-name:value = 'Evil.Example']", [TLP_RED]),
    _indicator(4, f"[x-linkwatch-payment-method:fingerprint_sha256 = '{PAYMENT_HASH}']"),
    _indicator(5, "[x-linkwatch-proxy-network:name = 'Peer\\'Gate <b>']"),
    _indicator(6, "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"),
    _indicator(7, "rule x { condition: true }", pattern_type="yara"),
)


def test_plain_indicators_are_stored_exactly_with_their_tlp_and_reimport_changes_nothing(empty_db, tmp_path, capsys):
    path = _write(tmp_path, PLAIN)
    assert main(["indicators", "import", str(path), "--source", "PartnerLab"]) == 0
    printed = capsys.readouterr().out
    assert "imported 7 indicator(s)" in printed and "7 new" in printed and "2 skipped" in printed
    expected = [
        ("PartnerLab", "asn", "64500", "red"), ("PartnerLab", "cidr", "198.51.100.0/24", "amber"),
        ("PartnerLab", "domain", "evil.example", "red"), ("PartnerLab", "ip", "198.51.100.7", "green"),
        ("PartnerLab", "ip", "2001:db8::1", "amber"), ("PartnerLab", "payment_sha256", PAYMENT_HASH, "amber"),
        ("PartnerLab", "proxy_network", "Peer'Gate <b>", "amber"),
    ]
    # 7 values from 5 indicators; the file hash and the YARA rule are skipped, not errors
    assert _stored() == expected
    assert main(["indicators", "import", str(path), "--source", "PartnerLab"]) == 0
    assert "0 new" in capsys.readouterr().out and _stored() == expected
    # --tlp raises, never lowers, what the bundle says
    assert main(["indicators", "import", str(path), "--source", "PartnerLab", "--tlp", "amber+strict"]) == 0
    assert {r[2]: r[3] for r in _stored()}["198.51.100.7"] == "amber+strict"
    assert {r[2]: r[3] for r in _stored()}["64500"] == "red"


BROKEN = {
    "not json": ('{"type": "bundle", "objects": [', "line 1: not JSON"),
    "not a bundle": ('{"type": "indicator"}', "not a STIX bundle"),
    "schema": (_bundle({**_indicator(1, "[ipv4-addr:value = '1.2.3.4']"), "valid_from": "yesterday"}),
               "indicator--00000000-0000-4000-8000-000000000001"),
    "pattern": (_bundle(_indicator(1, "[ipv4-addr:value = '1.2.3.4'"), _indicator(2, "[ipv4-addr:value = '5.6.7.8']")),
                "indicator--00000000-0000-4000-8000-000000000001"),
    "address": (_bundle(_indicator(2, "[ipv4-addr:value = '5.6.7.8']"), _indicator(3, "[ipv4-addr:value = '999.1.1.1']")),
                "'999.1.1.1' is not an IP address"),
    "hash": (_bundle(_indicator(4, "[x-linkwatch-payment-method:fingerprint_sha256 = '=cmd|calc']")),
             "must be 64 hexadecimal digits"),
    "asn": (_bundle(_indicator(5, "[autonomous-system:number = 99999999999]")), "out of range"),
    "object": (_bundle("just a string"), "objects[0]: not a STIX object"),
    "terminal control in an id": (_bundle({**_indicator(9, "[ipv4-addr:value = '1.2.3.4']"),
                                           "id": "indicator--\u001b[2J\nX"}), "indicator-- [2J X"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_bad_bundle_is_refused_whole_with_the_object_named(empty_db, tmp_path, capsys, case):
    content, message = BROKEN[case]
    assert main(["indicators", "import", str(_write(tmp_path, PLAIN, "good.json")), "--source", "A"]) == 0
    before = _stored()
    capsys.readouterr()
    path = _write(tmp_path, content)
    assert main(["indicators", "import", str(path), "--source", "B"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"linkwatch: error: {path}") and message in err and "Traceback" not in err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert _stored() == before  # nothing of B, nothing changed of A


def test_bad_options_are_refused(empty_db, tmp_path):
    path = _write(tmp_path, PLAIN)
    for source in ("", " ", "a\nb", "x" * 101):
        with pytest.raises(LinkwatchError, match="--source must be"):
            indicators.import_file(path, source)
    with pytest.raises(LinkwatchError, match="no such file"):
        indicators.import_file(tmp_path / "missing.json", "A")
    assert _stored() == []


def _renamed_copy(source, target, prefix):
    """The same world under other account ids: what a second provider holding the operator's accounts sees."""
    target.mkdir()
    for path in source.iterdir():
        if path.suffix != ".csv":
            shutil.copy(path, target / path.name)
            continue
        with path.open(newline="", encoding="utf-8") as src, (target / path.name).open("w", newline="", encoding="utf-8") as dst:
            reader = csv.DictReader(src)
            writer = csv.DictWriter(dst, fieldnames=reader.fieldnames, quoting=csv.QUOTE_ALL)
            writer.writeheader()
            for row in reader:
                for column in ("account_id", "other_account_id"):
                    if row.get(column):
                        row[column] = prefix + row[column]
                writer.writerow(row)


@pytest.mark.slow
def test_round_trip_export_import_corroborates_the_same_operator(empty_db, tmp_path, capsys):
    world = tmp_path / "world"
    assert main(["simulate", "--scale", "demo", "--accounts", "600", "--seed", "3", "--out", str(world), "--quiet"]) == 0
    assert main(["load", str(world), "--quiet", "--rejects", str(tmp_path / "rejects.csv")]) == 0
    assert main(["detect"]) == 0
    assert main(["report", "--format", "stix", "--out", str(tmp_path / "report")]) == 0
    capsys.readouterr()
    exported = json.loads((tmp_path / "report" / "indicators.stix.json").read_text())
    tlp_amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    exported_indicators = [o for o in exported["objects"] if o["type"] == "indicator"]
    assert exported_indicators and all(o["object_marking_refs"] == [tlp_amber] for o in exported_indicators)
    assert any(o["id"] == tlp_amber for o in exported["objects"])

    # a second database: the same operator's infrastructure under other account ids
    db.wipe()
    db.apply_schema()
    second = tmp_path / "second"
    _renamed_copy(world, second, "p2-")
    assert main(["load", str(second), "--quiet", "--rejects", str(tmp_path / "rejects2.csv")]) == 0
    assert main(["indicators", "import", str(tmp_path / "report" / "indicators.stix.json"), "--source", "PartnerLab",
                 "--tlp", "red"]) == 0
    assert main(["detect"]) == 0
    capsys.readouterr()

    auth.save_user("vera", "viewer", PASSWORD)
    client = create_app({"TESTING": True}).test_client()
    headers = bearer("vera")
    flagged = client.get("/api/campaigns", headers=headers).get_json()["campaigns"]
    assert flagged
    kinds = set()
    for campaign in flagged:
        body = client.get(f"/api/campaigns/{campaign['campaign_id']}", headers=headers).get_json()
        [partner] = body["corroborated_by"]
        assert partner["source"] == "PartnerLab" and partner["tlp"] == "red"
        assert sum(partner["matches"].values()) > 0
        assert partner["sentence"].startswith("corroborated by PartnerLab: ")
        assert partner["sentence"].endswith(" in their bundle")
        kinds |= set(partner["matches"])
        # detection stored the same sentence in the campaign's evidence of this run
        stored = db.run("reports/campaigns", campaign_ids=[campaign["campaign_id"]])[0]["evidence"]
        assert partner["sentence"] in stored
    assert {"payment_sha256", "proxy_network"} <= kinds
    from webtools import login
    login(client, "vera")
    page = client.get(f"/campaigns/{flagged[0]['campaign_id']}").get_data(as_text=True)
    assert "corroborated by PartnerLab: " in page and "TLP:RED" in page

    # what the partner shared under TLP:RED is never re-exported below it
    assert main(["report", "--format", "stix", "--out", str(tmp_path / "report2")]) == 0
    again = json.loads((tmp_path / "report2" / "indicators.stix.json").read_text())
    shared = {o["pattern"] for o in exported_indicators}
    reexported = [o for o in again["objects"] if o["type"] == "indicator" and o["pattern"] in shared]
    assert reexported and all(o["object_marking_refs"] == [TLP_RED] for o in reexported)


def test_corroboration_of_member_lists_matches_what_they_use(empty_db, tmp_path):
    """What detection calls before it stores a run: campaign id -> members, read without stored campaigns."""
    folder = tmp_path / "world"
    folder.mkdir()
    (folder / "links.csv").write_text("account_id,kind,value\n" + "".join(
        f"a{i},payment,{'pm_partner' if i < 3 else f'pm_own_{i}'}\n" for i in range(6)) + "b1,payment,pm_other\n",
        encoding="utf-8")
    assert main(["load", str(folder), "--quiet", "--rejects", str(tmp_path / "rejects.csv")]) == 0
    campaigns = {"cmp-x": [f"a{i}" for i in range(6)], "cmp-y": ["b1"]}
    assert indicators.corroborate_members(campaigns) == {}  # no partner indicator stored: nothing read
    assert main(["indicators", "import", str(_write(tmp_path, PLAIN)), "--source", "PartnerLab"]) == 0
    found = indicators.corroborate_members(campaigns)
    assert list(found) == ["cmp-x"]
    [entry] = found["cmp-x"]
    assert (entry["source"], entry["tlp"], entry["matches"]) == ("PartnerLab", "amber", {"payment_sha256": 1})
    assert entry["sentence"] == "corroborated by PartnerLab: 1 of this campaign's payment fingerprints is in their bundle"


def test_the_corroboration_sentence():
    assert indicators.sentence("PartnerLab", {"proxy_network": 4, "payment_sha256": 12}) == (
        "corroborated by PartnerLab: 4 of this campaign's proxy networks and 12 payment fingerprints are in their bundle")
    assert indicators.sentence("P", {"asn": 1}) == "corroborated by P: 1 of this campaign's ASNs is in their bundle"


# ---- hostile bundles, as a class: any text in any field is refused cleanly or read as data -------------------

HOSTILE = ["", "'", "\\", "\\'", "\x00", "\x1b[2J\x1b[31mred", "line\nbreak", "\r", "=cmd|' /C calc'!A0", "+1", "@SUM(A1)",
           "<script>alert(1)</script>", "{{7*7}}", "$x$", "../../etc/passwd", "ünïcødé ☃", "\u202eevil", "a" * 5000,
           "1.2.3.4/33", "::ffff:1.2.3.4", "-1", "1e9", "0" * 64, "G" * 64, "[ipv4-addr:value = '1.1.1.1']"]
FIELDS = ["pattern", "id", "name", "valid_from", "pattern_type", "object_marking_refs"]
KINDS = ["ipv4-addr:value", "ipv6-addr:value", "domain-name:value", "x-linkwatch-proxy-network:name",
         "x-linkwatch-payment-method:fingerprint_sha256", "autonomous-system:number"]


def test_any_text_in_any_field_is_refused_with_one_line_or_read_as_data(tmp_path):
    outcomes = Counter()
    for value in HOSTILE:
        for field in FIELDS:
            for kind in KINDS if field == "pattern" else KINDS[:1]:
                literal = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
                indicator = _indicator(1, f"[{kind} = {literal}]" if field == "pattern" else
                                       "[ipv4-addr:value = '198.51.100.1']")
                if field != "pattern":
                    indicator[field] = [value] if field == "object_marking_refs" else value
                path = _write(tmp_path, _bundle(indicator), "fuzz.json")
                try:
                    values, _ = indicators.parse_bundle(path)
                except indicators.BundleError as exc:
                    message = str(exc)
                    assert message.startswith(str(path)), (value, field, kind)
                    assert not any(ord(ch) < 32 for ch in message), (value, field, kind)
                    outcomes["refused"] += 1
                    continue
                outcomes["read"] += 1
                for row in values:  # what is kept is normalised data of a known kind, never longer than allowed
                    assert row["kind"] in indicators.KIND_WORDS and len(row["value"]) <= indicators.MAX_VALUE_CHARS
    assert outcomes["refused"] > 0 and outcomes["read"] > 0
