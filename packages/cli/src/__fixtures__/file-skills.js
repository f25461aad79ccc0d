// A plugin used by the end-to-end tests: it changes real files, one journaled step per file.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

export const skills = [
  {
    name: "server.fixture_overwrite",
    target: "server",
    description: "Overwrite files in a folder with chaos content (test fixture)",
    reversible: true,
    params: z.strictObject({
      directory: z.string(),
      files: z.number().int().positive(),
      delay_ms: z.number().int().min(0).default(0),
      fail_after: z.number().int().positive().optional(),
    }),
    async plan({ params }) {
      if (!existsSync(params.directory)) throw new Error(`directory ${params.directory} does not exist`);
      return { targets: [params.directory], summary: `overwrite ${params.files} files in ${params.directory}` };
    },
    async inject({ params, journal, signal, progress }) {
      for (let index = 0; index < params.files; index++) {
        if (signal.aborted) break;
        if (params.fail_after && index === params.fail_after) throw new Error(`fixture failure after ${index} files`);
        const path = join(params.directory, `file-${index}.txt`);
        const original = existsSync(path) ? readFileSync(path, "utf8") : null;
        await journal.record({ path, original });
        writeFileSync(path, `chaos ${index}\n`);
        progress(index + 1, params.files);
        if (params.delay_ms) await sleep(params.delay_ms);
      }
      return { summary: `overwrote files in ${params.directory}`, metrics: { files: params.files } };
    },
    async rollback(_context, undo) {
      if (undo.original === null) rmSync(undo.path, { force: true });
      else writeFileSync(undo.path, undo.original);
      return { summary: `restored ${undo.path}` };
    },
  },
];
