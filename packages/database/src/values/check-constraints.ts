/** What generated values must satisfy for one column, as far as CHECK constraints could be read. */
export interface ColumnRules {
  min?: number;
  max?: number;
  /** The bound itself is not allowed. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  /** Only these values (IN (…), = ANY (ARRAY[…])). */
  choices?: string[];
  minLength?: number;
  maxLength?: number;
  /** Values must be greater than this other column's (a > b). */
  greaterThan?: string;
}

export interface ParsedChecks {
  rules: Map<string, ColumnRules>;
  /** Constraints (or parts) that could not be read; generated rows are probed against them. */
  unknown: string[];
}

const identifier = String.raw`(?:"((?:[^"]|"")+)"|\x60((?:[^\x60]|\x60\x60)+)\x60|([A-Za-z_][A-Za-z0-9_$]*))`;
const number = String.raw`(-?\d+(?:\.\d+)?)`;
const operator = "(>=|<=|<>|!=|>|<|=)";

/**
 * Reads the common shapes of CHECK constraints (`price > 0`, `qty BETWEEN 1 AND 99`,
 * `status IN ('a','b')`, `char_length(name) >= 3`, `ends_at > starts_at`) from PostgreSQL's
 * pg_get_constraintdef and MySQL's CHECK_CLAUSE. Everything else is reported as unknown.
 */
export function parseChecks(checks: { name: string; expression: string }[], columns: string[]): ParsedChecks {
  const rules = new Map<string, ColumnRules>();
  const unknown: string[] = [];
  const rule = (column: string) => {
    const existing = rules.get(column) ?? {};
    rules.set(column, existing);
    return existing;
  };
  for (const check of checks) {
    for (const part of splitConjunction(normalize(check.expression))) {
      if (!applyPart(part, columns, rule)) unknown.push(`${check.name}: ${part}`);
    }
  }
  return { rules, unknown };
}

function normalize(expression: string): string {
  return expression
    .replace(/^CHECK\s*/i, "")
    .replace(/::[a-z_ ]+(\[\])?(\(\d+(,\d+)?\))?/gi, "") // casts: 0::numeric, 'a'::text, ARRAY[…]::text[]
    .replace(/\((-?\d+(?:\.\d+)?)\)/g, "$1") // (0) left behind by a cast
    .replace(/\s+/g, " ")
    .trim();
}

/** Splits on top-level AND, dropping wrapping parentheses. */
function splitConjunction(expression: string): string[] {
  const text = stripParentheses(expression);
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let inQuote = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === "'") inQuote = !inQuote;
    if (inQuote) continue;
    if (character === "(") depth++;
    if (character === ")") depth--;
    if (depth === 0 && /^ and /i.test(text.slice(index, index + 5)) && !/between \S+$/i.test(text.slice(start, index))) {
      parts.push(text.slice(start, index));
      start = index + 5;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => stripParentheses(part.trim()));
}

function stripParentheses(text: string): string {
  let result = text.trim();
  while (result.startsWith("(") && result.endsWith(")") && balanced(result.slice(1, -1))) result = result.slice(1, -1).trim();
  return result;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const character of text) {
    if (character === "(") depth++;
    if (character === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

function nameOf(match: RegExpMatchArray, offset: number): string {
  return (match[offset]?.replace(/""/g, '"') ?? match[offset + 1]?.replace(/``/g, "`") ?? match[offset + 2]) as string;
}

function applyPart(part: string, columns: string[], rule: (column: string) => ColumnRules): boolean {
  let match = part.match(new RegExp(`^${identifier} ${operator} ${number}$`));
  if (match && columns.includes(nameOf(match, 1))) return bound(rule(nameOf(match, 1)), match[4] as string, Number(match[5]));
  match = part.match(new RegExp(`^${number} ${operator} ${identifier}$`));
  if (match && columns.includes(nameOf(match, 3))) return bound(rule(nameOf(match, 3)), flip(match[2] as string), Number(match[1]));
  match = part.match(new RegExp(`^${identifier} between ${number} and ${number}$`, "i"));
  if (match && columns.includes(nameOf(match, 1))) {
    Object.assign(rule(nameOf(match, 1)), { min: Number(match[4]), max: Number(match[5]) });
    return true;
  }
  match = part.match(new RegExp(`^(?:char_length|length|character_length|octet_length)\\(${identifier}\\) ${operator} (\\d+)$`, "i"));
  if (match && columns.includes(nameOf(match, 1))) return lengthBound(rule(nameOf(match, 1)), match[4] as string, Number(match[5]));
  match = part.match(new RegExp(`^${identifier} (?:in \\((.*)\\)|= any \\(array\\[(.*)\\]\\))$`, "i"));
  if (match && columns.includes(nameOf(match, 1))) {
    const list = match[4] ?? match[5] ?? "";
    rule(nameOf(match, 1)).choices = [...list.matchAll(/'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)/g)].map((item) =>
      item[1] !== undefined ? item[1].replace(/''/g, "'") : (item[2] as string),
    );
    return true;
  }
  match = part.match(new RegExp(`^${identifier} (<>|!=) ''$`));
  if (match && columns.includes(nameOf(match, 1))) {
    rule(nameOf(match, 1)).minLength = Math.max(1, rule(nameOf(match, 1)).minLength ?? 1);
    return true;
  }
  match = part.match(new RegExp(`^${identifier} (>=|>|<=|<) ${identifier}$`));
  if (match && columns.includes(nameOf(match, 1)) && columns.includes(nameOf(match, 5))) {
    const [left, right] = [nameOf(match, 1), nameOf(match, 5)];
    if ((match[4] as string).startsWith(">")) rule(left).greaterThan = right;
    else rule(right).greaterThan = left;
    return true;
  }
  return false;
}

function flip(operator: string): string {
  return ({ ">": "<", "<": ">", ">=": "<=", "<=": ">=" } as Record<string, string>)[operator] ?? operator;
}

function bound(rules: ColumnRules, operator: string, value: number): boolean {
  if (operator === ">" || operator === ">=") {
    rules.min = Math.max(rules.min ?? Number.NEGATIVE_INFINITY, value);
    rules.minExclusive = operator === ">";
  } else if (operator === "<" || operator === "<=") {
    rules.max = Math.min(rules.max ?? Number.POSITIVE_INFINITY, value);
    rules.maxExclusive = operator === "<";
  } else if (operator === "=") {
    rules.choices = [String(value)];
  } else {
    return false; // <> N: rare, leave to the probe
  }
  return true;
}

function lengthBound(rules: ColumnRules, operator: string, value: number): boolean {
  if (operator === ">") rules.minLength = value + 1;
  else if (operator === ">=") rules.minLength = value;
  else if (operator === "<") rules.maxLength = value - 1;
  else if (operator === "<=") rules.maxLength = value;
  else if (operator === "=") rules.minLength = rules.maxLength = value;
  else return false;
  return true;
}
