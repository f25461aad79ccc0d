import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { commandLine, shellQuote } from "./shell-quote.js";

describe("shellQuote", () => {
  const nasty = ["/tmp/x; rm -rf /", "it's", "$(touch /tmp/pwned)", "`id`", "a\nb", "", "-n", "*", "~root", 'say "hi"', "tab\there"];

  it("leaves plain words readable", () => {
    expect(commandLine(["chmod", "000", "--", "/srv/app/config.yml"])).toBe("chmod 000 -- /srv/app/config.yml");
  });

  it("turns every word back into itself through a real sh, never into a command", () => {
    for (const word of nasty) {
      const echoed = execFileSync("/bin/sh", ["-c", `printf '%s' ${shellQuote(word)}`]).toString();
      expect(echoed).toBe(word);
    }
    const argv = execFileSync("/bin/sh", ["-c", `for a in ${commandLine(nasty)}; do printf '%s\\0' "$a"; done`])
      .toString()
      .split("\0");
    expect(argv.slice(0, -1)).toEqual(nasty);
  });
});
