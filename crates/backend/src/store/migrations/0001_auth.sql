-- Migration 1: accounts, sessions and API tokens (issue #9). Times are Unix seconds.

-- Local accounts (today only `admin`, for when Proxmox is unreachable). Retention: kept.
CREATE TABLE local_users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT    NOT NULL UNIQUE,
    -- argon2id PHC string; never the password itself.
    password_hash       TEXT    NOT NULL,
    -- 1 while the generated initial password is still in use.
    initial_password    INTEGER NOT NULL DEFAULT 1 CHECK (initial_password IN (0, 1)),
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

-- Browser sessions. Retention: deleted when expired (idle or absolute timeout), capped per user
-- and in total.
CREATE TABLE sessions (
    -- SHA-256 of the 256-bit session id; the id itself exists only in the browser's cookie.
    id_hash      BLOB    PRIMARY KEY NOT NULL CHECK (length(id_hash) = 32),
    user_id      TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('proxmox', 'local')),
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator')),
    created_at   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    -- min(created_at + absolute timeout, last_seen + idle timeout) when last written.
    expires_at   INTEGER NOT NULL,
    source_ip    TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id, last_seen);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- API tokens for automation. Retention: until revoked (deleted) or expired; capped in number.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    -- SHA-256 of the whole token (`plbw_…`); the token itself is shown once and never stored.
    token_hash   BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- The first characters of the token, so people can tell their tokens apart.
    prefix       TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'operate')),
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_by_expiry ON api_tokens (expires_at) WHERE expires_at IS NOT NULL;
