import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { ChaosError, ExitCode, type LlmFile } from "@chaos-agents/core";
import type { LanguageModel } from "ai";
import { createOllama } from "ollama-ai-provider-v2";

export type ProviderName = LlmFile["llm"]["provider"];

/** Which model plans, and how to reach it: the config's `llm:`, then flags, then the environment. */
export interface ModelSettings {
  provider: ProviderName;
  model: string;
  apiKey?: string;
  baseUrl?: string;
  maxTokens: number;
  /** Streamed answers (llm.stream, default true). */
  stream: boolean;
}

const defaultModels: Record<ProviderName, string> = {
  anthropic: "claude-sonnet-4-5",
  openai: "gpt-5",
  ollama: "llama3.1",
};

/**
 * Settles the model settings. Without a provider anywhere: Anthropic when ANTHROPIC_API_KEY is set,
 * else OpenAI when OPENAI_API_KEY is, else Ollama at $OLLAMA_HOST (which needs no key).
 */
export function resolveModelSettings(
  configured: LlmFile["llm"] | undefined,
  flags: { provider?: ProviderName; model?: string },
  env: NodeJS.ProcessEnv,
): ModelSettings {
  const provider: ProviderName =
    flags.provider ?? configured?.provider ?? (env.ANTHROPIC_API_KEY ? "anthropic" : env.OPENAI_API_KEY ? "openai" : "ollama");
  const sameProvider = configured?.provider === provider;
  const apiKey =
    (sameProvider ? configured?.api_key : undefined) ||
    (provider === "anthropic" ? env.ANTHROPIC_API_KEY : provider === "openai" ? env.OPENAI_API_KEY : undefined) ||
    undefined;
  if (!apiKey && provider !== "ollama") {
    const variable = provider === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
    throw new ChaosError(`no API key for ${provider}: set ${variable}, or llm.api_key in the config (through \${${variable}})`, {
      exitCode: ExitCode.invalidConfig,
    });
  }
  return {
    provider,
    model: flags.model ?? (sameProvider ? configured?.model : undefined) ?? defaultModels[provider],
    apiKey,
    baseUrl: (sameProvider ? configured?.base_url : undefined) ?? baseUrlFromEnvironment(provider, env),
    maxTokens: (sameProvider ? configured?.max_tokens : undefined) ?? 4096,
    stream: configured?.stream ?? true,
  };
}

function baseUrlFromEnvironment(provider: ProviderName, env: NodeJS.ProcessEnv): string | undefined {
  if (provider === "anthropic") return env.ANTHROPIC_BASE_URL || undefined;
  if (provider === "openai") return env.OPENAI_BASE_URL || undefined;
  const host = env.OLLAMA_HOST || "127.0.0.1:11434";
  return `${/^https?:\/\//.test(host) ? host : `http://${host}`}`.replace(/\/$/, "");
}

/** The AI SDK model for the settings; requests go only where the settings say. */
export function createLanguageModel(settings: ModelSettings): LanguageModel {
  switch (settings.provider) {
    case "anthropic":
      return createAnthropic({ apiKey: settings.apiKey, baseURL: settings.baseUrl })(settings.model);
    case "openai":
      // Chat Completions: the protocol OpenAI and every OpenAI-compatible server speak.
      return createOpenAI({ apiKey: settings.apiKey, baseURL: settings.baseUrl }).chat(settings.model);
    case "ollama":
      return createOllama({ baseURL: `${settings.baseUrl}/api` })(settings.model);
  }
}
