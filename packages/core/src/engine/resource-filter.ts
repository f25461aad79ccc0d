const separators = "./:";

/**
 * One `resource_filters` entry as a test on resource names.
 *
 * A filter written with regex syntax (`^ $ * + ? ( ) [ ] { } | \`) is a regular expression,
 * searched anywhere in the name: `^shop\.`, `nginx.*`, `/(mount:/var|service:app)$`.
 * A plain name (no such characters) matches whole parts of the name, which `.`, `/` and `:`
 * separate: `orders` selects `public.orders` but not `public.orders_audit`, `nginx` selects
 * `web1/service:nginx` but not `web1/service:nginx-exporter`, `web1` everything on host web1, and
 * `/process:` every process. Anchor a regex (`^web1/mount:/var$`) for one exact name.
 */
export function resourceFilter(filter: string): (name: string) => boolean {
  if (/[\^$*+?()[\]{}|\\]/.test(filter)) {
    const pattern = new RegExp(filter);
    return (name) => pattern.test(name);
  }
  const startsOnBoundary = separators.includes(filter[0] ?? "");
  const endsOnBoundary = separators.includes(filter.at(-1) ?? "");
  return (name) => {
    for (let index = name.indexOf(filter); index !== -1; index = name.indexOf(filter, index + 1)) {
      const before = name[index - 1];
      const after = name[index + filter.length];
      const boundedBefore = startsOnBoundary || before === undefined || separators.includes(before);
      const boundedAfter = endsOnBoundary || after === undefined || separators.includes(after);
      if (boundedBefore && boundedAfter) return true;
    }
    return false;
  };
}
