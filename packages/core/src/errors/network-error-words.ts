/**
 * What a failed connection's error means, in words, for the errors Node's network layer raises
 * (the code stays in parentheses, for searching). Undefined for anything else: its own message
 * says more than a guess would. Looks through `cause` and AggregateError's `errors` (a name with
 * several addresses fails once per address).
 */
export function networkErrorInWords(error: unknown): string | undefined {
  const found = networkError(error);
  if (!found) return undefined;
  const where = found.address !== undefined ? `${found.address}${found.port !== undefined ? `:${found.port}` : ""}` : "the server";
  const name = found.hostname ? ` ${found.hostname}` : "";
  switch (found.code) {
    case "ECONNREFUSED":
      return `nothing is listening at ${where} (ECONNREFUSED): is the server running, and are the host and port right?`;
    case "ETIMEDOUT":
      return `no answer from ${where} in time (ETIMEDOUT): is the address right, and does a firewall let the connection through?`;
    case "ENOTFOUND":
      return `the host name${name} does not resolve (ENOTFOUND): check its spelling and the DNS`;
    case "EAI_AGAIN":
      return `the host name${name} could not be resolved now (EAI_AGAIN: DNS did not answer); try again`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `there is no route to ${where} (${found.code}): the network cannot reach it from here`;
    case "ECONNRESET":
      return `${where} closed the connection at once (ECONNRESET): is it the right kind of server on that port?`;
    default:
      return undefined;
  }
}

interface NetworkError {
  code: string;
  address?: string;
  port?: number;
  hostname?: string;
}

const codes = new Set(["ECONNREFUSED", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"]);

function networkError(error: unknown, depth = 0): NetworkError | undefined {
  if (typeof error !== "object" || error === null || depth > 3) return undefined;
  const candidate = error as Partial<NetworkError> & { cause?: unknown; errors?: unknown[] };
  if (typeof candidate.code === "string" && codes.has(candidate.code)) {
    const inner = candidate.errors?.map((each) => networkError(each, depth + 1)).find((each) => each?.address !== undefined);
    return inner ?? (candidate as NetworkError);
  }
  for (const each of candidate.errors ?? []) {
    const found = networkError(each, depth + 1);
    if (found) return found;
  }
  return networkError(candidate.cause, depth + 1);
}
