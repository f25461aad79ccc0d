import type { AnySkill } from "@chaos-agents/core";
import { k8sDnsChaos } from "./skills/k8s-dns-chaos.js";
import { k8sNetworkChaos } from "./skills/k8s-network-chaos.js";
import { k8sNetworkPartition } from "./skills/k8s-network-partition.js";
import { k8sNodeDrain } from "./skills/k8s-node-drain.js";
import { k8sPodKill } from "./skills/k8s-pod-kill.js";
import { k8sResourceStress } from "./skills/k8s-resource-stress.js";

/** Every k8s.* skill, registered beside the kubernetes target. */
export const kubernetesSkills: AnySkill[] = [
  k8sPodKill,
  k8sNetworkChaos,
  k8sNodeDrain,
  k8sNetworkPartition,
  k8sDnsChaos,
  k8sResourceStress,
];
