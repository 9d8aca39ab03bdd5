import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentError } from "../../src/agent/errors.js";
import {
  editFiles,
  READ_LINE_TRUNCATED_MARKER,
  READ_MAX_CONTENT_BYTES,
  READ_MAX_FILE_BYTES,
  READ_MAX_LINE_BYTES,
  readFileLines,
  writeFileAtomic,
} from "../../src/agent/files.js";
import { resolveAgentPath } from "../../src/agent/paths.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "chatd-files-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function agentError(promise: Promise<unknown>): Promise<AgentError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AgentError)) throw new Error(`expected an AgentError, got ${String(error)}`);
  return error;
}

describe("resolveAgentPath", () => {
  it("expands ~ and resolves relative paths against the agent directory", () => {
    const home = process.env.HOME ?? "";
    expect(resolveAgentPath("~", "/srv")).toBe(home);
    expect(resolveAgentPath("~/notes.md", "/srv")).toBe(path.join(home, "notes.md"));
    expect(resolveAgentPath("src/a.ts", "/srv/project")).toBe("/srv/project/src/a.ts");
    expect(resolveAgentPath("/etc/hosts", "/srv/project")).toBe("/etc/hosts");
    expect(resolveAgentPath("../x", "/srv/project")).toBe("/srv/x");
  });
});

describe("file.read", () => {
  it("numbers lines like cat -n and reports size and line counts", async () => {
    const file = path.join(dir, "a.txt");
    await writeFile(file, "one\ntwo\nthree\n");
    const result = await readFileLines(file, { offset: 1, limit: 2000 });
    expect(result).toEqual({ content: "     1\tone\n     2\ttwo\n     3\tthree\n", file_size: 14, total_lines: 3, lines_read: 3 });
  });

  it("honours a 1-based offset and a limit", async () => {
    const file = path.join(dir, "a.txt");
    await writeFile(file, Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join("\n"));
    const result = await readFileLines(file, { offset: 5, limit: 3 });
    expect(result.content).toBe("     5\tline 5\n     6\tline 6\n     7\tline 7\n");
    expect(result.total_lines).toBe(20);
    expect(result.lines_read).toBe(3);
    const past = await readFileLines(file, { offset: 50, limit: 3 });
    expect(past).toMatchObject({ content: "", lines_read: 0, total_lines: 20 });
  });

  it("cuts lines longer than 1024 bytes with a marker", async () => {
    const file = path.join(dir, "min.js");
    await writeFile(file, `${"q".repeat(5000)}\nshort\n`);
    const result = await readFileLines(file, { offset: 1, limit: 2000 });
    expect(result.content).toBe(`     1\t${"q".repeat(READ_MAX_LINE_BYTES)}${READ_LINE_TRUNCATED_MARKER}\n     2\tshort\n`);
  });

  it("stops before the content would pass 32 KiB and says how many lines it holds", async () => {
    const file = path.join(dir, "big.txt");
    const line = "w".repeat(99);
    await writeFile(file, Array.from({ length: 1000 }, () => line).join("\n"));
    const result = await readFileLines(file, { offset: 1, limit: 2000 });
    const perLine = 7 + 99 + 1;
    expect(result.lines_read).toBe(Math.floor(READ_MAX_CONTENT_BYTES / perLine));
    expect(Buffer.byteLength(result.content)).toBeLessThanOrEqual(READ_MAX_CONTENT_BYTES);
    expect(result.content.split("\n").length - 1).toBe(result.lines_read);
    expect(result.total_lines).toBe(1000);
  });

  it("refuses files over 1 MiB, pointing at execute", async () => {
    const file = path.join(dir, "huge.log");
    await writeFile(file, Buffer.alloc(READ_MAX_FILE_BYTES + 1, 0x61));
    const error = await agentError(readFileLines(file, { offset: 1, limit: 10 }));
    expect(error.code).toBe("bad_request");
    expect(error.message).toContain("execute");
    expect(error.message).toContain(file);
  });

  it("answers not_found for a missing file and bad_request for a directory", async () => {
    expect((await agentError(readFileLines(path.join(dir, "nope"), { offset: 1, limit: 1 }))).code).toBe("not_found");
    expect((await agentError(readFileLines(dir, { offset: 1, limit: 1 }))).code).toBe("bad_request");
  });
});

