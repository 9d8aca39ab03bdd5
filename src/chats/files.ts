/**
 * Chat file uploads (behavior.md section 3, `/files`): which types are accepted, how the real type
 * is sniffed from the bytes, and the file name carried in `Content-Disposition` both ways.
 *
 * Files are served back to browsers from chatd's own origin, so the declared Content-Type is never
 * trusted: the first bytes must be one of the allowed image formats too, and the sniffed type is
 * what gets stored and served. SVG is refused outright because it can carry script.
 */

/** behavior.md: uploads up to 10 MiB (413 beyond). */
export const MAX_CHAT_FILE_BYTES = 10 * 1024 * 1024;
/** behavior.md: stored names are at most 255 bytes, the common file-system limit. */
export const MAX_CHAT_FILE_NAME_BYTES = 255;

export const ALLOWED_CHAT_FILE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export type ChatFileType = (typeof ALLOWED_CHAT_FILE_TYPES)[number];

export function isAllowedChatFileType(value: string): value is ChatFileType {
  return ALLOWED_CHAT_FILE_TYPES.some((type) => type === value);
}

/** `image/PNG; charset=x` → `image/png`: the media type without parameters, lower-cased. */
export function baseMediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  bytes.length >= at + signature.length && signature.every((byte, i) => bytes[at + i] === byte);

const ascii = (text: string): number[] => Array.from(text, (ch) => ch.charCodeAt(0));

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
const GIF87_SIGNATURE = ascii("GIF87a");
const GIF89_SIGNATURE = ascii("GIF89a");
const RIFF = ascii("RIFF");
const WEBP = ascii("WEBP");
/** WebP: "RIFF", a 4-byte little-endian size, then "WEBP". */
const WEBP_TAG_OFFSET = 8;

/** The image type the leading bytes prove, or undefined when they are not an allowed image. */
export function sniffChatFileType(bytes: Uint8Array): ChatFileType | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return "image/png";
  if (startsWith(bytes, JPEG_SIGNATURE)) return "image/jpeg";
  if (startsWith(bytes, GIF87_SIGNATURE) || startsWith(bytes, GIF89_SIGNATURE)) return "image/gif";
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, WEBP_TAG_OFFSET)) return "image/webp";
  return undefined;
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a code point. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/**
 * Control characters never belong in a name, and CR/LF decoded from `filename*` would break the
 * download's header (and the text column refuses NUL).
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** The stored form of an uploaded file's name: no control characters, at most 255 bytes. */
export function cleanChatFileName(name: string): string {
  return truncateUtf8(name.replace(CONTROL_CHARACTERS, "").trim(), MAX_CHAT_FILE_NAME_BYTES);
}

interface DispositionParameter {
  name: string;
  value: string;
}

/** RFC 7230 token characters. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Splits `type; a=b; c="d;e"` into parameters, honoring quoted strings and their escapes. */
function dispositionParameters(header: string): DispositionParameter[] | undefined {
  const params: DispositionParameter[] = [];
  let i = header.indexOf(";");
  if (i === -1) return params;
  while (i < header.length) {
    if (header.charAt(i) !== ";") return undefined;
    i++;
    while (header.charAt(i) === " " || header.charAt(i) === "\t") i++;
    if (i >= header.length) break;
    const eq = header.indexOf("=", i);
    if (eq === -1) return undefined;
    const name = header.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    i = eq + 1;
    while (header.charAt(i) === " " || header.charAt(i) === "\t") i++;
    let value = "";
    if (header.charAt(i) === '"') {
      i++;
      let closed = false;
      while (i < header.length) {
        const ch = header.charAt(i);
        if (ch === "\\" && i + 1 < header.length) {
          value += header.charAt(i + 1);
          i += 2;
          continue;
        }
        i++;
        if (ch === '"') {
          closed = true;
          break;
        }
        value += ch;
      }
      if (!closed) return undefined;
    } else {
      const end = header.indexOf(";", i);
      value = header.slice(i, end === -1 ? header.length : end).trim();
      i = end === -1 ? header.length : end;
    }
    params.push({ name, value });
    while (header.charAt(i) === " " || header.charAt(i) === "\t") i++;
  }
  return params;
}

/** RFC 5987 `charset'language'percent-encoded`; UTF-8 and ISO-8859-1 are the charsets defined. */
function decodeExtendedValue(value: string): string | undefined {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!match) return undefined;
  const charset = (match[1] ?? "").toLowerCase();
  const encoded = match[2] ?? "";
  if (!/^(?:%[0-9A-Fa-f]{2}|[^%])*$/.test(encoded)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded.charAt(i) === "%") {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  if (charset === "utf-8") {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      return undefined;
    }
  }
  if (charset === "iso-8859-1") return Buffer.from(bytes).toString("latin1");
  return undefined;
}

/**
 * The file name an upload's `Content-Disposition` carries (`filename*=UTF-8''…` preferred over
 * `filename=`), cleaned for storage; "" when there is none or the header cannot be parsed.
 */
export function fileNameFromContentDisposition(header: string | undefined): string {
  if (!header) return "";
  const params = dispositionParameters(header);
  if (!params) return "";
  const extended = params.find((param) => param.name === "filename*");
  const decoded = extended ? decodeExtendedValue(extended.value) : undefined;
  const plain = params.find((param) => param.name === "filename")?.value;
  return cleanChatFileName(decoded ?? plain ?? "");
}

/** RFC 5987 attr-char: everything else is percent-encoded. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+.^_`|~-]/;

function encodeExtendedValue(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * `inline; filename="…"` for a download. A non-ASCII name gets an ASCII stand-in in `filename`
 * (for old clients) and the exact name in `filename*` (RFC 6266 / 5987).
 */
export function inlineContentDisposition(name: string): string {
  const clean = name.replace(CONTROL_CHARACTERS, "");
  if (clean === "") return "inline";
  const quoted = (text: string) => `"${text.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
  if (/^[\u0020-\u007e]*$/.test(clean)) return `inline; filename=${quoted(clean)}`;
  const fallback = clean.replace(/[^\u0020-\u007e]/gu, "_");
  return `inline; filename=${quoted(fallback)}; filename*=UTF-8''${encodeExtendedValue(clean)}`;
}
