import { expandRuns, type KeyRun, runLength } from "../sql/key-runs.js";

/**
 * Rows chaos wrote in one table, as journaled: their keys as the database stored them and a
 * fingerprint of each row's content, so rollback deletes a row only while it is still the
 * row chaos wrote.
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
  /** One fingerprint per row, in the order `chaosRowKeys` gives, concatenated. Absent in journals of older versions. */
  fingerprints?: string;
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
