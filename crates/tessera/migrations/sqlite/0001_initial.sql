-- Server-wide values, such as the key client secrets are hashed with.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- One counter that every change to cached data increments (see the triggers below), so running
-- servers notice changes made by the CLI or by other instances with one cheap query.
CREATE TABLE revision (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0);

CREATE TABLE realms (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    token_lifetime INTEGER,
    signing_alg    TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE realm_keys (
    kid         TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    alg         TEXT NOT NULL,
    private_key BLOB NOT NULL,
    active      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX realm_keys_realm ON realm_keys (realm_id);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    realm_id       TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    secret_hash    BLOB NOT NULL,
    enabled        INTEGER NOT NULL,
    scopes         TEXT NOT NULL, -- JSON array of strings
    default_scopes TEXT NOT NULL, -- JSON array of strings
    grant_types    TEXT NOT NULL, -- JSON array of strings
    audience       TEXT NOT NULL, -- JSON array of strings
    token_lifetime INTEGER,
    created_at     INTEGER NOT NULL,
    UNIQUE (realm_id, client_id)
);

CREATE TRIGGER realms_insert AFTER INSERT ON realms BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER realms_update AFTER UPDATE ON realms BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER realms_delete AFTER DELETE ON realms BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER realm_keys_insert AFTER INSERT ON realm_keys BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER realm_keys_update AFTER UPDATE ON realm_keys BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER realm_keys_delete AFTER DELETE ON realm_keys BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER clients_insert AFTER INSERT ON clients BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER clients_update AFTER UPDATE ON clients BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER clients_delete AFTER DELETE ON clients BEGIN UPDATE revision SET value = value + 1; END;
