/** Collects durations and summarises them as p50/p95/p99 in milliseconds. */
export class LatencyRecorder {
  private readonly samples: number[] = [];

  record(milliseconds: number): void {
    this.samples.push(milliseconds);
  }

  get count(): number {
    return this.samples.length;
  }

  percentiles(prefix = "latency"): Record<string, number> {
    if (this.samples.length === 0) return {};
    const sorted = [...this.samples].sort((left, right) => left - right);
    const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
    return {
      [`${prefix}_p50_ms`]: round(at(0.5)),
      [`${prefix}_p95_ms`]: round(at(0.95)),
      [`${prefix}_p99_ms`]: round(at(0.99)),
    };
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
