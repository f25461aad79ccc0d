/**
 * Names read from a host (file names, process arguments, mount points) may hold any byte but
 * NUL. Scripts send them hex-encoded, so no name can forge a line or a field of the output;
 * this module turns them back into text, and refuses what chaos will not act on.
 */

/** A name as the host holds it, or why chaos refuses it (the name shown with JSON escapes). */
export type DecodedName = { ok: true; name: string } | RefusedName;
export type RefusedName = { ok: false; shown: string; reason: string };

/** Control characters (newline, tab, escape…) make a name that splits or forges output lines. */
function holdsControlCharacter(name: string): boolean {
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Decodes one hex-encoded name (as `od -An -tx1` or perl's `unpack "H*"` print it) and checks it. */
export function decodeHostName(hex: string): DecodedName {
  const compact = hex.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(compact)) return { ok: false, shown: JSON.stringify(compact), reason: "is not hex output" };
  return decodeBytes(Buffer.from(compact, "hex"));
}

/** Decodes hex output of NUL-separated names (each ended by a NUL), each checked on its own. */
export function decodeNulSeparatedNames(hex: string): DecodedName[] {
  const bytes = Buffer.from(hex.replace(/\s+/g, ""), "hex");
  const names: DecodedName[] = [];
  for (let start = 0; start < bytes.length; ) {
    const end = bytes.indexOf(0, start);
    names.push(decodeBytes(bytes.subarray(start, end < 0 ? bytes.length : end)));
    start = end < 0 ? bytes.length : end + 1;
  }
  return names;
}

function decodeBytes(bytes: Buffer): DecodedName {
  const name = bytes.toString("utf8");
  if (!Buffer.from(name, "utf8").equals(bytes)) return { ok: false, shown: JSON.stringify(name), reason: "is not valid UTF-8" };
  return checkName(name);
}

/** Refuses a name holding a newline or another control character; it is reported, never split. */
export function checkName(name: string): DecodedName {
  if (holdsControlCharacter(name)) return { ok: false, shown: JSON.stringify(name), reason: "holds a newline or control character" };
  return { ok: true, name };
}

/** A refusal as the report shows it: `"/srv/a\nb" holds a newline or control character`. */
export function describeRefusal(refusal: { shown: string; reason: string }): string {
  return `${refusal.shown} ${refusal.reason}`;
}
