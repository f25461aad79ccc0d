import type { AnySkill } from "./skill.js";
import type { Target, TargetKind, TargetSession } from "./target.js";

// biome-ignore lint/suspicious/noExplicitAny: targets of every config type live together here.
export type AnyTarget = Target<any, TargetSession>;

/** The targets and skills one run knows: built-ins plus those from `plugins`. */
export class Registry {
  private readonly targets = new Map<TargetKind, AnyTarget>();
  private readonly skillsByName = new Map<string, AnySkill>();

  addTarget(target: AnyTarget, skills: AnySkill[] = []): this {
    this.targets.set(target.kind, target);
    for (const skill of skills) this.addSkill(skill);
    return this;
  }

  addSkill(skill: AnySkill): this {
    const existing = this.skillsByName.get(skill.name);
    if (existing === skill) return this; // the same plugin module, loaded again by another config
    if (existing) throw new Error(`skill ${skill.name} is registered twice`);
    this.skillsByName.set(skill.name, skill);
    return this;
  }

  target(kind: TargetKind): AnyTarget | undefined {
    return this.targets.get(kind);
  }

  skill(name: string): AnySkill | undefined {
    return this.skillsByName.get(name);
  }

  skills(target?: TargetKind): AnySkill[] {
    return [...this.skillsByName.values()]
      .filter((skill) => !target || skill.target === target)
      .sort((left, right) => left.name.localeCompare(right.name));
  }

  /** The registered name closest to a misspelt one, if any is close enough to be a typo. */
  suggestSkill(name: string): string | undefined {
    return closest(name, [...this.skillsByName.keys()]);
  }
}

/**
 * The candidate a misspelt or shortened word most likely meant: the nearest by edit distance
 * if it is close enough to be a typo, else the one candidate the word begins (`db.insert` for
 * `db.insert_load`).
 */
export function closest(word: string, candidates: string[]): string | undefined {
  return nearest(word, candidates) ?? onlyCompletion(word, candidates);
}

function onlyCompletion(word: string, candidates: string[]): string | undefined {
  const lower = word.toLowerCase();
  const completions = word.length >= 2 ? candidates.filter((candidate) => candidate.toLowerCase().startsWith(lower)) : [];
  return completions.length === 1 ? completions[0] : undefined;
}

function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row++) {
    const current = [row];
    for (let column = 1; column <= right.length; column++) {
      const substitution = (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current[column] = Math.min((previous[column] ?? 0) + 1, (current[column - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}
