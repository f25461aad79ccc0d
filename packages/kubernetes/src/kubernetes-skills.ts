import type { AnySkill } from "@chaos-agents/core";
import { k8sNetworkChaos } from "./skills/k8s-network-chaos.js";
import { k8sNodeDrain } from "./skills/k8s-node-drain.js";
import { k8sPodKill } from "./skills/k8s-pod-kill.js";

/** Every k8s.* skill, registered beside the kubernetes target. */
export const kubernetesSkills: AnySkill[] = [k8sPodKill, k8sNetworkChaos, k8sNodeDrain];
