-- On the Frontier endpoints, hold assertions to the strict RFC 7523 rules as well.
ALTER TABLE realms ADD COLUMN strict_assertions INTEGER NOT NULL DEFAULT 0;

-- Public keys clients sign assertions with (jwt-bearer grant, private_key_jwt). Private keys are
-- never stored.
CREATE TABLE client_keys (
    kid        TEXT NOT NULL,
    realm_id   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    owner_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    alg        TEXT NOT NULL,
    public_key BLOB NOT NULL, -- X.509 SubjectPublicKeyInfo DER
    created_at INTEGER NOT NULL,
    PRIMARY KEY (realm_id, kid)
);
CREATE INDEX client_keys_owner ON client_keys (owner_id);

CREATE TRIGGER client_keys_insert AFTER INSERT ON client_keys BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER client_keys_update AFTER UPDATE ON client_keys BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER client_keys_delete AFTER DELETE ON client_keys BEGIN UPDATE revision SET value = value + 1; END;

-- Assertion ids already used, kept until the assertion expires (replay protection).
CREATE TABLE used_jtis (
    realm_id   TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (realm_id, owner_id, jti)
);
CREATE INDEX used_jtis_expiry ON used_jtis (expires_at);
