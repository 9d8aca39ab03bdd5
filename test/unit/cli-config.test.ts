/** The CLI's stored login (src/cli/config-file.ts) and which server and token a command uses (connection.ts). */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configDirectory, configPath, readCliConfig, removeCliConfig, writeCliConfig } from "../../src/cli/config-file.js";
import { networkReason, resolveConnection } from "../../src/cli/connection.js";
import { UsageError } from "../../src/cli/usage.js";

let home: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-cli-config-"));
  env = { HOME: home };
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
});

describe("the CLI config file", () => {
  it("lives in $XDG_CONFIG_HOME/chatd, else ~/.config/chatd (a relative XDG_CONFIG_HOME is ignored)", () => {
    expect(configPath(env)).toBe(path.join(home, ".config", "chatd", "config.json"));
    expect(configDirectory({ ...env, XDG_CONFIG_HOME: "/somewhere/else" })).toBe("/somewhere/else/chatd");
    expect(configDirectory({ ...env, XDG_CONFIG_HOME: "relative" })).toBe(path.join(home, ".config", "chatd"));
  });

  it("is written 0600 in a 0700 directory, even under a permissive umask and over a wide directory", () => {
    const previous = process.umask(0o000);
    try {
      fs.mkdirSync(configDirectory(env), { recursive: true, mode: 0o777 });
      const file = writeCliConfig({ url: "http://127.0.0.1:3000", token: "id-secret", key_id: "id" }, env);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(fs.readdirSync(path.dirname(file))).toEqual(["config.json"]);
    } finally {
      process.umask(previous);
    }
    expect(readCliConfig(env)).toEqual({ url: "http://127.0.0.1:3000", token: "id-secret", key_id: "id" });
    expect(removeCliConfig(env)).toBe(true);
    expect(readCliConfig(env)).toBeUndefined();
    expect(removeCliConfig(env)).toBe(false);
  });

  it("names a damaged file in a one-line usage error, and warns when others can read it", () => {
    fs.mkdirSync(configDirectory(env), { recursive: true });
    fs.writeFileSync(configPath(env), "{not json");
    expect(() => readCliConfig(env)).toThrow(UsageError);
    expect(() => readCliConfig(env)).toThrow(configPath(env));
    fs.writeFileSync(configPath(env), JSON.stringify({ url: "not a url", token: "" }));
    expect(() => readCliConfig(env)).toThrow(/url: .*token: /);
    fs.writeFileSync(configPath(env), JSON.stringify({ url: "http://h:1", token: "t" }), { mode: 0o644 });
    fs.chmodSync(configPath(env), 0o644);
    const warnings: string[] = [];
    readCliConfig(env, (line) => warnings.push(line));
    expect(warnings).toEqual([expect.stringContaining("chmod 600")]);
  });
});

describe("resolveConnection", () => {
  it("takes flags over the environment over the stored login", () => {
    writeCliConfig({ url: "http://stored:3000", token: "stored-token" }, env);
    expect(resolveConnection({}, env)).toEqual({ url: "http://stored:3000", token: "stored-token" });
    expect(resolveConnection({}, { ...env, CHATD_TOKEN: "env-token" })).toEqual({ url: "http://stored:3000", token: "env-token" });
    expect(resolveConnection({ token: "flag-token" }, { ...env, CHATD_TOKEN: "env-token" })).toEqual({ url: "http://stored:3000", token: "flag-token" });
    // The same server spelled differently still gets the stored token.
    expect(resolveConnection({ url: "http://stored:3000/" }, env)).toEqual({ url: "http://stored:3000", token: "stored-token" });
  });

  it("never sends the stored token to another server", () => {
    writeCliConfig({ url: "http://stored:3000", token: "stored-token" }, env);
    expect(() => resolveConnection({ url: "http://elsewhere:3000" }, env)).toThrow(/no API token.*CHATD_TOKEN.*stored login is for http:\/\/stored:3000/);
    expect(() => resolveConnection({}, { ...env, CHATD_URL: "http://elsewhere:3000" })).toThrow(UsageError);
    expect(resolveConnection({}, { ...env, CHATD_URL: "http://elsewhere:3000", CHATD_TOKEN: "t" })).toEqual({ url: "http://elsewhere:3000", token: "t" });
  });

  it("defaults to the local server and refuses a URL that is not http(s)", () => {
    expect(resolveConnection({ token: "t" }, env)).toEqual({ url: "http://127.0.0.1:3000", token: "t" });
    expect(() => resolveConnection({ url: "ftp://x", token: "t" }, env)).toThrow(/http\(s\) URL/);
    expect(() => resolveConnection({}, env)).toThrow(/chatd login/);
  });
});

describe("networkReason", () => {
  it("words undici's connection failures", () => {
    const failure = (code: string) => new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) });
    expect(networkReason(failure("ECONNREFUSED"))).toBe("connection refused");
    expect(networkReason(failure("ENOTFOUND"))).toBe("host not found");
    expect(networkReason(new Error("other"))).toBeUndefined();
  });
});
