"""OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

A test checks that every /api/ route of the app is described here.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from app.auth import require_role

bp = Blueprint("openapi", __name__)

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_JSON = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}


def _get(summary: str, *params: dict) -> dict:
    return {"get": {"summary": summary, "parameters": list(params), "responses": {"200": _JSON, "401": _ERROR}}}


def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query_param(name: str, kind: str = "string", description: str = "", **schema) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind, **schema},
            "description": description}


# the limits app/params.py enforces (named settings: docs/configuration.md)
_PAGE = _query_param("page", "integer", "1-based page (at most LINKWATCH_WEB_MAX_PAGE)", minimum=1)
_FLAG = {"enum": ["1", "0"]}


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Linkwatch API", "version": "1",
             "description": "Account-linkage investigation. Authenticate with `Authorization: Bearer <token>` "
                            "(from `linkwatch users token NAME`); bearer calls need no CSRF token. Ids in paths "
                            "may hold any character: percent-encode them (a `/` may also be sent as it is at the "
                            "end of a path). A parameter that does not fit answers 400 with {\"error\": …}; JSON "
                            "bodies are objects, nested at most LINKWATCH_WEB_MAX_JSON_DEPTH levels, with 64-bit "
                            "integers, finite numbers and valid Unicode (docs/web.md)."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
            "CypherRequest": {"type": "object", "required": ["query"],
                              "properties": {"query": {"type": "string"}, "params": {"type": "object"}}},
            "CypherResult": {"type": "object", "required": ["columns", "rows", "truncated", "ms"],
                             "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                                            "rows": {"type": "array", "items": {"type": "array"}},
                                            "truncated": {"type": "boolean"}, "ms": {"type": "integer"},
                                            "graph": {"type": "object"}}},
            "SavedQuery": {"type": "object", "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                "query": {"type": "string"}, "params": {"type": "object"},
                "tags": {"type": "array", "items": {"type": "string"}}, "owner": {"type": ["string", "null"]}}},
        },
    },
    "security": [{"bearer": []}, {"session": []}],
    "paths": {
        "/healthz": {"get": {"summary": "Liveness: Neo4j and GDS answer", "security": [],
                             "responses": {"200": _JSON, "503": _ERROR}}},
        "/api/openapi.json": _get("This description"),
        "/api/whoami": _get("The authenticated user and role"),
        "/api/users/{user_name}/logout": {"post": {
            "summary": "Log a user out everywhere: every session issued before now is refused (role admin)",
            "parameters": [_path_param("user_name")],
            "responses": {"200": _JSON, "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
        "/api/overview": _get("Node counts per label and the GDS version"),
        "/api/triage": _get(
            "The triage queue: flagged campaigns without a decision, highest score first, with what changed since "
            "the previous run, size, requests, top evidence, case status and assignee",
            _query_param("min_score", "number", "lowest campaign score, 0-100", minimum=0, maximum=100),
            _query_param("status", description="open case status (new, triage)"), _query_param("lineage"),
            _query_param("assignee", description="me, nobody or a user name"), _query_param("capability"), _PAGE),
        "/api/search": _get("Search accounts and identifiers (id, e-mail, org, IP, CIDR, card, device, proxy network)",
                            _query_param("q", description="what to look for")),
        "/api/accounts/{account_id}": _get("An account: record, usage, identifiers, linked accounts, campaigns, case",
                                           _path_param("account_id")),
        "/api/identifiers/{kind}/{value}": _get(
            "Every account on one identifier (payment, ip, device, email, phone, api_key, proxy_network, asn, "
            "template, or another kind)", _path_param("kind"), _path_param("value"), _PAGE),
        "/api/campaigns": _get(
            "Campaigns, filtered, sorted and paged",
            _query_param("min_score", "number", "lowest campaign score, 0-100", minimum=0, maximum=100),
            _query_param("flagged", description="1 (default) = flagged only", **_FLAG),
            _query_param("active", description="1 (default) = active only", **_FLAG), _query_param("capability"),
            _query_param("status", description="case status"), _query_param("lineage"),
            _query_param("sort", enum=["score", "size", "requests", "first_activity", "last_activity", "campaign_id"]),
            _query_param("order", enum=["desc", "asc"]), _PAGE),
        "/api/campaigns/{campaign_id}": _get(
            "A campaign: evidence, contributions, accounting, network, members (paged), history, case, "
            "chokepoints, related campaigns (possibly one operator), partner corroboration (corroborated_by)",
            _path_param("campaign_id"), _PAGE),
        "/api/campaigns/{campaign_id}/enforcement": _get(
            "The account ids a campaign's decision covered (the latest, or ?decision=) with case id, decision, "
            "decider, time and run: the enforcement export", _path_param("campaign_id"),
            _query_param("decision", description="a decision_id (default: the latest decision)")),
        "/api/campaigns/{campaign_id}/chokepoints": _get(
            "What to block to stop a campaign: the fewest identifiers covering the target share of its accounts "
            "and requests, each with its collateral (docs/acting.md)", _path_param("campaign_id"),
            _query_param("target", "number", "share to cover, above 0 and at most 1 (default 0.95)")),
        "/api/cypher": {"post": {
            "summary": "Run a read-only Cypher query (role analyst)",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/CypherRequest"}}}},
            "responses": {"200": {"description": "rows", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/CypherResult"}}}},
                "400": _ERROR, "401": _ERROR, "403": _ERROR, "408": _ERROR}}},
        "/api/cypher/history": _get("The caller's recent console queries"),
        "/api/queries": {
            **_get("Library and own saved queries", _query_param("q"), _query_param("tag")),
            "post": {"summary": "Save a query of one's own", "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SavedQuery"}}}},
                "responses": {"201": _JSON, "400": _ERROR, "403": _ERROR}}},
        "/api/queries/import": {"post": {
            "summary": "Import a .cypher query file (multipart field `file`)",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"201": _JSON, "400": _ERROR, "403": _ERROR}}},
        "/api/queries/{query_id}.cypher": _get("Export a query as a .cypher file", _path_param("query_id")),
        "/api/queries/{query_id}": {"delete": {"summary": "Delete one of one's own queries",
                                               "parameters": [_path_param("query_id")],
                                               "responses": {"204": {"description": "deleted"}, "404": _ERROR}}},
        "/api/investigate": {"post": {
            "summary": "Seeded investigation: accounts most linked to known-bad seeds, with evidence paths (role analyst)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object",
                "required": ["seeds"], "properties": {"seeds": {"type": "array", "maxItems": 5000,
                                                                "items": {"type": "string"}},
                                                      "top": {"type": "integer", "default": 50, "minimum": 1,
                                                              "maximum": 500}}}}}},
            "responses": {"200": _JSON, "400": _ERROR, "403": _ERROR}}},
        "/api/reports": {
            **_get("Past reports, newest first: runs compared, change summary (event -> campaigns), status, "
                   "deliveries, files"),
            "post": {"summary": "Write a report now: the latest detection run against the one before (role analyst)",
                     "responses": {"201": _JSON, "400": _ERROR, "403": _ERROR}}},
        "/api/reports/{report_id}": _get("One report's record", _path_param("report_id")),
        "/reports/{report_id}/files/{name}": {"get": {
            "summary": "A report file: report.html, report.json, campaigns.csv or indicators.stix.json "
                       "(?download=1 to save it)",
            "parameters": [_path_param("report_id"), _path_param("name"),
                           _query_param("download", description="1 = Content-Disposition: attachment", **_FLAG)],
            "responses": {"200": {"description": "the file"}, "404": _ERROR}}},
        "/cases/{kind}/{subject_id}": {"post": {
            "summary": "Set a case's status/assignee and/or add a note (kind: campaign|account; role analyst)",
            "parameters": [{**_path_param("kind"), "schema": {"enum": ["campaign", "account"]}},
                           _path_param("subject_id")],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "status": {"enum": ["new", "triage", "confirmed", "dismissed"]},
                "assignee": {"type": ["string", "null"]},
                "note": {"type": "string", "maxLength": 10000}}}}}},
            "responses": {"200": _JSON, "400": _ERROR, "403": _ERROR}}},
    },
}


@bp.route("/api/openapi.json")
@require_role("viewer")
def openapi():
    return jsonify(SPEC)
