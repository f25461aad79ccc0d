import { type Document, isCollection, isNode, type LineCounter } from "yaml";

export type IssuePath = ReadonlyArray<PropertyKey>;

/** `experiments[0].skills[1].params.rows_per_table` from ["experiments", 0, "skills", 1, …]. */
export function formatPath(path: IssuePath): string {
  return path
    .map((segment, index) => (typeof segment === "number" ? `[${segment}]` : `${index === 0 ? "" : "."}${String(segment)}`))
    .join("");
}

/**
 * Line and column of the deepest node on `path` that exists in the document: a missing key
 * points at the object that lacks it.
 */
export function positionOf(document: Document, lineCounter: LineCounter, path: IssuePath): { line: number; column: number } | undefined {
  let node: unknown = document.contents;
  let found = node;
  for (const segment of path) {
    if (!isCollection(node)) break;
    const next = node.get(typeof segment === "symbol" ? String(segment) : segment, true);
    if (!isNode(next)) break;
    node = next;
    found = next;
  }
  if (!isNode(found) || !found.range) return undefined;
  const { line, col } = lineCounter.linePos(found.range[0]);
  return { line, column: col };
}
