import { ExitCode } from "@chaos-agents/core/light";
import { defaultIo } from "./io.js";
import { main } from "./main.js";

// The one place that exits the process. First SIGINT/SIGTERM: stop injecting and roll back;
// a second one exits at once and leaves the rest to `chaos recover`.
const controller = new AbortController();
const onSignal = (signal: "SIGINT" | "SIGTERM") => {
  const code = signal === "SIGTERM" ? ExitCode.terminated : ExitCode.interrupted;
  if (!controller.signal.aborted) {
    process.stderr.write(`\n${signal}: stopping injection and rolling back (send it again to exit now)\n`);
    controller.abort(signal);
    return;
  }
  process.stderr.write(`\n${signal} again: exiting now; run \`chaos recover\` to finish the rollback\n`);
  process.exit(code);
};
// A reader that went away (`chaos … | head`) must not end the process: the experiment still has to
// roll back. Output is lost from then on; the report file keeps everything.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

process.on("SIGINT", () => onSignal("SIGINT"));
process.on("SIGTERM", () => onSignal("SIGTERM"));

const exitCode = await main(process.argv.slice(2), { ...defaultIo(), signal: controller.signal });
process.exitCode = exitCode;
// Lingering handles (a webhook retry, a pool) must not keep a finished run alive.
setTimeout(() => process.exit(exitCode), 2000).unref();
