export { type ApplicationSession, openApplicationSession } from "./application-session.js";
export { asAttacker, attackerUid, fileState, makeAttackerPlayground, processAlive, processIdentity } from "./attacker.js";
export {
  type CrashSkill,
  crashExperimentYaml,
  crashSettings,
  crashSkillEntry,
  crashSkills,
  readCrashSettings,
  restoreCrashSettings,
} from "./database-crash-scenarios.js";
export {
  type DatabaseExperimentOptions,
  databaseRegistry,
  databaseState,
  runDatabaseExperiment,
  withDatabaseSession,
} from "./database-experiment.js";
export { startForgedNameListener, startRootBystander, type TestProcess } from "./forged-name-listener.js";
export { freePort } from "./free-port.js";
export {
  addDeployment,
  addNamespace,
  addNode,
  addPodDisruptionBudget,
  seedSandboxCluster,
  stockCorefile,
} from "./kubernetes/cluster-fixtures.js";
export type { KubeObject } from "./kubernetes/selectors.js";
export { type KubernetesApiServer, type KubernetesApiServerOptions, startKubernetesApiServer } from "./kubernetes-api-server.js";
export { clusterState } from "./kubernetes-cluster-state.js";
export { createNetworkNamespace, type NetworkNamespace, networkNamespacesWork } from "./network-namespace.js";
export { pathWithout } from "./path-without.js";
export { createRecordingTarget, newWorld, type RecordingFaults, type RecordingWorld } from "./recording-target.js";
export { type ChaosProcess, type ChaosResult, chaosBinary, runChaos, startChaos } from "./run-chaos.js";
export { runCommand } from "./run-command.js";
export { runInProcess, runWhileWatching } from "./run-in-process.js";
export {
  type LlmProtocol,
  providerEnvironment,
  type RecordedRequest,
  type ScriptedLlmServer,
  type ScriptedReply,
  type ScriptedToolCall,
  startScriptedLlmServer,
} from "./scripted-llm-server.js";
export { type SshTestbed, startSshTestbed } from "./ssh-testbed.js";
export { generateKey, type SshdHost, type SshdHostOptions, startSshdHost } from "./sshd-host.js";
export { makeTempDirectory } from "./temp-directory.js";
export {
  chaosProcessesOf,
  collectExperimentIds,
  environmentOf,
  executableOf,
  pidsNamed,
  startTestDaemon,
  type TestDaemon,
} from "./test-daemon.js";
export { createParentsTable, createTestDatabase, serverUrls, type TestDatabase, type TestDatabaseKind } from "./test-database.js";
export {
  accountState,
  createTransferTables,
  expectedBalances,
  type RunningWorkload,
  startTransferWorkload,
  transferSchema,
  type WorkloadResult,
} from "./transfer-workload.js";
export { type TestDatabases, useTestDatabases } from "./use-test-databases.js";
