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

// user:password@ in any scheme://… URL, and key=value secrets in connection strings.
const urlCredentials = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi;
const inlineSecrets = /\b(password|passwd|pwd|api[_-]?key|token|secret)=([^\s&;]+)/gi;
const bearer = /\b(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g;
const anthropicOrOpenAiKey = /\bsk-[A-Za-z0-9_-]{8,}/g;

/** Removes credentials from free text (error messages, log lines). */
export function redactText(text: string): string {
  return text
    .replace(urlCredentials, `$1${REDACTED}$3`)
    .replace(inlineSecrets, `$1=${REDACTED}`)
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
