import { defineSkill, type JsonValue } from "@chaos-agents/core";
import { z } from "zod";
import { isCriticalPath } from "../discovery/critical-paths.js";
import { runSkillScript } from "../host/host-script.js";
import type { ServerHost } from "../host/server-host.js";
import type { ServerSession } from "../server-session.js";
import { commandLine, shellQuote } from "../shell-quote.js";
import {
  forEachTarget,
  type HostUndo,
  hostOf,
  hostsIn,
  journalAndArm,
  newDeadManKey,
  refuse,
  resourcesOf,
  rollBackWithScript,
} from "./skill-support.js";

const name = "server.permission_change";

const params = z
  .strictObject({
    /** Absolute paths to change on every selected host. */
    paths: z.array(z.string().startsWith("/", "expected an absolute path")).min(1).optional(),
    /** A discovered service whose open files are changed instead of `paths`. */
    service: z.string().min(1).optional(),
    /** Octal mode to set. */
    mode: z
      .string()
      .regex(/^[0-7]{3,4}$/, 'expected an octal mode such as "000" or "0440"')
      .default("000"),
    /** At most this many files per host (for `service`). */
    max_paths: z.number().int().positive().default(20),
  })
  .refine((value) => (value.paths === undefined) !== (value.service === undefined), "expected exactly one of `paths` or `service`");

type Params = z.output<typeof params>;

interface PathTarget {
  [key: string]: JsonValue;
  host: string;
  path: string;
  mode: string;
  uid: number;
  gid: number;
}

export interface PermissionChangeUndo extends HostUndo {
  /** Resolved (symlink-free) path that was changed. */
  path: string;
  /** Mode as `stat -c %a` prints it. */
  originalMode: string;
  uid: number;
  gid: number;
  appliedMode: string;
}

/** A mode as `stat -c %a` prints it ("000" → "0", "0644" → "644"). */
export function normalizeMode(mode: string): string {
  return Number.parseInt(mode, 8).toString(8);
}

function undoScript(undo: PermissionChangeUndo): string {
  const path = shellQuote(undo.path);
  return `if ! chaos_stat=$(stat -c '%a %u %g' -- ${path} 2>/dev/null); then echo ${shellQuote(`note: ${undo.path} no longer exists`)}; exit 0; fi
set -- $chaos_stat
if [ "$1" = ${shellQuote(undo.appliedMode)} ]; then
  [ "$2:$3" = ${shellQuote(`${undo.uid}:${undo.gid}`)} ] || chown ${undo.uid}:${undo.gid} -- ${path}
  chmod ${shellQuote(undo.originalMode)} -- ${path}
  echo ${shellQuote(`note: restored ${undo.path} to ${undo.originalMode}`)}
elif [ "$1" = ${shellQuote(undo.originalMode)} ]; then
  echo ${shellQuote(`note: ${undo.path} already had mode ${undo.originalMode}`)}
else
  echo "conflict: ${undo.path.replace(/[\\"$`]/g, "\\$&")} has mode $1 now (chaos set ${undo.appliedMode}, it was ${undo.originalMode}); left alone"
fi`;
}

/** Resolves and stats paths on one host: `resolved<TAB>mode uid gid type` per path, or `missing<TAB>path`. */
async function statPaths(host: ServerHost, paths: string[]): Promise<PathTarget[]> {
  const output = await runSkillScript(
    name,
    host.connection,
    "reading file modes",
    `for chaos_path in ${commandLine(paths)}; do
  if chaos_real=$(readlink -e -- "$chaos_path") && chaos_stat=$(stat -c '%a %u %g' -- "$chaos_real"); then printf 'ok\\t%s\\t%s\\n' "$chaos_real" "$chaos_stat"
  else printf 'missing\\t%s\\n' "$chaos_path"; fi
done`,
  );
  return output
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [status, path = "", stat = ""] = line.split("\t");
      if (status !== "ok") refuse(name, `${path} does not exist on ${host.key}`);
      const [mode = "", uid, gid] = stat.split(" ");
      return { host: host.key, path, mode, uid: Number(uid), gid: Number(gid) };
    });
}

export const serverPermissionChange = defineSkill<Params, ServerSession, PermissionChangeUndo>({
  name,
  target: "server",
  description:
    "chmod files (default 000): explicit `paths` or the files a discovered `service` uses; rollback restores the exact mode and owner.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory, session }) {
    const wanted = new Map<string, string[]>();
    if (parameters.paths) {
      for (const host of hostsIn(inventory)) wanted.set(host, parameters.paths);
    } else {
      const services = resourcesOf(inventory, "service").filter((resource) => resource.details?.name === parameters.service);
      if (services.length === 0) refuse(name, `no discovered service is named ${parameters.service}`);
      for (const service of services) {
        const files = resourcesOf(inventory, "path")
          .filter((resource) => hostOf(resource) === hostOf(service) && resource.details?.service === parameters.service)
          .map((resource) => String(resource.details?.path))
          .slice(0, parameters.max_paths);
        if (files.length === 0) refuse(name, `service ${parameters.service} on ${hostOf(service)} has no open files chaos may change`);
        wanted.set(hostOf(service), files);
      }
    }
    if (wanted.size === 0) refuse(name, "no host is selected (check resource_filters)");
    const targets = (await forEachTarget(session, [...wanted], ([host, paths]) => statPaths(session.host(host), paths))).flat();
    for (const target of targets) {
      // Checked on the resolved path: a symlink must not smuggle /etc/shadow in.
      if (isCriticalPath(target.path, [session.config.work_dir]))
        refuse(name, `${target.path} on ${target.host} is a protected system path`);
    }
    return {
      targets: targets.map((target) => `${target.host}/path:${target.path}`),
      summary: `chmod ${parameters.mode} ${targets.map((target) => `${target.host}:${target.path} (now ${target.mode})`).join(", ")}`,
      details: { targets },
    };
  },
  async inject(context) {
    const targets = (context.plan.details as { targets: PathTarget[] }).targets;
    const appliedMode = normalizeMode(context.params.mode);
    const changed = await forEachTarget(context.session, targets, async (target) => {
      const undo: PermissionChangeUndo = {
        host: target.host,
        deadManKey: newDeadManKey(),
        path: target.path,
        originalMode: target.mode,
        uid: target.uid,
        gid: target.gid,
        appliedMode,
      };
      await journalAndArm(context, undo, undoScript(undo));
      await runSkillScript(
        name,
        context.session.host(target.host).connection,
        `chmod ${target.path}`,
        `chmod ${shellQuote(context.params.mode)} -- ${shellQuote(target.path)}`,
      );
      return `${target.host}:${target.path}`;
    });
    return { summary: `chmod ${context.params.mode} on ${changed.join(", ")}` };
  },
  rollback: (context, undo) => rollBackWithScript(context, undo, `restoring the mode of ${undo.path}`, undoScript(undo)),
});
