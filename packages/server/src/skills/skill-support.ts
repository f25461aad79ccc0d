import { randomBytes } from "node:crypto";
import {
  type InjectContext,
  type Inventory,
  type JsonValue,
  parseDuration,
  type Resource,
  type RollbackContext,
  type RollbackResult,
  SkillError,
} from "@chaos-agents/core";
import { z } from "zod";
import { mapWithLimit } from "../concurrency.js";
import { armDeadMan, disarmDeadMan } from "../host/dead-man-switch.js";
import { runScript } from "../host/host-script.js";
import type { ServerSession } from "../server-session.js";
import { parseSize } from "../size.js";
import type { ExecOptions } from "../transports/host-connection.js";

/** Fields every server undo record carries: which host, and which dead-man script is its twin there. */
export interface HostUndo {
  [key: string]: JsonValue;
  host: string;
  /** Names the fault's undo script on the host (sortable by time, so the timer runs newest first). */
  deadManKey: string;
}

/** A new dead-man key: time first so `ls -r` lists the newest fault first. */
export function newDeadManKey(): string {
  return `${Date.now().toString().padStart(15, "0")}-${randomBytes(4).toString("hex")}`;
}

/** "5GB", "512MiB", or a number of bytes. */
export const sizeText = () =>
  z
    .union([z.string(), z.number()])
    .refine((value) => parseSize(value) !== undefined, 'expected a size such as "512MB", "5GiB" or a number of bytes');

/** Resources of one kind, grouped by host. */
export function resourcesOf(inventory: Inventory, kind: string): Resource[] {
  return inventory.resources.filter((resource) => resource.kind === kind);
}

export function hostOf(resource: Resource): string {
  return String(resource.details?.host ?? "");
}

/** Hosts the inventory still holds after `resource_filters`. */
export function hostsIn(inventory: Inventory): string[] {
  return resourcesOf(inventory, "host").map(hostOf);
}

/**
 * Socket owner claims discovery refused on these hosts (a process name forged `ss -p`'s list),
 * each prefixed with its host, for plans and refusals to name; `port` keeps only that port's.
 */
export function refusedOwnerClaims(inventory: Inventory, hosts: readonly string[], port?: number): string[] {
  return resourcesOf(inventory, "host")
    .filter((resource) => hosts.includes(hostOf(resource)))
    .flatMap((resource) =>
      ((resource.details?.refusedOwners as string[] | undefined) ?? [])
        .filter((claim) => port === undefined || claim.includes(` of port ${port},`))
        .map((claim) => `${hostOf(resource)}: ${claim}`),
    );
}

/** "; LABEL: a; b" when there is anything to name, "" otherwise. */
export function refusedSuffix(label: string, refused: readonly string[]): string {
  return refused.length ? `; ${label}: ${refused.join("; ")}` : "";
}

/** The selected hosts of a host-wide skill; refuses when `resource_filters` left none. */
export function selectedHosts(skill: string, inventory: Inventory): string[] {
  const hosts = hostsIn(inventory);
  if (hosts.length === 0) refuse(skill, "no host is selected (check resource_filters)");
  return hosts;
}

/** Turns a refusal into the SkillError of `skill`, so plan() reports what is wrong before anything changes. */
export function refuse(skill: string, message: string): never {
  throw new SkillError(skill, message);
}

/**
 * Write-ahead for one host-level change: the journal first (durable when it returns), then
 * the same undo as a script on the host for the dead-man's switch; only then may the caller mutate.
 */
export async function journalAndArm<Params, Undo extends HostUndo>(
  context: InjectContext<Params, ServerSession>,
  undo: Undo,
  undoScript: string,
): Promise<void> {
  await context.journal.record(undo);
  const { dead_man_switch: deadMan } = context.session.config;
  const fireInMs = deadMan.enabled ? context.durationMs + graceMs(context.session) : undefined;
  await armDeadMan(context.session.host(undo.host), context.experimentId, undo.deadManKey, undoScript, fireInMs);
}

/**
 * Runs a fault's undo script on its host, then disarms its dead-man twin. Scripts print
 * `conflict: …` for what someone else changed since (left alone) and `note: …` for the report.
 */
export async function rollBackWithScript(
  context: RollbackContext<ServerSession>,
  undo: HostUndo,
  what: string,
  undoScript: string,
  options: ExecOptions = {},
): Promise<RollbackResult> {
  const host = context.session.host(undo.host);
  const output = await runScript(host.connection, what, undoScript, options);
  await disarmDeadMan(host, context.experimentId, undo.deadManKey);
  const conflicts: string[] = [];
  const notes: string[] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith("conflict: ")) conflicts.push(`${undo.host}: ${line.slice(10)}`);
    else if (line.startsWith("note: ")) notes.push(line.slice(6));
  }
  return { summary: notes.length ? `${undo.host}: ${notes.join("; ")}` : undefined, conflicts: conflicts.length ? conflicts : undefined };
}

/** The dead-man's grace period of the session, in milliseconds. */
function graceMs(session: ServerSession): number {
  return parseDuration(session.config.dead_man_switch.grace) ?? 300_000;
}

/** Loads stop themselves this many seconds after injection (hold + grace), even with nobody left to stop them. */
export function selfStopSeconds(context: { durationMs: number; session: ServerSession }): number {
  return Math.ceil((context.durationMs + graceMs(context.session)) / 1000);
}

/** Runs `work` for each target, several hosts at once (up to `max_concurrent_hosts`). */
export function forEachTarget<Target, Result>(
  session: ServerSession,
  targets: readonly Target[],
  work: (target: Target) => Promise<Result>,
) {
  return mapWithLimit(targets, session.config.max_concurrent_hosts, work);
}
