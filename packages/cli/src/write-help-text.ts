import { writeFileSync } from "node:fs";
import { helpTextFile, renderHelp } from "./help-text.js";

// Run by `npm run build`, after tsc: the text `chaos --help` prints (see help-text.ts).
writeFileSync(helpTextFile, await renderHelp());
