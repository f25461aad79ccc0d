export const REDACTED = "***";

/** Keys whose values are secrets wherever they appear (compared without case, `_` or `-`). */
const secretKeys = new Set([
  "password",
  "passphrase",
  "apikey",
  "token",
  "secret",
  "privatekey",
  "accesstoken",
  "authorization",
  "clientsecret",
]);

function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, "");
  return secretKeys.has(normalized) || normalized.endsWith("password") || normalized.endsWith("token");
}

// user:password@ in any scheme://… URL: the password runs to the last `@` of the URL, since
// people write `/`, `:` and `@` in passwords without percent-encoding them.
const urlCredentials = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)(\S+)(@)(?!\S*@)/gi;
// key=value secrets in connection strings and environments (PGPASSWORD=…, MYSQL_PWD=…).
const inlineSecrets = /\b(\w*(?:password|passwd|pwd|api[_-]?key|token|secret))=([^\s&;]+)/gi;
// "password": "…" in JSON quoted in free text (an error that echoes a request body).
const jsonSecrets = /("\w*(?:password|passwd|passphrase|pwd|api[_-]?key|token|secret)"\s*:\s*")((?:[^"\\]|\\.)*)(")/gi;
// The same inside JSON that was itself put in a JSON string (quotes escaped once).
const escapedJsonSecrets = /(\\"\w*(?:password|passwd|passphrase|pwd|api[_-]?key|token|secret)\\"\s*:\s*\\")(.*?)(\\")/gi;
const bearer = /\b(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g;
const anthropicOrOpenAiKey = /\bsk-[A-Za-z0-9_-]{8,}/g;

/** Removes credentials from free text (error messages, log lines). */
export function redactText(text: string): string {
  return text
    .replace(urlCredentials, `$1${REDACTED}$3`)
    .replace(inlineSecrets, `$1=${REDACTED}`)
    .replace(jsonSecrets, `$1${REDACTED}$3`)
    .replace(escapedJsonSecrets, `$1${REDACTED}$3`)
    .replace(bearer, `$1${REDACTED}`)
    .replace(anthropicOrOpenAiKey, REDACTED);
}

/** Deep copy of a JSON-like value with every secret replaced; safe to log, journal or report. */
export function redactSecrets<T>(value: T): T {
  return redactValue(value) as T;
}

function redactValue(value: unknown): unknown {
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value instanceof Error) return redactText(value.message);
  if (value && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      copy[key] = isSecretKey(key) && inner !== undefined && inner !== null && inner !== "" ? REDACTED : redactValue(inner);
    }
    return copy;
  }
  return value;
}

/** True when a redacted copy lost something (the journal then cannot reconnect without the config file). */
export function containsRedaction(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes(REDACTED);
}