describe("file.write", () => {
  it("creates parent directories and writes the content", async () => {
    const file = path.join(dir, "a", "b", "c.txt");
    await writeFileAtomic(file, "hello");
    expect(await readFile(file, "utf8")).toBe("hello");
  });

  it("replaces a file atomically: no temp files left, mode kept, symlink target written", async () => {
    const file = path.join(dir, "run.sh");
    await writeFile(file, "old");
    await chmod(file, 0o755);
    await writeFileAtomic(file, "#!/bin/sh\necho new\n");
    expect(await readFile(file, "utf8")).toBe("#!/bin/sh\necho new\n");
    expect((await stat(file)).mode & 0o777).toBe(0o755);
    expect(await readdir(dir)).toEqual(["run.sh"]);

    const link = path.join(dir, "link.sh");
    await symlink(file, link);
    await writeFileAtomic(link, "via link");
    expect(await readFile(file, "utf8")).toBe("via link");
  });

  it("refuses to overwrite a directory", async () => {
    expect((await agentError(writeFileAtomic(dir, "x"))).code).toBe("bad_request");
  });
});

describe("file.edit", () => {
  it("applies edits in order, literally (no $ patterns), with replace_all", async () => {
    const file = path.join(dir, "a.ts");
    await writeFile(file, "const a = 1;\nconst b = a + a;\n");
    await editFiles([
      {
        path: file,
        edits: [
          { search: "const a = 1;", replace: "const a = 2; // $& $1" },
          { search: "a + a", replace: "x + x" },
          { search: "x", replace: "y", replace_all: true },
        ],
      },
    ]);
    expect(await readFile(file, "utf8")).toBe("const a = 2; // $& $1\nconst b = y + y;\n");
  });

  it("fails on search text that is not found, naming the file and the text, and leaves the file alone", async () => {
    const file = path.join(dir, "a.txt");
    await writeFile(file, "alpha\nbeta\n");
    const error = await agentError(
      editFiles([{ path: file, edits: [{ search: "alpha", replace: "ALPHA" }, { search: "gamma  delta", replace: "x" }] }]),
    );
    expect(error.code).toBe("bad_request");
    expect(error.message).toContain(file);
    expect(error.message).toContain('"gamma delta"');
    expect(error.message).toContain("edit 2 of 2");
    expect(await readFile(file, "utf8")).toBe("alpha\nbeta\n");
  });

  it("fails on an ambiguous search without replace_all, asking for context", async () => {
    const file = path.join(dir, "a.txt");
    await writeFile(file, "x = 1\nx = 1\n");
    const error = await agentError(editFiles([{ path: file, edits: [{ search: "x = 1", replace: "x = 2" }] }]));
    expect(error.message).toMatch(/matches 2 times/);
    expect(error.message).toMatch(/replace_all/);
    expect(await readFile(file, "utf8")).toBe("x = 1\nx = 1\n");
  });

  it("shortens long search text in the error", async () => {
    const file = path.join(dir, "a.txt");
    await writeFile(file, "short\n");
    const error = await agentError(editFiles([{ path: file, edits: [{ search: "s".repeat(500), replace: "" }] }]));
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toContain("…");
  });

  it("is atomic per file: files before a failing one stay written, the failing one and later ones are untouched", async () => {
    const first = path.join(dir, "1.txt");
    const second = path.join(dir, "2.txt");
    const third = path.join(dir, "3.txt");
    await writeFile(first, "one");
    await writeFile(second, "two");
    await writeFile(third, "three");
    const error = await agentError(
      editFiles([
        { path: first, edits: [{ search: "one", replace: "ONE" }] },
        { path: second, edits: [{ search: "two", replace: "TWO" }, { search: "missing", replace: "x" }] },
        { path: third, edits: [{ search: "three", replace: "THREE" }] },
      ]),
    );
    expect(error.message).toContain(second);
    expect(await readFile(first, "utf8")).toBe("ONE");
    expect(await readFile(second, "utf8")).toBe("two");
    expect(await readFile(third, "utf8")).toBe("three");
  });

  it("answers not_found for a missing file", async () => {
    const error = await agentError(editFiles([{ path: path.join(dir, "missing.txt"), edits: [{ search: "a", replace: "b" }] }]));
    expect(error.code).toBe("not_found");
  });

  it("refuses to edit a file that is not UTF-8", async () => {
    const file = path.join(dir, "bin");
    await writeFile(file, Buffer.from([0x61, 0xff, 0x62]));
    const error = await agentError(editFiles([{ path: file, edits: [{ search: "a", replace: "c" }] }]));
    expect(error.code).toBe("bad_request");
    expect((await readFile(file)).equals(Buffer.from([0x61, 0xff, 0x62]))).toBe(true);
  });
});
