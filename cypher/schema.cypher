// Linkwatch schema: one uniqueness constraint per node key, plus lookup indexes.
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
CREATE CONSTRAINT load_batch_key IF NOT EXISTS FOR (n:LoadBatch) REQUIRE n.key IS UNIQUE;
CREATE INDEX account_org IF NOT EXISTS FOR (n:Account) ON (n.org);
CREATE INDEX account_email IF NOT EXISTS FOR (n:Account) ON (n.email);
CREATE INDEX account_created_at IF NOT EXISTS FOR (n:Account) ON (n.created_at);
CREATE INDEX account_status IF NOT EXISTS FOR (n:Account) ON (n.status);
CREATE INDEX identifier_kind IF NOT EXISTS FOR (n:Identifier) ON (n.kind);
CREATE INDEX ip_proxy_type IF NOT EXISTS FOR (n:IP) ON (n.proxy_type);
