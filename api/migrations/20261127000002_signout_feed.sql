-- Every sign-out (and any session removed) is announced (NOTIFY at commit), so each API process
-- can drop the session from its cache of verified sessions at once (api/src/sessions.rs).
CREATE FUNCTION announce_signout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('coffeeshop_signouts', OLD.id);
    ELSE
        PERFORM pg_notify('coffeeshop_signouts', NEW.id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER session_signed_out AFTER UPDATE ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
                       OR OLD.account IS DISTINCT FROM NEW.account)
    EXECUTE FUNCTION announce_signout();

CREATE TRIGGER session_removed AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION announce_signout();

-- An account whose role changes: its sessions' cached role must go too.
CREATE FUNCTION announce_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s RECORD;
BEGIN
    FOR s IN SELECT id FROM sessions WHERE account = OLD.name LOOP
        PERFORM pg_notify('coffeeshop_signouts', s.id);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER account_changed AFTER UPDATE ON accounts
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION announce_account_change();
