import { type Document, isCollection, isMap, isNode, isScalar, type LineCounter } from "yaml";

export type IssuePath = ReadonlyArray<PropertyKey>;

/** `experiments[0].skills[1].params.rows_per_table` from ["experiments", 0, "skills", 1, …]. */
export function formatPath(path: IssuePath): string {
  return path
    .map((segment, index) => (typeof segment === "number" ? `[${segment}]` : `${index === 0 ? "" : "."}${String(segment)}`))
    .join("");
}

/**
 * Line and column of the deepest node on `path` that exists in the document: a missing key
 * points at the object that lacks it; with `atKey`, a key points at itself, not its value.
 */
export function positionOf(
  document: Document,
  lineCounter: LineCounter,
  path: IssuePath,
  atKey = false,
): { line: number; column: number } | undefined {
  let node: unknown = document.contents;
  let found = node;
  for (const [index, segment] of path.entries()) {
    if (!isCollection(node)) break;
    if (atKey && index === path.length - 1 && isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === segment);
      if (isNode(pair?.key)) found = pair.key;
      break;
    }
    const next = node.get(typeof segment === "symbol" ? String(segment) : segment, true);
    if (!isNode(next)) break;
    node = next;
    found = next;
  }
  if (!isNode(found) || !found.range) return undefined;
  const { line, col } = lineCounter.linePos(found.range[0]);
  return { line, column: col };
}
