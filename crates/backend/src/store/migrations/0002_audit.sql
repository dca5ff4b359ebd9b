-- Migration 2: the audit log (issue #9). Times are Unix seconds.

-- Who did what, when, from where, with which result. Retention: older than the configured age
-- (default 365 days) or beyond the configured row count (default 50,000) is deleted.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    source_ip TEXT,
    action    TEXT    NOT NULL,
    target    TEXT,
    -- JSON, secrets masked.
    details   TEXT,
    ok        INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error     TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_actor ON audit_log (actor, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
