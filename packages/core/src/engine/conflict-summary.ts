/** Examples shown per group; the report keeps every conflict. */
const examplesPerGroup = 3;

/**
 * Conflicts for a human: a count per resource (the text before the first space, e.g. a
 * table's qualified name) with a few examples, so 283 row conflicts make a few lines rather
 * than one line of many kilobytes. The JSON report keeps the full list.
 */
export function summarizeConflicts(conflicts: string[]): string[] {
  const groups = new Map<string, string[]>();
  for (const conflict of conflicts) {
    const resource = (conflict.split(" ")[0] ?? "").replace(/:$/, "");
    groups.set(resource, [...(groups.get(resource) ?? []), conflict]);
  }
  return [...groups.entries()].map(([resource, items]) => {
    if (items.length <= examplesPerGroup) return items.join("; ");
    const examples = items.slice(0, examplesPerGroup).join("; ");
    return `${resource}: ${items.length} conflicts, e.g. ${examples}; … and ${items.length - examplesPerGroup} more (every one is in the JSON report)`;
  });
}
