/** Upload checks and file names (chats/files.ts): sniffing, Content-Disposition both ways, cuts. */
import { describe, expect, it } from "vitest";
import {
  baseMediaType,
  cleanChatFileName,
  fileNameFromContentDisposition,
  inlineContentDisposition,
  isAllowedChatFileType,
  MAX_CHAT_FILE_NAME_BYTES,
  sniffChatFileType,
  truncateUtf8,
} from "../../src/chats/files.js";

const bytes = (...values: number[]) => Uint8Array.from(values);
const ascii = (text: string) => new TextEncoder().encode(text);

describe("sniffChatFileType", () => {
  it.each([
    ["png", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0), "image/png"],
    ["jpeg", bytes(0xff, 0xd8, 0xff, 0xdb), "image/jpeg"],
    ["gif87a", ascii("GIF87a.."), "image/gif"],
    ["gif89a", ascii("GIF89a.."), "image/gif"],
    ["webp", ascii("RIFF\u0000\u0000\u0000\u0000WEBPVP8L"), "image/webp"],
  ])("recognizes %s", (_name, data, type) => {
    expect(sniffChatFileType(data)).toBe(type);
  });

  it.each([
    ["svg", ascii("<svg xmlns='http://www.w3.org/2000/svg'/>")],
    ["html", ascii("<!DOCTYPE html><html>")],
    ["a truncated png signature", bytes(0x89, 0x50, 0x4e, 0x47)],
    ["a RIFF that is not WebP (wav)", ascii("RIFF\u0000\u0000\u0000\u0000WAVEfmt ")],
    ["nothing", bytes()],
  ])("refuses %s", (_name, data) => {
    expect(sniffChatFileType(data)).toBeUndefined();
  });
});

describe("declared types", () => {
  it("strips parameters and case, and allows only the four image types", () => {
    expect(baseMediaType("Image/PNG; charset=binary")).toBe("image/png");
    expect(baseMediaType(undefined)).toBe("");
    expect(["image/png", "image/jpeg", "image/gif", "image/webp"].every(isAllowedChatFileType)).toBe(true);
    expect(isAllowedChatFileType("image/svg+xml")).toBe(false);
    expect(isAllowedChatFileType("")).toBe(false);
  });
});

describe("file names", () => {
  it("cuts to a byte budget on code point boundaries", () => {
    expect(truncateUtf8("abc", 2)).toBe("ab");
    expect(truncateUtf8("éé", 3)).toBe("é");
    expect(truncateUtf8("a😀", 4)).toBe("a");
    expect(truncateUtf8("a😀", 5)).toBe("a😀");
    expect(Buffer.byteLength(cleanChatFileName("€".repeat(100)))).toBe(255);
    expect(Buffer.byteLength(cleanChatFileName("é".repeat(200)))).toBe(254);
    expect(Buffer.byteLength(cleanChatFileName("x".repeat(999)))).toBe(MAX_CHAT_FILE_NAME_BYTES);
  });

  it.each([
    ['attachment; filename="a b.png"', "a b.png"],
    ["inline; filename=plain.png", "plain.png"],
    ['form-data; name="file"; filename="x.gif"', "x.gif"],
    [`attachment; filename*=UTF-8''%E2%82%AC.png; filename="fallback.png"`, "€.png"],
    [`attachment; filename*=utf-8'en'caf%C3%A9.png`, "café.png"],
    [`attachment; filename*=ISO-8859-1''caf%E9.png`, "café.png"],
    [`attachment; filename*=UTF-8''%FF%FE.png; filename="fallback.png"`, "fallback.png"],
    ['attachment; filename="esc\\"aped\\\\.png"', 'esc"aped\\.png'],
    ["attachment; filename*=UTF-8''a%00b%0D%0A.png", "ab.png"],
    ['attachment; filename="unterminated', ""],
    ["attachment", ""],
    ["", ""],
  ])("reads %j", (header, name) => {
    expect(fileNameFromContentDisposition(header)).toBe(name);
  });

  it("writes inline dispositions: quoted ASCII, RFC 5987 beside an ASCII stand-in otherwise", () => {
    expect(inlineContentDisposition("")).toBe("inline");
    expect(inlineContentDisposition("shot.png")).toBe('inline; filename="shot.png"');
    expect(inlineContentDisposition('a"b\\c.png')).toBe('inline; filename="a\\"b\\\\c.png"');
    expect(inlineContentDisposition("naïve (1)*.png")).toBe(`inline; filename="na_ve (1)*.png"; filename*=UTF-8''na%C3%AFve%20%281%29%2A.png`);
    expect(inlineContentDisposition("😀.png")).toBe(`inline; filename="_.png"; filename*=UTF-8''%F0%9F%98%80.png`);
  });
});
