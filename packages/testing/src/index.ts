export { createRecordingTarget, newWorld, type RecordingFaults, type RecordingWorld } from "./recording-target.js";
export { makeTempDirectory } from "./temp-directory.js";
export { type ChaosProcess, type ChaosResult, chaosBinary, runChaos, startChaos } from "./run-chaos.js";
