-- The whole schema (the SQLite migrations reached it in steps). Integers that hold times and
-- lifetimes are BIGINT, as the shared statements bind 64-bit integers.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

-- One counter every change to cached data increments; servers reload when it moves. The same
-- triggers NOTIFY listening servers, so changes reach them at once.
CREATE TABLE revision (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0);

CREATE TABLE realms (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    token_lifetime    BIGINT,
    signing_alg       TEXT NOT NULL,
    strict_assertions BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT NOT NULL
);

CREATE TABLE realm_keys (
    kid           TEXT PRIMARY KEY,
    realm_id      TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    alg           TEXT NOT NULL,
    private_key   BYTEA NOT NULL,
    active        BOOLEAN NOT NULL,
    publish_until BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX realm_keys_realm ON realm_keys (realm_id);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    realm_id       TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    secret_hash    BYTEA NOT NULL,
    enabled        BOOLEAN NOT NULL,
    scopes         TEXT NOT NULL, -- JSON array of strings
    default_scopes TEXT NOT NULL, -- JSON array of strings
    grant_types    TEXT NOT NULL, -- JSON array of strings
    audience       TEXT NOT NULL, -- JSON array of strings
    token_lifetime BIGINT,
    not_before     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    UNIQUE (realm_id, client_id)
);

CREATE TABLE client_keys (
    kid        TEXT NOT NULL,
    realm_id   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    owner_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    alg        TEXT NOT NULL,
    public_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (realm_id, kid)
);
CREATE INDEX client_keys_owner ON client_keys (owner_id);

CREATE TABLE used_jtis (
    realm_id   TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (realm_id, owner_id, jti)
);
CREATE INDEX used_jtis_expiry ON used_jtis (expires_at);

CREATE TABLE revoked_tokens (
    realm_id   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (realm_id, jti)
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

CREATE FUNCTION tessera_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE revision SET value = value + 1 WHERE id = 1;
    PERFORM pg_notify('tessera_changes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER realms_changed AFTER INSERT OR UPDATE OR DELETE ON realms
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_changed();
CREATE TRIGGER realm_keys_changed AFTER INSERT OR UPDATE OR DELETE ON realm_keys
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_changed();
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_changed();
CREATE TRIGGER client_keys_changed AFTER INSERT OR UPDATE OR DELETE ON client_keys
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_changed();
CREATE TRIGGER revoked_tokens_changed AFTER INSERT OR DELETE ON revoked_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_changed();
