"""The SQLite schema. Statements are idempotent; the store runs them on every open."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    application TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (application, key)
);
CREATE TABLE IF NOT EXISTS lb_values (
    application   TEXT NOT NULL,
    load_balancer TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    deploy_id     INTEGER NOT NULL,
    applied_at    REAL NOT NULL,
    PRIMARY KEY (application, load_balancer, key)
);
CREATE TABLE IF NOT EXISTS deploys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    application TEXT NOT NULL,
    version     TEXT NOT NULL,
    strategy    TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_at  REAL NOT NULL,
    finished_at REAL,
    plan        TEXT NOT NULL,
    summary     TEXT
);
CREATE INDEX IF NOT EXISTS deploys_by_application ON deploys (application, id);
CREATE TABLE IF NOT EXISTS server_results (
    deploy_id   INTEGER NOT NULL,
    server      TEXT NOT NULL,
    status      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    in_rotation INTEGER,
    started_at  REAL,
    finished_at REAL,
    PRIMARY KEY (deploy_id, server)
);
CREATE TABLE IF NOT EXISTS step_results (
    deploy_id   INTEGER NOT NULL,
    server      TEXT NOT NULL,
    step        TEXT NOT NULL,
    status      TEXT NOT NULL,
    exit_status INTEGER,
    started_at  REAL,
    finished_at REAL,
    output      TEXT NOT NULL,
    PRIMARY KEY (deploy_id, server, step)
);
CREATE TABLE IF NOT EXISTS events (
    deploy_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    at        REAL NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (deploy_id, seq)
);
CREATE TABLE IF NOT EXISTS locks (
    application TEXT PRIMARY KEY,
    deploy_id   INTEGER NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    since       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    application   TEXT NOT NULL,
    load_balancer TEXT NOT NULL,
    server        TEXT NOT NULL,
    action        TEXT NOT NULL,
    state         TEXT NOT NULL,
    deploy_id     INTEGER NOT NULL,
    at            REAL NOT NULL,
    PRIMARY KEY (application, load_balancer, server)
);
"""
