import { ChaosError, ExitCode } from "@chaos-agents/core";
import type { Command } from "commander";
import { createBuiltinRegistry } from "../builtin-registry.js";
import type { CommandIo } from "../command-context.js";

interface CommandShape {
  name: string;
  options: string[];
  /** What its argument is: a skill name, a YAML file, or free text. */
  argument: "skill" | "file" | "text" | "none";
}

/** Commands and their long options, read from the parser itself so the script never drifts. */
function shapeOf(program: Command): { commands: CommandShape[]; globalOptions: string[] } {
  const longOptions = (command: Command) => command.options.map((option) => option.long).filter((name): name is string => Boolean(name));
  const commands = program.commands.map((command) => {
    const first = command.registeredArguments[0]?.name();
    const argument: CommandShape["argument"] = !first ? "none" : first === "skill" ? "skill" : first === "file" ? "file" : "text";
    return { name: command.name(), options: [...longOptions(command), "--help"], argument };
  });
  return { commands, globalOptions: [...longOptions(program), "--help", "--version"] };
}

function bash(program: Command, skills: string[]): string {
  const { commands, globalOptions } = shapeOf(program);
  const cases = commands
    .map((command) => {
      const words = command.options.join(" ") + (command.argument === "skill" ? ` ${skills.join(" ")}` : "");
      const files = command.argument === "file" ? ' $(compgen -f -X "!*.@(yaml|yml)" -- "$cur") $(compgen -d -- "$cur")' : "";
      return `    ${command.name}) COMPREPLY=($(compgen -W "${words}" -- "$cur")${files}) ;;`;
    })
    .join("\n");
  return `# chaos completion for bash: eval "$(chaos completion bash)", or save it under /etc/bash_completion.d/chaos
_chaos() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" command="" word
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) ;; *) command="$word"; break ;; esac
  done
  shopt -s extglob
  case "$command" in
    "") COMPREPLY=($(compgen -W "${commands.map((command) => command.name).join(" ")} ${globalOptions.join(" ")}" -- "$cur")) ;;
${cases}
  esac
}
complete -o filenames -F _chaos chaos
`;
}

function fish(program: Command, skills: string[]): string {
  const { commands, globalOptions } = shapeOf(program);
  const lines = [
    "# chaos completion for fish: chaos completion fish > ~/.config/fish/completions/chaos.fish",
    "complete -c chaos -f",
    `complete -c chaos -n __fish_use_subcommand -a "${commands.map((command) => command.name).join(" ")}"`,
    ...globalOptions.map((option) => `complete -c chaos -l ${option.slice(2)}`),
  ];
  for (const command of commands) {
    const when = `-n "__fish_seen_subcommand_from ${command.name}"`;
    for (const option of command.options) lines.push(`complete -c chaos ${when} -l ${option.slice(2)}`);
    if (command.argument === "skill") lines.push(`complete -c chaos ${when} -a "${skills.join(" ")}"`);
    if (command.argument === "file") lines.push(`complete -c chaos ${when} -F -a "(__fish_complete_suffix .yaml .yml)"`);
  }
  return `${lines.join("\n")}\n`;
}

/** `chaos completion bash|zsh|fish`: the completion script (commands, options, skill names, config paths). */
export async function completion(shell: string, program: Command, io: CommandIo): Promise<number> {
  const skills = createBuiltinRegistry()
    .skills()
    .map((skill) => skill.name);
  if (shell === "bash") io.stdout.write(bash(program, skills));
  else if (shell === "zsh")
    io.stdout.write(
      `# chaos completion for zsh, through bash's: eval "$(chaos completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${bash(program, skills)}`,
    );
  else if (shell === "fish") io.stdout.write(fish(program, skills));
  else throw new ChaosError(`completion ${shell}: expected bash, zsh or fish`, { exitCode: ExitCode.usage });
  return ExitCode.success;
}
