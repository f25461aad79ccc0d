import type { Column } from "../discovery/database-schema.js";
import type { Dialect } from "./dialect.js";

/** Hex digits kept of each row's MD5: 64 bits, so an application row matches a chaos row's by chance about never. */
export const fingerprintLength = 16;

/**
 * SQL for a fingerprint of a row's content: the MD5 of every named column's text form, NULL
 * told apart from any text. Computed by the database itself, so a row's fingerprint at insert
 * time and at rollback time are made the same way, whatever the column types.
 */
export function rowFingerprint(dialect: Dialect, columns: Column[], qualifier?: string): string {
  const name = (column: Column) => `${qualifier ? `${qualifier}.` : ""}${dialect.quote(column.name)}`;
  if (dialect.kind === "postgres") {
    // A row constructor's text quotes what needs it and leaves NULL empty: unambiguous.
    return `left(md5(ROW(${columns.map(name).join(", ")})::text), ${fingerprintLength})`;
  }
  // QUOTE() gives 'text' quoted and escaped, and the bare word NULL for NULL: unambiguous too.
  return `LEFT(MD5(CONCAT_WS(',', ${columns.map((column) => `QUOTE(${dialect.textOf(column, qualifier)})`).join(", ")})), ${fingerprintLength})`;
}

/** The fingerprint of the `index`-th row out of a batch's concatenated fingerprints. */
export function fingerprintAt(fingerprints: string, index: number): string {
  return fingerprints.slice(index * fingerprintLength, (index + 1) * fingerprintLength);
}

/**
 * PostgreSQL: a 64-bit hash of a row's content (the text of a row constructor of its columns).
 * Summed over a batch it is the batch's fingerprint: the sum is order-free and cheap to take in
 * the insert's transaction, and at rollback the rows that were touched since can be checked
 * against what is left of it once the untouched rows' share is subtracted.
 */
export function rowHash(dialect: Dialect, columns: Column[], qualifier?: string): string {
  const name = (column: Column) => `${qualifier ? `${qualifier}.` : ""}${dialect.quote(column.name)}`;
  return `hashtextextended(ROW(${columns.map(name).join(", ")})::text, 0)`;
}
