/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Add a new
 * entry to change the schema, never edit a shipped one.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    source            TEXT    NOT NULL,
    started_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    exit_code         INTEGER,
    files_transferred INTEGER NOT NULL DEFAULT 0,
    bytes_transferred INTEGER NOT NULL DEFAULT 0,
    files_skipped     INTEGER NOT NULL DEFAULT 0,
    bytes_skipped     INTEGER NOT NULL DEFAULT 0,
    message           TEXT
  );
  CREATE TABLE manifest (
    path        TEXT    PRIMARY KEY,
    dir         TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mtime       INTEGER NOT NULL,
    mode        INTEGER NOT NULL,
    link_target TEXT,
    run_id      INTEGER NOT NULL
  );
  CREATE INDEX manifest_by_dir ON manifest (dir);
  CREATE TABLE problems (
    run_id  INTEGER NOT NULL,
    path    TEXT    NOT NULL,
    stage   TEXT    NOT NULL,
    code    TEXT    NOT NULL,
    message TEXT    NOT NULL
  );
  CREATE INDEX problems_by_run ON problems (run_id);
  `,
  `
  CREATE TABLE partials (
    path       TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    size       INTEGER NOT NULL,
    mtime      INTEGER NOT NULL,
    block_size INTEGER NOT NULL,
    run_id     INTEGER NOT NULL
  );
  CREATE TABLE blocks (
    path  TEXT    NOT NULL,
    idx   INTEGER NOT NULL,
    hash  TEXT    NOT NULL,
    PRIMARY KEY (path, idx)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE dirs (
    path    TEXT    PRIMARY KEY,
    outcome TEXT    NOT NULL,
    run_id  INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE deletions (
    run_id INTEGER NOT NULL,
    path   TEXT    NOT NULL,
    kind   TEXT    NOT NULL
  );
  CREATE INDEX deletions_by_run ON deletions (run_id);
  ALTER TABLE runs ADD COLUMN files_deleted INTEGER NOT NULL DEFAULT 0;
  `,
];
