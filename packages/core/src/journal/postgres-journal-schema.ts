/** The schema the PostgreSQL journal keeps its tables in, apart from anything else in the database. */
export const journalSchema = "chaos_journal";

/**
 * Ordered migrations; each runs once, in one transaction with its version row, under an advisory
 * lock, so daemons starting together never apply one twice or see a half-made schema.
 * Append new ones; never edit one that shipped.
 */
export const journalMigrations: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE ${journalSchema}.experiments (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY,
  name text NOT NULL,
  target text NOT NULL,
  identity text NOT NULL,
  target_config text NOT NULL,
  config_file text,
  config_hash text,
  plugins text NOT NULL,
  started_at timestamptz NOT NULL,
  deadline timestamptz NOT NULL,
  status text NOT NULL,
  finished_at timestamptz,
  owner_host text,
  owner_pid integer,
  owner_start text,
  heartbeat_at timestamptz,
  outcome text,
  report_path text
);
CREATE TABLE ${journalSchema}.steps (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  experiment_id text NOT NULL REFERENCES ${journalSchema}.experiments(id),
  skill text NOT NULL,
  undo text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  error text,
  conflicts text,
  created_at timestamptz NOT NULL
);
CREATE INDEX steps_by_experiment ON ${journalSchema}.steps (experiment_id, status);
CREATE INDEX experiments_by_end ON ${journalSchema}.experiments (status, finished_at);
CREATE TABLE ${journalSchema}.scheduled_runs (
  experiment_name text NOT NULL,
  scheduled_at timestamptz NOT NULL,
  identity text NOT NULL,
  owner_host text NOT NULL,
  owner_pid integer NOT NULL,
  owner_start text NOT NULL,
  claimed_at timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  experiment_id text,
  finished_at timestamptz,
  PRIMARY KEY (experiment_name, scheduled_at)
);
CREATE INDEX scheduled_runs_unfinished ON ${journalSchema}.scheduled_runs (finished_at, identity);
`,
  },
  {
    version: 2,
    // What a rollback try saves for the next one (a restore's transaction id before its COMMIT).
    sql: `ALTER TABLE ${journalSchema}.steps ADD COLUMN checkpoint text;`,
  },
  {
    version: 3,
    // Lets a step's insert be repeated after a lost connection without journaling it twice.
    sql: `ALTER TABLE ${journalSchema}.steps ADD COLUMN request_id text;
CREATE UNIQUE INDEX steps_by_request ON ${journalSchema}.steps (request_id);`,
  },
];
