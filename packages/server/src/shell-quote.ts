/**
 * Quotes one word for a POSIX shell: `/tmp/x; rm -rf /` stays a file name, never a command.
 * Every remote command in this package is built through this function.
 */
export function shellQuote(word: string | number): string {
  const text = String(word);
  if (text !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Joins an argv into one shell command line, each word quoted. */
export function commandLine(argv: readonly (string | number)[]): string {
  return argv.map(shellQuote).join(" ");
}
