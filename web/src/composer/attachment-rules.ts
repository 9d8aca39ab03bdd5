/** What may be attached to a prompt: the server's upload rules, checked before uploading. */
/** behavior.md section 3, POST /files: PNG, JPEG, GIF and WebP (never SVG), at most 10 MiB. */
export const ALLOWED_IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Attachments per message: enough for screenshots, few enough to keep a prompt reviewable. */
export const MAX_ATTACHMENTS = 10;

/** Why a file cannot be attached, or undefined when it can. */
export function attachmentProblem(file: { name: string; type: string; size: number }): string | undefined {
  if (!ALLOWED_IMAGE_TYPES.some((type) => type === file.type)) return `${file.name || "This file"}: only PNG, JPEG, GIF and WebP images can be attached.`;
  if (file.size > MAX_UPLOAD_BYTES) return `${file.name || "This file"} is ${(file.size / 1024 / 1024).toFixed(1)} MiB; the limit is 10 MiB.`;
  return undefined;
}

