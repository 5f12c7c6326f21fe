-- Tells every process when a signed-in user's access may have changed, so that its cache of live
-- sessions forgets the user: a session revoked or its expiry moved, or the user's role, status or
-- organization changed (a deleted user's sessions go with it). The payload is the user's id.
-- pg_notify is delivered on commit, and not at all on rollback.
CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- TG_ARGV[0] names the column that holds the user's id in the changed table.
  PERFORM pg_notify('sessions', to_jsonb(OLD) ->> TG_ARGV[0]);
  RETURN NULL;
END
$$;

CREATE TRIGGER sessions_revoked AFTER UPDATE ON sessions FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
  EXECUTE FUNCTION notify_session_change('user_id');

CREATE TRIGGER users_access_changed AFTER UPDATE ON users FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.org_id IS DISTINCT FROM NEW.org_id)
  EXECUTE FUNCTION notify_session_change('id');

CREATE TRIGGER users_deleted AFTER DELETE ON users FOR EACH ROW
  EXECUTE FUNCTION notify_session_change('id');
