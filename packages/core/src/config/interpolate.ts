// ${VAR} or ${VAR:-default}; $${ escapes a literal "${".
const reference = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationResult {
  text: string;
  /** Variables that were unset and had no default. */
  missing: string[];
}

/** Replaces environment references in one string. */
export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  const missing: string[] = [];
  const result = text.replace(reference, (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
    if (escaped) return whole.slice(1);
    const value = env[name];
    if (value !== undefined && value !== "") return value;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return "";
  });
  return { text: result, missing };
}

// Stand-ins for the braces of `${…}` while YAML parses: `{` and `}` open and close flow mappings, so
// `{ rows: ${ROWS} }` would be a syntax error. Each is one character, so positions do not move.
const open = "\u27e6";
const close = "\u27e7";
const anyReference = /\$\{([^{}\n]*)\}/g;

/** The config text with every `${…}` made safe to parse anywhere, flow mappings included. */
export function protectReferences(text: string): string {
  if (text.includes(open) || text.includes(close)) return text; // never confuse the user's own characters
  return text.replace(anyReference, `$${open}$1${close}`);
}

/** A parsed scalar with its references as written again. */
export function restoreReferences(value: string): string {
  return value.includes(open) ? value.replaceAll(`$${open}`, "${").replaceAll(close, "}") : value;
}
