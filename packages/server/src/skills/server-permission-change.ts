import { defineSkill, type JsonValue } from "@chaos-agents/core";
import { z } from "zod";
import { isCriticalPath } from "../discovery/critical-paths.js";
import {
  changeModeCommand,
  describeUnsafePath,
  describeUntrustedLink,
  type FileIdentity,
  parseFileStats,
  statFilesCommand,
} from "../host/file-identity.js";
import { describeRefusal } from "../host/host-names.js";
import { runSkillScript } from "../host/host-script.js";
import type { ServerHost } from "../host/server-host.js";
import type { ServerSession } from "../server-session.js";
import { shellQuote } from "../shell-quote.js";
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
    paths: z
      .array(z.string().startsWith("/", "expected an absolute path"))
      .min(1)
      .optional()
      .describe("Absolute paths to change on every selected host."),
    service: z.string().min(1).optional().describe("A discovered service whose open files are changed instead of `paths`."),
    mode: z
      .string()
      .regex(/^[0-7]{3,4}$/, 'expected an octal mode such as "000" or "0440"')
      .default("000")
      .describe("Octal mode to set."),
    max_paths: z.number().int().positive().default(20).describe("At most this many files per host (for `service`)."),
  })
  .refine((value) => (value.paths === undefined) !== (value.service === undefined), "expected exactly one of `paths` or `service`");

type Params = z.output<typeof params>;

/** One file to change on one host, as planned. */
interface PathTarget extends Omit<FileIdentity, "type"> {
  [key: string]: JsonValue;
  host: string;
}

