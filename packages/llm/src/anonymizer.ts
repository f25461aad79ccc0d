import type { Inventory } from "@chaos-agents/core";

/**
 * Replaces discovered names by neutral tokens (`table_1`, `service_2`…) before anything leaves the
 * machine, and maps them back in what the model proposes. Details that are text (column names,
 * commands, paths) are dropped; numbers and flags stay, so the model can still judge sizes.
 */
export class Anonymizer {
  private readonly tokens = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  /** The inventory as the model may see it. */
  inventory(inventory: Inventory): Inventory {
    return {
      facts: numbersOnly(inventory.facts ?? {}),
      resources: inventory.resources.map((resource) => ({
        kind: resource.kind,
        name: this.tokenFor(resource.kind, resource.name),
        details: resource.details && numbersOnly(resource.details),
      })),
    };
  }

  /** Text for the model: every known name replaced by its token (longest names first). */
  hide(text: string): string {
    let hidden = text;
    for (const [name, token] of [...this.tokens].sort((left, right) => right[0].length - left[0].length)) {
      hidden = hidden.split(name).join(token);
    }
    return hidden;
  }

  /** A value from the model with every token that stands alone in a string mapped back to its name. */
  reveal<T>(value: T): T {
    if (typeof value === "string")
      return (this.names.get(value) ?? value.replace(/\b[a-z]+_\d+\b/g, (token) => this.names.get(token) ?? token)) as T;
    if (Array.isArray(value)) return value.map((item) => this.reveal(item)) as T;
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, this.reveal(inner)])) as T;
    }
    return value;
  }

  private tokenFor(kind: string, name: string): string {
    let token = this.tokens.get(name);
    if (!token) {
      const count = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, count);
      token = `${kind.replace(/\W/g, "_").toLowerCase()}_${count}`;
      this.tokens.set(name, token);
      this.names.set(token, name);
      // A table is also named without its schema (`customers` for `public.customers`).
      const short = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : undefined;
      if (short && !this.tokens.has(short)) this.tokens.set(short, token);
    }
    return token;
  }
}

function numbersOnly(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => typeof value === "number" || typeof value === "boolean"));
}
