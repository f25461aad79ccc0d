import { expandRuns, type KeyRun, runLength } from "../sql/key-runs.js";

/**
 * Rows chaos wrote in one table, as journaled: their keys as the database stored them and
 * what proves each is still the row chaos wrote (the writing transaction's id on PostgreSQL, a
 * fingerprint of each row's content on MySQL), so rollback deletes a row only while it is.
 */
export type ChaosRows = {
  table: string;
  keyColumns: string[];
  /** One tuple per row (composite keys, text keys, keys the server made). */
  keys: string[][];
  /** A single integer key chaos wrote itself, as runs of consecutive values (`keys` is then empty). */
  keyRuns: KeyRun[];
  /** The columns the fingerprints cover: the table's columns at insert time. */
  columns: string[];
  /** MySQL: one fingerprint per row, in the order `chaosRowKeys` gives, concatenated. Absent in journals of older versions. */
  fingerprints?: string;
  /**
   * PostgreSQL: the id of the transaction that wrote the rows (`txid_current()`). Every row
   * version carries the id of the transaction that wrote it (`xmin`), so a row is still the
   * one chaos wrote exactly while its `xmin` is this id: an UPDATE or a reload writes a new
   * version with another. It also lets rollback ask whether the transaction committed.
   */
  transaction?: string;
  /**
   * PostgreSQL: the sum of the rows' content hashes when chaos wrote them (`rowHash`), in
   * decimal. A row whose `xmin` changed is still chaos's if its content came back exactly (a
   * restore by `db.update_load`'s rollback); this sum is what proves it.
   */
  contentHash?: string;
};

/** Every key the rows name, in order. */
export function* chaosRowKeys(rows: ChaosRows): Generator<string[]> {
  yield* rows.keys;
  yield* expandRuns(rows.keyRuns ?? []); // `??`: a journal written before runs existed has none
}

/** How many rows they are. */
export function chaosRowCount(rows: ChaosRows): number {
  return rows.keys.length + runLength(rows.keyRuns ?? []);
}
