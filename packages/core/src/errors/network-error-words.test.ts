import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionError } from "./connection-error.js";
import { networkErrorInWords } from "./network-error-words.js";

/** The error a real connection attempt raises. */
function connectionFailure(host: string, port: number): Promise<Error> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.on("error", resolve);
    socket.on("connect", () => {
      socket.destroy();
      reject(new Error(`${host}:${port} accepted a connection`));
    });
  });
}

describe("connection errors in words", () => {
  it("a closed port: nothing is listening there", async () => {
    const error = await connectionFailure("127.0.0.1", 9);
    expect(networkErrorInWords(error)).toBe(
      "nothing is listening at 127.0.0.1:9 (ECONNREFUSED): is the server running, and are the host and port right?",
    );
    expect(new ConnectionError("postgres://app@127.0.0.1:9/shop", error.message, { cause: error }).message).toBe(
      "cannot connect to postgres://app@127.0.0.1:9/shop: nothing is listening at 127.0.0.1:9 (ECONNREFUSED): is the server running, and are the host and port right?",
    );
  });

  it("a name that does not resolve (.invalid never does)", async () => {
    const error = await connectionFailure("db.example.invalid", 5432);
    expect(networkErrorInWords(error)).toMatch(
      /^the host name db\.example\.invalid (does not resolve \(ENOTFOUND\)|could not be resolved now \(EAI_AGAIN)/,
    );
  });

  it("looks through a wrapper's cause and an AggregateError's attempts", async () => {
    const refused = await connectionFailure("127.0.0.1", 9);
    const aggregate = Object.assign(new AggregateError([refused], "connect failed"), { code: "ECONNREFUSED" });
    expect(networkErrorInWords(new Error("request failed", { cause: aggregate }))).toMatch(/^nothing is listening at 127\.0\.0\.1:9 /);
  });

  it("leaves every other error to its own message", () => {
    expect(networkErrorInWords(new Error('password authentication failed for user "app"'))).toBeUndefined();
    expect(new ConnectionError("x", "password authentication failed", { cause: new Error("password authentication failed") }).message).toBe(
      "cannot connect to x: password authentication failed",
    );
  });
});
