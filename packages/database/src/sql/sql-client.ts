/** Rows and how many rows a statement touched. */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Runs statements on one connection (or on whichever pooled one is free). */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /**
   * PostgreSQL only: `COPY … FROM STDIN` (text format) with these rows of text values (null is
   * NULL), taken from the iterable as they are sent; resolves to the number of rows copied.
   * Undefined where the dialect has no COPY.
   */
  copyRows?(sql: string, rows: Iterable<(string | null)[]>): Promise<number>;
}

/** A connection of its own, outside the pool: for held locks, held connections and load workers. */
export interface SqlConnection extends SqlExecutor {
  /** The server's id of this connection (PostgreSQL backend PID, MySQL connection id). */
  readonly serverId: number;
  close(): Promise<void>;
}

/** The one way every skill talks to a database, whatever the dialect. */
export interface SqlClient extends SqlExecutor {
  /** BEGIN … work … COMMIT on one pooled connection; ROLLBACK if work throws. */
  transaction<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  /** Opens a dedicated connection tagged with `tag` (application_name on PostgreSQL). */
  connect(tag: string): Promise<SqlConnection>;
  close(): Promise<void>;
}
