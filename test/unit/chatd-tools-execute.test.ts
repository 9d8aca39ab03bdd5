import { describe, expect, it } from "vitest";
import { decodeOutput, fileDumpNote, FILE_DUMP_NOTE, splitBackground } from "../../src/chatd/tools/workspace/execute.js";
import { renderWorkspaceContext } from "../../src/chatd/prompt/workspace-context.js";

describe("execute: trailing & means background", () => {
  it.each([
    ["sleep 5 &", "sleep 5", true],
    ["npm run dev &  ", "npm run dev", true],
    ["make && make test", "make && make test", false],
    ["a &&", "a &&", false],
    ["cmd |&", "cmd |&", false],
    ["echo 'a & b'", "echo 'a & b'", false],
    ["&", "&", false],
  ])("%j → %j background=%s", (input, command, background) => {
    expect(splitBackground(input)).toEqual({ command, background });
  });
});

describe("execute: the file-dump note", () => {
  it.each([
    ["cat README.md", true],
    ["  cat -n src/a.ts", true],
    ["grep -l foo src", true],
    ["rg -l foo", true],
    ["rg foo --include-all", true],
    ["grep foo src", false],
    ["catalog list", false],
    ["echo cat file", false],
  ])("%j → note %s", (command, noted) => {
    expect(fileDumpNote(command)).toBe(noted ? FILE_DUMP_NOTE : undefined);
  });
});

describe("execute: output decoding", () => {
  it("keeps UTF-8 text, NUL included, without a base64 copy", () => {
    const bytes = Buffer.from("a\u0000b é 🙂\n", "utf8");
    expect(decodeOutput(bytes.toString("base64"))).toEqual({ output: "a\u0000b é 🙂\n" });
  });

  it("gives invalid UTF-8 as exact base64 plus a readable rendering", () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const decoded = decodeOutput(bytes.toString("base64"));
    expect(Buffer.from(decoded.output_base64 ?? "", "base64")).toEqual(bytes);
    expect(decoded.output).toContain("A");
  });

  it("omits output entirely when there was none", () => {
    expect(decodeOutput("")).toEqual({});
  });
});

describe("workspace context block", () => {
  it("lists OS, directory and each instruction file with its source", () => {
    const text = renderWorkspaceContext({
      os: "linux",
      directory: "/w/project",
      files: [
        { path: "/w/home/.chatd/AGENTS.md", content: "Be brief.", truncated: false },
        { path: "/w/project/AGENTS.md", content: "Run npm test.", truncated: true },
      ],
    });
    expect(text).toBe(
      "Operating System: linux\nWorking Directory: /w/project\n\nSource: /w/home/.chatd/AGENTS.md\nBe brief.\n\nSource: /w/project/AGENTS.md\nRun npm test.\n(truncated to 64KiB)",
    );
  });
});
