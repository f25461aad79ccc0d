/** What the API server said when a request failed: its status code, reason and message. */
export interface ApiFailure {
  code: number;
  reason: string;
  message: string;
}

/** Reads an error thrown by the client: an ApiException carries the Status object the server sent. */
export function apiFailure(error: unknown): ApiFailure | undefined {
  const candidate = error as { code?: unknown; body?: unknown };
  // A DOMException (an aborted or timed-out request) has a numeric code too, of its own kind.
  if (typeof candidate?.code !== "number" || error instanceof DOMException) return undefined;
  let body: { reason?: string; message?: string } | undefined;
  if (typeof candidate.body === "string") {
    try {
      body = JSON.parse(candidate.body) as { reason?: string; message?: string };
    } catch {
      body = { message: candidate.body };
    }
  } else body = candidate.body as { reason?: string; message?: string } | undefined;
  return { code: candidate.code, reason: body?.reason ?? "", message: body?.message ?? (error as Error).message };
}

/** True when the API answered 404: the object is gone (an idempotent rollback's "already done"). */
export function isNotFound(error: unknown): boolean {
  return apiFailure(error)?.code === 404;
}

/** A one-line description of a failed API call, with the server's own message. */
export function describeApiError(error: unknown): string {
  const failure = apiFailure(error);
  if (failure) return `${failure.code} ${failure.reason}: ${failure.message}`.trim();
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return "the API server did not answer within target_config.request_timeout; the request was abandoned";
  }
  return (error as Error).message;
}
