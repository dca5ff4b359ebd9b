-- Migration 3: the migration history (issue #10). Times are Unix milliseconds.

-- One row per guest move, however it was seen: ProxLB's log, the Proxmox task list, or both
-- merged (rules: `plb_backend::services::migrations::correlate`). Retention: older than the
-- configured age (default 365 days) or beyond the configured row count (default 50,000) is
-- deleted.
CREATE TABLE migrations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Guest name (ProxLB's log names guests; a task's guest is looked up by vmid).
    guest          TEXT,
    -- NULL when the name did not resolve to exactly one guest and no task told.
    vmid           INTEGER,
    -- 'vm' or 'ct'; NULL when unknown (an HA request for a guest that no longer exists).
    kind           TEXT CHECK (kind IS NULL OR kind IN ('vm', 'ct')),
    source         TEXT,
    target         TEXT,
    started_ms     INTEGER NOT NULL,
    ended_ms       INTEGER,
    duration_ms    INTEGER,
    outcome        TEXT    NOT NULL
                   CHECK (outcome IN ('running', 'succeeded', 'failed', 'unknown')),
    -- What decided the outcome: 'task' (Proxmox's status), 'log' (a ProxLB line) or
    -- 'inferred' (no failure line before ProxLB's end-of-run line); NULL while running.
    evidence       TEXT CHECK (evidence IS NULL OR evidence IN ('task', 'log', 'inferred')),
    -- Why it failed (Proxmox's exit status or ProxLB's message).
    reason         TEXT,
    -- 'proxlb', 'ha', 'person' or 'unknown'.
    initiator      TEXT    NOT NULL CHECK (initiator IN ('proxlb', 'ha', 'person', 'unknown')),
    -- The Proxmox user (`user@realm` or `user@realm!token`) that started the task, if known.
    initiator_user TEXT,
    -- The task that moved the guest (`qmigrate`/`vzmigrate`).
    upid           TEXT UNIQUE,
    -- The HA request (`hamigrate`) that led to it, for HA-managed guests.
    ha_upid        TEXT UNIQUE,
    -- Stable key of ProxLB's "Starting to migrate" line, so a re-read log adds nothing.
    log_key        TEXT UNIQUE,
    -- Something worth saying about how the row was put together (e.g. an ambiguous name).
    note           TEXT,
    updated_ms     INTEGER NOT NULL
);
CREATE INDEX migrations_by_start ON migrations (started_ms);
CREATE INDEX migrations_by_vmid ON migrations (vmid, started_ms);
CREATE INDEX migrations_by_guest ON migrations (guest, started_ms);
CREATE INDEX migrations_by_outcome ON migrations (outcome, started_ms);
