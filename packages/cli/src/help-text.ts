import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { main } from "./main.js";

/**
 * Where `npm run build` writes the top-level help. `bin/chaos.js` prints it for a bare `--help`
 * without loading a module, as it answers `--version` from package.json: rendering it takes the
 * parser, which alone costs more than the start-up goal allows.
 */
export const helpTextFile = fileURLToPath(new URL("../dist/help.txt", import.meta.url));

/** `chaos --help` as the command table renders it (80 columns, whatever the terminal). */
export async function renderHelp(): Promise<string> {
  let text = "";
  const capture = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  const exitCode = await main(["--help"], { stdout: capture, stderr: capture, env: {} });
  if (exitCode !== 0) throw new Error(`chaos --help exited ${exitCode}: ${text}`);
  return text;
}
