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
