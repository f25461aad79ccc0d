import { cordonedByLabel } from "../kubernetes-labels.js";
import type { KubernetesSession } from "../kubernetes-session.js";

const labelPointer = `/metadata/labels/${cordonedByLabel.replace("/", "~1")}`;

/** Cordons a node and labels it with the experiment id in one patch, so a sweep can find what chaos cordoned. */
export async function cordonNode(session: KubernetesSession, node: string, experimentId: string): Promise<void> {
  await session.clients.core.patchNode(
    { name: node, body: { metadata: { labels: { [cordonedByLabel]: experimentId } }, spec: { unschedulable: true } } },
    session.clients.patchAs.strategicMerge,
  );
}

/**
 * Uncordons a node only while it still carries this experiment's label (a JSON patch whose
 * `test` fails otherwise, atomically on the server); returns false when the label is not ours.
 */
export async function uncordonIfOurs(session: KubernetesSession, node: string, experimentId: string): Promise<boolean> {
  const current = await session.clients.core.readNode({ name: node });
  if (current.metadata?.labels?.[cordonedByLabel] !== experimentId) return false;
  await session.clients.core.patchNode(
    {
      name: node,
      body: [
        { op: "test", path: labelPointer, value: experimentId },
        { op: "remove", path: labelPointer },
        { op: "add", path: "/spec/unschedulable", value: false },
      ],
    },
    session.clients.patchAs.json,
  );
  return true;
}
