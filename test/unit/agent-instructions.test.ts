import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanInstructions, INSTRUCTIONS_MAX_BYTES, readInstructions } from "../../src/agent/instructions.js";

let home: string;
let project: string;
const originalHome = process.env.HOME;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), "chatd-home-"));
  project = await mkdtemp(path.join(tmpdir(), "chatd-project-"));
  process.env.HOME = home;
});
afterEach(async () => {
  process.env.HOME = originalHome;
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

describe("instructions.read", () => {
  it("reads ~/.chatd/AGENTS.md then <directory>/AGENTS.md, with os and directory", async () => {
    await mkdir(path.join(home, ".chatd"));
    await writeFile(path.join(home, ".chatd", "AGENTS.md"), "user rules\n");
    await writeFile(path.join(project, "AGENTS.md"), "project rules\n");
    expect(await readInstructions(project)).toEqual({
      os: process.platform,
      directory: project,
      files: [
        { path: path.join(home, ".chatd", "AGENTS.md"), content: "user rules", truncated: false },
        { path: path.join(project, "AGENTS.md"), content: "project rules", truncated: false },
      ],
    });
    expect(process.platform).toBe("linux");
  });

  it("skips missing files", async () => {
    await writeFile(path.join(project, "AGENTS.md"), "only this");
    const result = await readInstructions(project);
    expect(result.files.map((file) => file.content)).toEqual(["only this"]);
  });

  it("normalizes CRLF, strips HTML comments (also multi-line and unclosed) and trims", async () => {
    await writeFile(path.join(project, "AGENTS.md"), "\r\n<!-- hidden -->\r\nkeep 1\r\n<!--\r\nmulti\r\nline\r\n-->keep 2\r\n<!-- never closed\r\nsecret\r\n");
    const [file] = (await readInstructions(project)).files;
    expect(file?.content).toBe("keep 1\nkeep 2");
    expect(cleanInstructions("a<!--x-->b<!--y-->c")).toBe("abc");
  });

  it("caps each file at 64 KiB on a character boundary and says so", async () => {
    // 3-byte characters: 65536 is not a multiple of 3, so the cap lands inside one.
    await writeFile(path.join(project, "AGENTS.md"), "✓".repeat(30_000));
    const [file] = (await readInstructions(project)).files;
    expect(file?.truncated).toBe(true);
    expect(file?.content).not.toContain("\uFFFD");
    expect(Buffer.byteLength(file?.content ?? "")).toBe(Math.floor(INSTRUCTIONS_MAX_BYTES / 3) * 3);
  });

  it("does not list the same file twice or include files that are only comments", async () => {
    await mkdir(path.join(home, ".chatd"));
    await writeFile(path.join(home, ".chatd", "AGENTS.md"), "home rules");
    const same = await readInstructions(path.join(home, ".chatd"));
    expect(same.files).toHaveLength(1);
    await writeFile(path.join(project, "AGENTS.md"), "<!-- nothing to see -->\n");
    expect((await readInstructions(project)).files.map((file) => file.content)).toEqual(["home rules"]);
  });
});
