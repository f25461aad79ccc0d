import { defineSkill, type JsonValue } from "@chaos-agents/core";
import { z } from "zod";
import type { MountRow } from "../discovery/parse-host-tables.js";
import { runSkillScript } from "../host/host-script.js";
import type { ServerHost } from "../host/server-host.js";
import type { ServerSession } from "../server-session.js";
import { shellQuote } from "../shell-quote.js";
import { formatSize, parseSize } from "../size.js";
import { defaultExecTimeoutMs } from "../transports/host-connection.js";
import {
  forEachTarget,
  type HostUndo,
  hostOf,
  journalAndArm,
  newDeadManKey,
  refuse,
  resourcesOf,
  rollBackWithScript,
  sizeText,
} from "./skill-support.js";

const name = "server.disk_fill";

const params = z
  .strictObject({
    target_mount: z
      .string()
      .startsWith("/", "expected an absolute mount point such as /var")
      .describe("Mount point to fill, as discovery lists it."),
    size: sizeText().optional().describe("How much to write."),
    percent: z
      .number()
      .min(1, "expected a percentage between 1 and 100")
      .max(100, "expected a percentage between 1 and 100")
      .optional()
      .describe("Fill until the filesystem is this full (percent of its size)."),
    keep_free: z
      .union([z.string(), z.number()])
      .refine(
        (value) => /^\d+(\.\d+)?%$/.test(String(value)) || parseSize(value) !== undefined,
        'expected a size ("200MB") or a percentage ("2%")',
      )
      .default("2%")
      .describe('Free space always left: a size ("200MB") or a share of the filesystem ("2%").'),
  })
  .refine((value) => (value.size === undefined) !== (value.percent === undefined), "expected exactly one of `size` or `percent`");

type Params = z.output<typeof params>;

interface FillTarget {
  [key: string]: JsonValue;
  host: string;
  mountPoint: string;
  bytes: number;
  floorBytes: number;
}

export interface DiskFillUndo extends HostUndo {
  mountPoint: string;
  /** Chaos-owned directory on the filled filesystem, named with the experiment id. */
  directory: string;
  file: string;
}

function floorOf(keepFree: string | number, mount: MountRow): number {
  const text = String(keepFree);
  return text.endsWith("%") ? Math.ceil((mount.sizeBytes * Number(text.slice(0, -1))) / 100) : (parseSize(keepFree) ?? 0);
}

/** Bytes to write on one mount, never eating into the free-space floor. */
export function fillBytes(parameters: Params, mount: MountRow): { bytes: number; floorBytes: number; clamped: boolean } {
  const floorBytes = floorOf(parameters.keep_free, mount);
  const room = mount.availableBytes - floorBytes;
  const wanted =
    parameters.size !== undefined
      ? (parseSize(parameters.size) ?? 0)
      : Math.ceil((mount.sizeBytes * (parameters.percent ?? 0)) / 100) - mount.usedBytes;
  return { bytes: Math.max(0, Math.min(wanted, room)), floorBytes, clamped: wanted > room };
}

function undoScript(undo: DiskFillUndo): string {
  // Only inside chaos's own fill directory: never one swapped in for it.
  return `if chaos_own_directory ${shellQuote(undo.directory)}; then
  if [ -e ${shellQuote(undo.file)} ]; then rm -f ${shellQuote(undo.file)} && echo ${shellQuote(`note: removed ${undo.file}`)}; else echo ${shellQuote(`note: ${undo.file} was already gone`)}; fi
  rmdir ${shellQuote(undo.directory)} 2>/dev/null
elif [ -e ${shellQuote(undo.directory)} ] || [ -L ${shellQuote(undo.directory)} ]; then
  echo ${shellQuote(`conflict: ${undo.directory} is no longer chaos's directory (another owner, or a symlink); left alone`)}
else echo ${shellQuote(`note: ${undo.file} was already gone`)}; fi
true`;
}

/**
 * Refuses a mount whose top directory others can write without the sticky bit: they could
 * rename chaos's fill directory and put a symlink in its place before the undo runs.
 */
async function checkMountRoot(host: ServerHost, mountPoint: string): Promise<void> {
  const output = await runSkillScript(name, host.connection, `checking ${mountPoint}`, `stat -L -c '%u %a' -- ${shellQuote(mountPoint)}`);
  const [owner = "", mode = ""] = output.trim().split(" ");
  const bits = Number.parseInt(mode, 8);
  if (!/^\d+$/.test(owner) || Number.isNaN(bits)) refuse(name, `cannot read the owner and mode of ${mountPoint} on ${host.key}`);
  if ((bits & 0o022) !== 0 && (bits & 0o1000) === 0)
    refuse(
      name,
      `${host.key}:${mountPoint} is writable by group or others without the sticky bit (mode ${mode}): they could swap chaos's fill directory for a symlink. Fill another mount, or set the sticky bit`,
    );
}

