/** A value that survives JSON.stringify/parse unchanged: what journals and reports hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Numbers a skill measured (rows/s, p95 latency…) or short facts about them. */
export type Metrics = Record<string, number | string>;
