import { describe, expect, it } from "vitest";
import { containsRedaction, redactSecrets, redactText } from "./redact.js";

describe("redaction", () => {
  it("removes the password from connection URLs but keeps the rest", () => {
    expect(redactText("cannot reach postgres://app:s3cr%40t@db:5432/shop")).toBe("cannot reach postgres://app:***@db:5432/shop");
    expect(redactText("mysql://root@localhost/x")).toBe("mysql://root@localhost/x");
  });

  it("removes passwords holding / @ : from URLs, environment assignments and quoted JSON", () => {
    expect(redactText("postgres://app:pa/ss@db:5432/shop failed")).toBe("postgres://app:***@db:5432/shop failed");
    expect(redactText("mysql://root:p@ss:w/rd@db/x and more")).toBe("mysql://root:***@db/x and more");
    expect(redactText("env PGPASSWORD=hunter2 psql; MYSQL_PWD=hunter3 mysql")).toBe("env PGPASSWORD=*** psql; MYSQL_PWD=*** mysql");
    expect(redactText('body {"user":"u","password": "hun\\"ter2","db_token":"t0k"}')).toBe(
      'body {"user":"u","password": "***","db_token":"***"}',
    );
    expect(redactText(JSON.stringify({ text: '{"SERVICE_PASSWORD": "v1", "user": "u"}' }))).toBe(
      JSON.stringify({ text: '{"SERVICE_PASSWORD": "***", "user": "u"}' }),
    );
    expect(redactText("two urls postgres://a:x1@h1/d and mysql://b:x2@h2/d")).toBe("two urls postgres://a:***@h1/d and mysql://b:***@h2/d");
  });

  it("removes key=value secrets, bearer tokens and API keys from free text", () => {
    expect(redactText("host=db password=hunter2 user=x")).toBe("host=db password=*** user=x");
    expect(redactText("Authorization: Bearer abc.def-ghi")).toBe("Authorization: Bearer ***");
    expect(redactText("key sk-ant-api03-abcdefghijkl used")).toBe("key *** used");
  });

  it("replaces secret-named fields anywhere in a structure without touching the original", () => {
    const config = {
      connection_url: "postgres://u:p@h/d",
      hosts: [{ host: "h", auth: { type: "password", password: "pw" } }],
      llm: { api_key: "k", model: "m" },
      apiToken: "t",
    };
    const redacted = redactSecrets(config);
    expect(redacted).toEqual({
      connection_url: "postgres://u:***@h/d",
      hosts: [{ host: "h", auth: { type: "password", password: "***" } }],
      llm: { api_key: "***", model: "m" },
      apiToken: "***",
    });
    expect(config.hosts[0]?.auth.password).toBe("pw");
    expect(containsRedaction(redacted)).toBe(true);
    expect(containsRedaction({ connection_url: "postgres://u@h/d" })).toBe(false);
  });
});
