-- Statement triggers also fire for statements that change nothing (a purge that deletes no row,
-- an insert that conflicts), which made every instance reload for nothing. These fire per event
-- with the changed rows at hand and signal only when there are some.

DROP TRIGGER realms_changed ON realms;
DROP TRIGGER realm_keys_changed ON realm_keys;
DROP TRIGGER clients_changed ON clients;
DROP TRIGGER client_keys_changed ON client_keys;
DROP TRIGGER revoked_tokens_changed ON revoked_tokens;
DROP FUNCTION tessera_changed();

CREATE FUNCTION tessera_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_rows) THEN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        PERFORM pg_notify('tessera_changes', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER realms_inserted AFTER INSERT ON realms REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER realms_updated AFTER UPDATE ON realms REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER realms_deleted AFTER DELETE ON realms REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();

CREATE TRIGGER realm_keys_inserted AFTER INSERT ON realm_keys REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER realm_keys_updated AFTER UPDATE ON realm_keys REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER realm_keys_deleted AFTER DELETE ON realm_keys REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();

CREATE TRIGGER clients_inserted AFTER INSERT ON clients REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER clients_updated AFTER UPDATE ON clients REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER clients_deleted AFTER DELETE ON clients REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();

CREATE TRIGGER client_keys_inserted AFTER INSERT ON client_keys REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER client_keys_updated AFTER UPDATE ON client_keys REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER client_keys_deleted AFTER DELETE ON client_keys REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();

CREATE TRIGGER revoked_tokens_inserted AFTER INSERT ON revoked_tokens REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
CREATE TRIGGER revoked_tokens_deleted AFTER DELETE ON revoked_tokens REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_rows_changed();
