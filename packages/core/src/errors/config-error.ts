import { ChaosError, ExitCode } from "./chaos-error.js";

/** One problem in a config file: where it is and what is wrong. */
export interface ConfigIssue {
  /** Dotted path inside the document, e.g. `experiments[0].skills[1].params.rows_per_table`. */
  path: string;
  message: string;
  /** 1-based position of the offending node, when the document has one. */
  line?: number;
  column?: number;
}

export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** A config that cannot be used; carries every problem found, not just the first. */
export class ConfigError extends ChaosError {
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[]) {
    const lines = issues.map((issue) => `  ${formatIssue(file, issue)}`);
    super(`invalid config ${file} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`, {
      exitCode: ExitCode.invalidConfig,
    });
    this.file = file;
    this.issues = issues;
  }
}
