// Linkwatch schema: one uniqueness constraint per node key (docs/graph-model.md), plus lookup indexes.
// Applied idempotently by `linkwatch schema` and before every load (IF NOT EXISTS).
CREATE CONSTRAINT account_id IF NOT EXISTS FOR (n:Account) REQUIRE n.account_id IS UNIQUE;
CREATE CONSTRAINT payment_method_value IF NOT EXISTS FOR (n:PaymentMethod) REQUIRE n.value IS UNIQUE;
CREATE CONSTRAINT ip_value IF NOT EXISTS FOR (n:IP) REQUIRE n.value IS UNIQUE;
CREATE CONSTRAINT device_value IF NOT EXISTS FOR (n:Device) REQUIRE n.value IS UNIQUE;
CREATE CONSTRAINT email_value IF NOT EXISTS FOR (n:Email) REQUIRE n.value IS UNIQUE;
CREATE CONSTRAINT phone_value IF NOT EXISTS FOR (n:Phone) REQUIRE n.value IS UNIQUE;
CREATE CONSTRAINT api_key_value IF NOT EXISTS FOR (n:ApiKey) REQUIRE n.value IS UNIQUE;
CREATE CONSTRAINT identifier_key IF NOT EXISTS FOR (n:Identifier) REQUIRE (n.kind, n.value) IS UNIQUE;
CREATE CONSTRAINT asn_number IF NOT EXISTS FOR (n:ASN) REQUIRE n.asn IS UNIQUE;
CREATE CONSTRAINT proxy_network_name IF NOT EXISTS FOR (n:ProxyNetwork) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT ip_network_cidr IF NOT EXISTS FOR (n:IPNetwork) REQUIRE n.cidr IS UNIQUE;
CREATE CONSTRAINT prompt_template_id IF NOT EXISTS FOR (n:PromptTemplate) REQUIRE n.template_id IS UNIQUE;
CREATE CONSTRAINT model_name IF NOT EXISTS FOR (n:Model) REQUIRE n.name IS UNIQUE;
CREATE INDEX account_org IF NOT EXISTS FOR (n:Account) ON (n.org);
CREATE INDEX account_email IF NOT EXISTS FOR (n:Account) ON (n.email);
CREATE INDEX account_created_at IF NOT EXISTS FOR (n:Account) ON (n.created_at);
CREATE INDEX account_status IF NOT EXISTS FOR (n:Account) ON (n.status);
CREATE INDEX account_label IF NOT EXISTS FOR (n:Account) ON (n.label);
// per-account risk of the latest detection run (graph/detect/risk.py): review queues sort by it
CREATE INDEX account_risk_rank IF NOT EXISTS FOR (n:Account) ON (n.risk_rank);
CREATE INDEX identifier_kind IF NOT EXISTS FOR (n:Identifier) ON (n.kind);
CREATE INDEX ip_proxy_type IF NOT EXISTS FOR (n:IP) ON (n.proxy_type);
// the templates of one family (near-duplicate wordings, graph/detect/families.py): blocking a family
CREATE INDEX prompt_template_family IF NOT EXISTS FOR (n:PromptTemplate) ON (n.family);
// Application data: users, API tokens, saved queries, cases, audit trail.
CREATE CONSTRAINT user_name IF NOT EXISTS FOR (n:User) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT api_token_id IF NOT EXISTS FOR (n:ApiToken) REQUIRE n.token_id IS UNIQUE;
CREATE CONSTRAINT saved_query_id IF NOT EXISTS FOR (n:SavedQuery) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT case_subject IF NOT EXISTS FOR (n:Case) REQUIRE (n.subject_kind, n.subject_id) IS UNIQUE;
CREATE INDEX saved_query_owner IF NOT EXISTS FOR (n:SavedQuery) ON (n.owner);
CREATE INDEX audit_event_subject IF NOT EXISTS FOR (n:AuditEvent) ON (n.subject);
CREATE INDEX audit_event_action IF NOT EXISTS FOR (n:AuditEvent) ON (n.action);
// Detection results.
CREATE CONSTRAINT campaign_id IF NOT EXISTS FOR (n:Campaign) REQUIRE n.campaign_id IS UNIQUE;
CREATE CONSTRAINT detection_run_id IF NOT EXISTS FOR (n:DetectionRun) REQUIRE n.run_id IS UNIQUE;
CREATE INDEX campaign_active IF NOT EXISTS FOR (n:Campaign) ON (n.active);
// Reports (`linkwatch report`).
CREATE CONSTRAINT report_id IF NOT EXISTS FOR (n:Report) REQUIRE n.report_id IS UNIQUE;
// Partner indicators (`linkwatch indicators import`).
CREATE CONSTRAINT partner_indicator_key IF NOT EXISTS FOR (n:PartnerIndicator) REQUIRE (n.source, n.kind, n.value) IS UNIQUE;
CREATE INDEX partner_indicator_value IF NOT EXISTS FOR (n:PartnerIndicator) ON (n.value);
