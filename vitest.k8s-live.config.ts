import { defineConfig } from "vitest/config";

/** `npm run test:k8s-live`: the Kubernetes scenarios against the cluster of KUBECONFIG; never part of `npm test`. */
export default defineConfig({
  test: {
    include: ["packages/kubernetes/src/**/*.live.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: 1,
    reporters: ["default"],
  },
});
