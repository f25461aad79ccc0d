/** Consecutive integer keys `first … last` (inclusive), as text so any size stays exact. */
export type KeyRun = [first: string, last: string];

/**
 * Collects the values of a single integer key column as runs of consecutive integers. Keys
 * chaos counts up itself arrive in order, so a batch of 10,000 journals as one pair instead
 * of 10,000 arrays. A value that is not a plain safe integer becomes a run of its own, exactly
 * as written.
 */
export class KeyRunCollector {
  readonly runs: KeyRun[] = [];
  private first = "";
  private last = Number.NaN;

  /** How many keys were added. */
  get count(): number {
    return runLength(this.runs) + (Number.isNaN(this.last) ? 0 : this.last - Number(this.first) + 1);
  }

  add(text: string): void {
    const value = Number(text);
    if (value === this.last + 1 && Number.isSafeInteger(value)) {
      this.last = value;
      return;
    }
    this.flush();
    if (Number.isSafeInteger(value) && String(value) === text) {
      this.first = text;
      this.last = value;
    } else this.runs.push([text, text]);
  }

  /** The runs so far, the open one included. */
  finish(): KeyRun[] {
    this.flush();
    return this.runs;
  }

  private flush(): void {
    if (Number.isNaN(this.last)) return;
    this.runs.push([this.first, String(this.last)]);
    this.last = Number.NaN;
  }
}

/** Every key of the runs, in order, as one-column key tuples. */
export function* expandRuns(runs: readonly KeyRun[]): Generator<string[]> {
  for (const [first, last] of runs) {
    if (first === last) {
      yield [first];
      continue;
    }
    for (let value = Number(first); value <= Number(last); value++) yield [String(value)];
  }
}

/** How many keys the runs hold. */
export function runLength(runs: readonly KeyRun[]): number {
  return runs.reduce((sum, [first, last]) => sum + (first === last ? 1 : Number(last) - Number(first) + 1), 0);
}
