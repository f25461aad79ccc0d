import type { ExperimentOwner, ScheduledRunClaim, ScheduledRunClaimResult } from "./journal.js";

/** A claim row another scheduled run holds, as both stores read it. */
export interface HeldClaim {
  experimentName: string;
  scheduledAt: string;
  owner: ExperimentOwner;
}

const who = (owner: ExperimentOwner) => `process ${owner.pid} on ${owner.host}`;

/** Why a scheduled run cannot be claimed, worded the same whichever store refused it. */
export function claimRefusal(claim: ScheduledRunClaim, taken: HeldClaim | undefined, busy: HeldClaim | undefined): ScheduledRunClaimResult {
  if (taken)
    return { claimed: false, kind: "taken", reason: `the run scheduled at ${claim.scheduledAt} was claimed by ${who(taken.owner)}` };
  if (!busy) return { claimed: true };
  if (busy.experimentName === claim.experimentName) {
    return { claimed: false, kind: "overlap", reason: `its run scheduled at ${busy.scheduledAt} is still going in ${who(busy.owner)}` };
  }
  return {
    claimed: false,
    kind: "same_target",
    reason: `${busy.experimentName} (scheduled at ${busy.scheduledAt}) is running on the same target ${claim.identity} in ${who(busy.owner)}`,
  };
}
