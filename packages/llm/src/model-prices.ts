/**
 * List prices in US dollars per million tokens (input, output), as published for these models in
 * 2026; a model not listed has no estimate rather than a wrong one. Local models cost nothing.
 */
const pricesPerMillion: Record<string, [number, number]> = {
  "claude-sonnet-4-5": [3, 15],
  "claude-opus-4-1": [15, 75],
  "claude-haiku-4-5": [1, 5],
  "gpt-5": [1.25, 10],
  "gpt-5-mini": [0.25, 2],
  "gpt-4.1": [2, 8],
};

export function estimateCostUsd(provider: string, model: string, inputTokens: number, outputTokens: number): number | undefined {
  if (provider === "ollama") return 0;
  const price = pricesPerMillion[model];
  return price && (inputTokens * price[0] + outputTokens * price[1]) / 1_000_000;
}
