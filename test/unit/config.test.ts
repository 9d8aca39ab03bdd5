import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import { formatDurationMs, parseDurationMs } from "../../src/config/duration.js";

describe("durations", () => {
  it.each([
    ["0", 0],
    ["500ms", 500],
    ["1s", 1_000],
    ["1.5s", 1_500],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
  ])("parses %s", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(["", "5", "5 minutes", "1d", "m5", "1s garbage", "-1s"])("rejects %j", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it("formats back", () => {
    expect(formatDurationMs(300_000)).toBe("5m");
    expect(formatDurationMs(1_500)).toBe("1500ms");
  });
});

describe("configuration", () => {
  it("uses the documented defaults", () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({
      listen: { host: "127.0.0.1", port: 3000 },
      dataDir: "./.chatd",
      logLevel: "info",
      chatAcquireInterval: 1_000,
      chatAcquireBatchSize: 10,
      chatHeartbeatInterval: 30_000,
      chatStaleAfter: 300_000,
      maxRunningChats: 0,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.encryptionKey).toBeUndefined();
  });

  it("lets flags win over environment variables", () => {
    const config = loadConfig({ listen: "0.0.0.0:8080" }, { CHATD_LISTEN: "127.0.0.1:9000", CHATD_DATA_DIR: "/var/lib/chatd" });
    expect(config.listen).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(config.dataDir).toBe("/var/lib/chatd");
  });

  it("reads IPv6 listen addresses and a 32-byte base64 key", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const config = loadConfig({}, { CHATD_LISTEN: "[::1]:3000", CHATD_ENCRYPTION_KEY: key });
    expect(config.listen).toEqual({ host: "::1", port: 3000 });
    expect(config.encryptionKey?.length).toBe(32);
  });

  it("reports every bad value, naming the flag and the variable, without echoing secrets", () => {
    const secretish = Buffer.alloc(16, 1).toString("base64");
    let error: unknown;
    try {
      loadConfig(
        { "chat-acquire-batch-size": "lots" },
        {
          CHATD_LISTEN: "localhost",
          CHATD_DATABASE_URL: "mysql://user:hunter2@db/chatd",
          CHATD_ENCRYPTION_KEY: secretish,
          CHATD_LOG_LEVEL: "loud",
          CHATD_CHAT_HEARTBEAT_INTERVAL: "soon",
          CHATD_ACCESS_URL: "ftp://example.com",
        },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = error instanceof Error ? error.message : "";
    for (const name of [
      "--listen / CHATD_LISTEN",
      "--database-url / CHATD_DATABASE_URL",
      "--encryption-key / CHATD_ENCRYPTION_KEY",
      "--log-level / CHATD_LOG_LEVEL",
      "--chat-heartbeat-interval / CHATD_CHAT_HEARTBEAT_INTERVAL",
      "--chat-acquire-batch-size / CHATD_CHAT_ACQUIRE_BATCH_SIZE",
      "--access-url / CHATD_ACCESS_URL",
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain(secretish);
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({}, { CHATD_DATABASE_URL: "" }).databaseUrl).toBeUndefined();
  });
});
