-- Tokens issued to a client before this time (seconds since the epoch) are no longer active.
ALTER TABLE clients ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;

-- A rotated-out signing key stays published until every token it signed has expired.
ALTER TABLE realm_keys ADD COLUMN publish_until INTEGER;

-- Revoked access tokens, remembered until they would have expired anyway.
CREATE TABLE revoked_tokens (
    realm_id   TEXT NOT NULL REFERENCES realms (id) ON DELETE CASCADE,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (realm_id, jti)
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

CREATE TRIGGER revoked_tokens_insert AFTER INSERT ON revoked_tokens BEGIN UPDATE revision SET value = value + 1; END;
CREATE TRIGGER revoked_tokens_delete AFTER DELETE ON revoked_tokens BEGIN UPDATE revision SET value = value + 1; END;
