import type { z } from "zod";
import type { Logger } from "./events/logger.js";

export const targetKinds = ["database", "kubernetes", "server"] as const;
export type TargetKind = (typeof targetKinds)[number];

/** One thing discovery found that a skill may act on. */
export interface Resource {
  /** What it is: "table", "service", "process", "mount", "pod"… */
  kind: string;
  /** The name `resource_filters` match against, unique within its kind (e.g. "public.users"). */
  name: string;
  /** Kind-specific facts the skills use (columns, PID, mount point…). */
  details?: Record<string, unknown>;
}

/** Everything discovery found on a target. */
export interface Inventory {
  resources: Resource[];
  /** Facts about the target as a whole (server version, init system…). */
  facts?: Record<string, unknown>;
}

/** An open connection to one target, handed to every skill of the experiment. */
export interface TargetSession {
  /** The connected target, without secrets, e.g. `postgres://app@db:5432/shop`. */
  readonly identity: string;
  /** Reads what is there; never changes anything. */
  discover(): Promise<Inventory>;
  close(): Promise<void>;
}

export interface ConnectContext {
  experimentId: string;
  log: Logger;
}

/**
 * A kind of infrastructure chaos can act on. Each target package exports one
 * (`createDatabaseTarget()`…); its skills are registered beside it.
 */
export interface Target<Config = unknown, Session extends TargetSession = TargetSession> {
  kind: TargetKind;
  /** zod schema of `target_config`; feeds validation and `chaos schema`. */
  configSchema: z.ZodType<Config>;
  /** The identity of the target a config names, without connecting and without secrets. */
  identify(config: Config): string;
  connect(config: Config, context: ConnectContext): Promise<Session>;
  /**
   * Removes anything tagged with the experiment id that the journal may not know of
   * (files under a chaos-owned directory, labelled objects, tagged processes).
   * Called by `chaos recover` after the journal's steps; must be idempotent.
   */
  sweep?(session: Session, experimentId: string): Promise<string[]>;
}