export interface PermissionChangeUndo extends HostUndo {
  /** Resolved (symlink-free) path that was changed. */
  path: string;
  /** Device and inode of the file at injection: the undo changes that file only (missing in records of older versions). */
  device: string;
  inode: string;
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

/** Prints `prefix`, the second word of the perl result (a mode), then `suffix`: the path never passes through the host's output. */
function echoWithMode(prefix: string, suffix: string): string {
  return `printf '%s%s%s\\n' ${shellQuote(prefix)} "\${chaos_result#other }" ${shellQuote(suffix)}`;
}

function undoScript(undo: PermissionChangeUndo): string {
  if (typeof undo.device !== "string" || typeof undo.inode !== "string") {
    return `echo ${shellQuote(`conflict: ${undo.path} was journaled without its device and inode (by an older chaos); check its mode (was ${undo.originalMode}, chaos set ${undo.appliedMode}) by hand`)}`;
  }
  const file = { path: undo.path, device: undo.device, inode: undo.inode };
  return `chaos_result=$(${changeModeCommand(file, undo.appliedMode, undo.originalMode, { uid: undo.uid, gid: undo.gid })})
case "$chaos_result" in
  changed) echo ${shellQuote(`note: restored ${undo.path} to ${undo.originalMode}`)} ;;
  already) echo ${shellQuote(`note: ${undo.path} already had mode ${undo.originalMode}`)} ;;
  missing) echo ${shellQuote(`note: ${undo.path} no longer exists`)} ;;
  replaced) echo ${shellQuote(`conflict: ${undo.path} is no longer the file chaos changed (replaced, or a symlink or a moved directory on its way); left alone`)} ;;
  unsafe) echo ${shellQuote(`conflict: ${undo.path} has a directory on its way that users other than root can now write, and this host has no perl to restore it through a no-follow descriptor; left alone (was ${undo.originalMode}, chaos set ${undo.appliedMode})`)} ;;
  "other "*) ${echoWithMode(`conflict: ${undo.path} has mode `, ` now (chaos set ${undo.appliedMode}, it was ${undo.originalMode}); left alone`)} ;;
  *) echo ${shellQuote(`restoring ${undo.path}: `)}"$chaos_result" >&2; exit 1 ;;
esac`;
}

/**
 * Resolves and identifies paths on one host; refuses missing paths, names chaos will not act on,
 * and, on a host without perl, paths whose directories users other than root can write. With
 * `leftOut` (a service's files, which the experiment did not name one by one), such a path is
 * left out and described there instead, unless none is left.
 */
async function statPaths(host: ServerHost, paths: string[], leftOut?: string[]): Promise<PathTarget[]> {
  const output = await runSkillScript(name, host.connection, "reading file modes", statFilesCommand(paths));
  const targets: PathTarget[] = [];
  const unsafe: string[] = [];
  for (const result of parseFileStats(output)) {
    if (result.status === "missing") refuse(name, `${result.given} does not exist on ${host.key}`);
    if (result.status === "refused") refuse(name, `${host.key}: the path ${describeRefusal(result.name)}; refusing to act on it`);
    if (result.status === "untrusted") refuse(name, describeUntrustedLink(host.key, result));
    if (result.status === "unsafe") {
      if (!leftOut) refuse(name, describeUnsafePath(host.key, result));
      unsafe.push(describeUnsafePath(host.key, result));
      continue;
    }
    const { path, mode, uid, gid, device, inode } = result.file;
    targets.push({ host: host.key, path, mode, uid, gid, device, inode });
  }
  if (unsafe.length && targets.length === 0) refuse(name, `none of the files on ${host.key} may be changed: ${unsafe.join("; ")}`);
  leftOut?.push(...unsafe);
  return targets;
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
    /** Open files of the service that chaos will not touch because of their names; the plan names them. */
    const refusedNames: string[] = [];
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
        const refused = (service.details?.refusedFiles as string[] | undefined) ?? [];
        if (refused.length) refusedNames.push(...refused.map((file) => `${hostOf(service)}: ${file}`));
        if (files.length === 0)
          refuse(
            name,
            `service ${parameters.service} on ${hostOf(service)} has no open files chaos may change${refused.length ? ` (refused: ${refused.join(", ")})` : ""}`,
          );
        wanted.set(hostOf(service), files);
      }
    }
    if (wanted.size === 0) refuse(name, "no host is selected (check resource_filters)");
    const leftOut = parameters.service ? refusedNames : undefined;
    const targets = (await forEachTarget(session, [...wanted], ([host, paths]) => statPaths(session.host(host), paths, leftOut))).flat();
    for (const target of targets) {
      // Checked on the resolved path: a symlink must not smuggle /etc/shadow in.
      if (isCriticalPath(target.path, [session.config.work_dir]))
        refuse(name, `${target.path} on ${target.host} is a protected system path`);
    }
    return {
      targets: targets.map((target) => `${target.host}/path:${target.path}`),
      summary: `chmod ${parameters.mode} ${targets.map((target) => `${target.host}:${target.path} (now ${target.mode})`).join(", ")}${refusedNames.length ? `; refused (files chaos will not act on): ${refusedNames.join(", ")}` : ""}`,
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
        device: target.device,
        inode: target.inode,
        originalMode: target.mode,
        uid: target.uid,
        gid: target.gid,
        appliedMode,
      };
      await journalAndArm(context, undo, undoScript(undo));
      // Only while it is still the file planned, with the mode planned: the undo would otherwise restore the wrong thing.
      const result = await runSkillScript(
        name,
        context.session.host(target.host).connection,
        `chmod ${target.path}`,
        changeModeCommand(target, target.mode, appliedMode, { uid: target.uid, gid: target.gid }),
      );
      const word = result.trim();
      if (word === "unsafe")
        refuse(
          name,
          `${target.host}:${target.path}: a directory on its way became writable by other users since planning, and the host has no perl; left alone`,
        );
      if (word !== "changed" && !(word === "already" && target.mode === appliedMode))
        refuse(name, `${target.host}:${target.path} changed since planning (${word}); left alone`);
      return `${target.host}:${target.path}`;
    });
    return { summary: `chmod ${context.params.mode} on ${changed.join(", ")}` };
  },
  rollback: (context, undo) => rollBackWithScript(context, undo, `restoring the mode of ${undo.path}`, undoScript(undo)),
});
