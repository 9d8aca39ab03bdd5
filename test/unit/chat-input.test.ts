/** Input part validation, the fallback title and a new chat's initial messages (chats/input.ts). */
import { renderFileReference } from "../../src/chats/parts.js";
import { describe, expect, it } from "vitest";
import {
  ChatInputError,
  DEFAULT_SYSTEM_PROMPT,
  fallbackTitle,
  initialMessages,
  MAX_INPUT_PARTS,
  MAX_INPUT_TEXT_BYTES,
  NO_WORKSPACE_MESSAGE,
  validateInputParts,
} from "../../src/chats/input.js";
import type { ChatInputPart } from "../../src/sdk/schemas/parts.js";

const FILE_ID = "0f8e2a51-3c6d-4e7f-8a9b-0c1d2e3f4a5b";
const lookup = async (id: string) => (id === FILE_ID ? { mediaType: "image/png" } : undefined);
const validate = (parts: ChatInputPart[] | undefined) => validateInputParts(parts, lookup);

async function refusal(parts: ChatInputPart[] | undefined): Promise<[string, string]> {
  try {
    await validate(parts);
  } catch (error) {
    if (error instanceof ChatInputError) return [error.message, error.detail];
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("validateInputParts", () => {
  it("converts each part type; types are trimmed and case-insensitive, text is trimmed", async () => {
    const result = await validate([
      { type: " Text ", text: "  hello  " },
      { type: "FILE", file_id: FILE_ID.toUpperCase() },
      { type: "file-reference", file_name: " src/a.ts ", start_line: 3, end_line: 3, content: "let x = 1;" },
    ]);
    expect(result.parts).toEqual([
      { type: "text", text: "hello" },
      { type: "file", file_id: FILE_ID, media_type: "image/png" },
      { type: "file-reference", file_name: "src/a.ts", start_line: 3, end_line: 3, content: "let x = 1;" },
    ]);
    expect(result.titleSource).toBe("hello [file-reference] src/a.ts:3\n```\nlet x = 1;\n```");
  });

  it.each<[string, ChatInputPart[] | undefined, [string, string]]>([
    ["no content", undefined, ["Content is required.", "Content cannot be empty."]],
    ["an empty array", [], ["Content is required.", "Content cannot be empty."]],
    ["blank text", [{ type: "text", text: "ok" }, { type: "text", text: " \n\t" }], ["Invalid input part.", "content[1].text cannot be empty."]],
    ["text missing", [{ type: "text" }], ["Invalid input part.", "content[0].text cannot be empty."]],
    ["a file without id", [{ type: "file" }], ["Invalid input part.", "content[0].file_id is required for file parts."]],
    ["an unknown file", [{ type: "file", file_id: "1f8e2a51-3c6d-4e7f-8a9b-0c1d2e3f4a5b" }], ["Invalid input part.", "content[0].file_id references a file that does not exist."]],
    ["a malformed file id", [{ type: "file", file_id: "../etc/passwd" }], ["Invalid input part.", "content[0].file_id references a file that does not exist."]],
    ["a nameless file reference", [{ type: "file-reference", file_name: "  " }], ["Invalid input part.", "content[0].file_name cannot be empty for file-reference."]],
    ["an unknown type", [{ type: "Image" }], ["Invalid input part.", 'content[0].type "Image" is not supported.']],
  ])("refuses %s", async (_name, parts, expected) => {
    expect(await refusal(parts)).toEqual(expected);
  });

  it("bounds the number of parts and the size of each text", async () => {
    const many = Array.from({ length: MAX_INPUT_PARTS + 1 }, () => ({ type: "text", text: "x" }));
    expect((await refusal(many))[0]).toBe("Invalid input part.");
    expect((await validate(many.slice(0, MAX_INPUT_PARTS))).parts).toHaveLength(MAX_INPUT_PARTS);
    // Bytes, not characters: 2-byte characters reach the limit at half the length.
    const big = "é".repeat(MAX_INPUT_TEXT_BYTES / 2 + 1);
    expect(await refusal([{ type: "text", text: big }])).toEqual(["Invalid input part.", `content[0].text is longer than ${MAX_INPUT_TEXT_BYTES} bytes.`]);
    expect((await refusal([{ type: "file-reference", file_name: "a", content: big }]))[1]).toBe(`content[0].content is longer than ${MAX_INPUT_TEXT_BYTES} bytes.`);
  });
});

describe("renderFileReference", () => {
  it("shows one line or a range, and the code only when there is some", () => {
    expect(renderFileReference({ file_name: "a.go", start_line: 4, end_line: 4, content: "  " })).toBe("[file-reference] a.go:4");
    expect(renderFileReference({ file_name: "a.go", start_line: 4, end_line: 9, content: "\nfunc f() {}\n" })).toBe("[file-reference] a.go:4-9\n```\nfunc f() {}\n```");
  });
});

describe("fallbackTitle", () => {
  it.each([
    ["six words or fewer stay whole", "Fix the failing login test now", "Fix the failing login test now"],
    ["more than six get an ellipsis", "Fix the failing login test now please", "Fix the failing login test now…"],
    ["whitespace of any kind separates words", "  one\ttwo\n\nthree  ", "one two three"],
    ["nothing is New Chat", "   ", "New Chat"],
    ["the empty string is New Chat", "", "New Chat"],
    ["NUL is dropped", "a\u0000b c", "ab c"],
  ])("%s", (_name, source, title) => {
    expect(fallbackTitle(source)).toBe(title);
  });

  it("cuts at 80 runes, counting code points not UTF-16 units", () => {
    const long = `${"a".repeat(100)} b`;
    expect(fallbackTitle(long)).toBe("a".repeat(80));
    const emoji = "😀".repeat(90);
    const title = fallbackTitle(emoji);
    expect(Array.from(title)).toHaveLength(80);
    expect(title).toBe("😀".repeat(80));
  });

  it("renders file references as words of the title", async () => {
    const { titleSource } = await validate([{ type: "file-reference", file_name: "bug.py", start_line: 7, end_line: 7, content: "x = None" }]);
    expect(fallbackTitle(titleSource)).toBe("[file-reference] bug.py:7 ``` x = None…");
  });
});

describe("initialMessages", () => {
  const base = { hasWorkspace: false, userParts: [{ type: "text" as const, text: "hi" }], ownerId: "u1", modelConfigId: "m1" };

  it("starts with the default system prompt when the site prompt is blank, then workspace awareness, then the user", () => {
    const messages = initialMessages({ ...base, sitePrompt: " \n " });
    expect(messages).toEqual([
      { role: "system", parts: [{ type: "text", text: DEFAULT_SYSTEM_PROMPT }], visibility: "model" },
      { role: "system", parts: [{ type: "text", text: NO_WORKSPACE_MESSAGE }], visibility: "model" },
      { role: "user", parts: base.userParts, visibility: "both", createdBy: "u1", modelConfigId: "m1" },
    ]);
  });

  it("uses the site prompt when one is set", () => {
    expect(initialMessages({ ...base, sitePrompt: "Be brief." })[0]?.parts).toEqual([{ type: "text", text: "Be brief." }]);
  });
});