export const serverDiskFill = defineSkill<Params, ServerSession, DiskFillUndo>({
  name,
  target: "server",
  description: "Fill a filesystem with one file (size or percent), always keeping a free-space floor; rollback removes the file.",
  params,
  reversible: true,
  async plan({ params: parameters, inventory, session }) {
    const mounts = resourcesOf(inventory, "mount").filter((resource) => resource.details?.mountPoint === parameters.target_mount);
    if (mounts.length === 0) {
      const known = [...new Set(resourcesOf(inventory, "mount").map((resource) => String(resource.details?.mountPoint)))];
      const refused = resourcesOf(inventory, "host").flatMap((host) => (host.details?.refusedMounts as string[] | undefined) ?? []);
      refuse(
        name,
        `no discovered filesystem is mounted at ${parameters.target_mount} (mounts: ${known.join(", ") || "none"}${refused.length ? `; refused: ${refused.join(", ")}` : ""})`,
      );
    }
    const targets: FillTarget[] = mounts.map((resource) => {
      const mount = resource.details as unknown as MountRow;
      const { bytes, floorBytes } = fillBytes(parameters, mount);
      if (bytes <= 0) {
        refuse(
          name,
          `${hostOf(resource)}:${mount.mountPoint} has ${formatSize(mount.availableBytes)} free; the free-space floor of ${formatSize(floorBytes)} leaves nothing to fill`,
        );
      }
      return { host: hostOf(resource), mountPoint: mount.mountPoint, bytes, floorBytes };
    });
    await forEachTarget(session, targets, (target) => checkMountRoot(session.host(target.host), target.mountPoint));
    return {
      targets: mounts.map((resource) => resource.name),
      summary: `fill ${targets.map((target) => `${target.host}:${target.mountPoint} with ${formatSize(target.bytes)}`).join(", ")} (floor kept free)`,
      details: { targets },
    };
  },
  async inject(context) {
    const targets = (context.plan.details as { targets: FillTarget[] }).targets;
    const written = await forEachTarget(context.session, targets, async (target) => {
      const host = context.session.host(target.host);
      const directory = `${target.mountPoint.replace(/\/$/, "")}/.chaos-agents-${context.experimentId}`;
      const deadManKey = newDeadManKey();
      const undo: DiskFillUndo = {
        host: target.host,
        deadManKey,
        mountPoint: target.mountPoint,
        directory,
        file: `${directory}/fill-${deadManKey}.bin`,
      };
      await journalAndArm(context, undo, undoScript(undo));
      // Free space is measured again here: it may have shrunk since planning, and the floor must hold.
      const output = await runSkillScript(
        name,
        host.connection,
        `filling ${target.mountPoint}`,
        `chaos_available=$(df -Pk ${shellQuote(target.mountPoint)} | awk 'NR==2 {print $4}')
chaos_bytes=$(( chaos_available * 1024 - ${target.floorBytes} ))
[ "$chaos_bytes" -gt ${target.bytes} ] && chaos_bytes=${target.bytes}
if [ "$chaos_bytes" -le 0 ]; then echo 0; exit 0; fi
# Created here or reused only when it is chaos's own: never a directory someone else put there.
(umask 077; mkdir ${shellQuote(directory)} 2>/dev/null)
chaos_own_directory ${shellQuote(directory)} || { echo ${shellQuote(`${directory} exists and is not chaos's own directory; refusing to write there`)} >&2; exit 1; }
chaos_bytes=$(( chaos_bytes / 4096 * 4096 ))
if ! fallocate -l "$chaos_bytes" ${shellQuote(undo.file)} 2>/dev/null; then
  dd if=/dev/zero of=${shellQuote(undo.file)} bs=4096 count=$(( chaos_bytes / 4096 )) 2>/dev/null || { rm -f ${shellQuote(undo.file)}; exit 1; }
fi
echo "$chaos_bytes"`,
        { timeoutMs: fillDeadlineMs(target.bytes) },
      );
      return `${target.host}:${target.mountPoint} +${formatSize(Number(output.trim()))}`;
    });
    return { summary: `filled ${written.join(", ")}` };
  },
  rollback: (context, undo) => rollBackWithScript(context, undo, `removing ${undo.file}`, undoScript(undo)),
});

/**
 * How long the fill may take. Where fallocate is not supported, dd writes every byte: at a slow
 * disk's 20 MiB/s a large fill takes minutes, and a command past its deadline is killed.
 */
export function fillDeadlineMs(bytes: number): number {
  return Math.max(defaultExecTimeoutMs, Math.ceil(bytes / (20 * 1024 ** 2)) * 1000);
}
