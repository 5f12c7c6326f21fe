-- Foundation: tenants, people, sessions, password resets and the audit log.

CREATE TYPE user_role AS ENUM ('admin', 'dispatcher', 'manager', 'technician');
CREATE TYPE user_status AS ENUM ('active', 'disabled');

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 2 AND 120),
    time_zone   text NOT NULL,
    locale      text NOT NULL,
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- `fieldflow user create --org NAME` finds an organization by name.
CREATE UNIQUE INDEX organizations_name_key ON organizations (lower(name));

CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    org_id               uuid NOT NULL REFERENCES organizations (id),
    -- Stored lower-cased; logins are global, so an email is unique across organizations.
    email                text NOT NULL UNIQUE CHECK (email = lower(email)),
    -- NULL until an invited user sets a password.
    password_hash        text,
    full_name            text NOT NULL,
    phone                text,
    locale               text NOT NULL,
    time_zone            text NOT NULL,
    role                 user_role NOT NULL,
    status               user_status NOT NULL DEFAULT 'active',
    telegram_user_id     bigint UNIQUE,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Lets child tables reference (org_id, user id) so a row can never point into another tenant.
    UNIQUE (org_id, id)
);
CREATE INDEX users_org_page ON users (org_id, id);
CREATE INDEX users_org_name ON users (org_id, lower(full_name) text_pattern_ops);

CREATE TABLE technician_profiles (
    user_id           uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    skills            text[] NOT NULL DEFAULT '{}',
    zones             text[] NOT NULL DEFAULT '{}',
    hourly_rate_minor bigint NOT NULL DEFAULT 0 CHECK (hourly_rate_minor >= 0),
    max_jobs_per_day  integer NOT NULL DEFAULT 8 CHECK (max_jobs_per_day BETWEEN 1 AND 50),
    working_hours     jsonb NOT NULL DEFAULT '{}',
    calendar_color    text NOT NULL DEFAULT '#1e88e5' CHECK (calendar_color ~ '^#[0-9a-f]{6}$'),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX technician_profiles_skills ON technician_profiles USING gin (skills);
CREATE INDEX technician_profiles_zones ON technician_profiles USING gin (zones);

-- A session is one login: a chain of refresh tokens with an absolute end.
CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_reason  text,
    user_agent      text,
    ip              text
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored only as SHA-256 hashes. A spent token stays, so reuse is detected.
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    spent_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE password_reset_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('reset', 'invite')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_reset_tokens_user ON password_reset_tokens (user_id);

-- Who did what to whom. Append-only: nothing updates or deletes these rows.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    org_id         uuid REFERENCES organizations (id),
    actor_user_id  uuid REFERENCES users (id),
    action         text NOT NULL,
    subject_type   text NOT NULL,
    subject_id     uuid,
    details        jsonb NOT NULL DEFAULT '{}',
    ip             text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_time ON audit_log (org_id, created_at DESC);
