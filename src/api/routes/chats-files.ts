/**
 * Chat file upload and download (behavior.md section 3, `/files`). Uploads are raw image bytes,
 * up to 10 MiB: this path gets its own limit instead of the app-wide 4 MiB JSON one (app.ts).
 * Both the declared Content-Type and the sniffed bytes must be an allowed image, and the sniffed
 * type is stored and served, so nothing but those images is ever served from our origin.
 */
import type { Context } from "hono";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { chatFiles } from "../../db/schema/index.js";
import {
  ALLOWED_CHAT_FILE_TYPES,
  baseMediaType,
  fileNameFromContentDisposition,
  inlineContentDisposition,
  isAllowedChatFileType,
  MAX_CHAT_FILE_BYTES,
  sniffChatFileType,
} from "../../chats/files.js";
import { can } from "../../rbac/policy.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { requireActor, type AppEnv } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import type { BodyLimit } from "../body-limit.js";
import { CHATS_PATH, isUuid } from "./chats-common.js";
import { idField, uploadChatFileResponseSchema } from "../../sdk/schemas/chats.js";

export const CHAT_FILES_PATH = `${CHATS_PATH}/files`;
/** Served files never change (a new upload gets a new id), so browsers may keep them for a year. */
const FILE_CACHE_CONTROL = "private, max-age=31536000, immutable";

/** The upload route, whose body may be larger than the app-wide JSON limit. */
export function isChatFileUpload(method: string, path: string): boolean {
  return method === "POST" && path === CHAT_FILES_PATH;
}

/** Applied by the app before authentication, like every body limit (api/body-limit.ts). */
export const CHAT_FILE_BODY_LIMIT: BodyLimit = {
  bytes: MAX_CHAT_FILE_BYTES,
  tooLarge: (c) => c.json({ message: "File too large.", detail: `Maximum file size is ${MAX_CHAT_FILE_BYTES} bytes.` }, 413),
};

const unsupportedType = () => badRequest("Unsupported file type.", `Allowed types: ${ALLOWED_CHAT_FILE_TYPES.join(", ")}.`);

export function registerChatFileRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;

  routes.add({
    method: "post",
    path: CHAT_FILES_PATH,
    summary: "Upload an image (the raw bytes as the body; png, jpeg, gif or webp; up to 10 MiB) to attach to messages",
    tags: ["Chat files"],
    auth: "user",
    params: none,
    // chatd has no organizations: `organization` is accepted for compatibility and ignored.
    query: z.object({ organization: idField.optional() }),
    // The body is raw bytes, read by the handler; `none` keeps the registry from parsing it as JSON.
    body: none,
    status: 201,
    response: uploadChatFileResponseSchema,
    handler: async ({ c }) => {
      const actor = requireActor(c);
      if (!can(actor.subject, "create", { type: "chat_file", ownerId: actor.user.id })) throw forbidden();
      // The declared type is checked first, the sniffed bytes second: both must be allowed.
      if (!isAllowedChatFileType(baseMediaType(c.req.header("Content-Type")))) throw unsupportedType();
      const data = Buffer.from(await c.req.arrayBuffer());
      const sniffed = sniffChatFileType(data);
      if (!sniffed) throw unsupportedType();
      const [file] = await db
        .insert(chatFiles)
        .values({ ownerId: actor.user.id, name: fileNameFromContentDisposition(c.req.header("Content-Disposition")), mimetype: sniffed, data })
        .returning({ id: chatFiles.id });
      if (!file) throw new Error("file insert returned no row");
      return { id: file.id };
    },
  });

  // Registered on the app directly: the route registry answers JSON only, and this is raw bytes.
  routes.app.get(`${CHAT_FILES_PATH}/:file`, async (c: Context<AppEnv>) => {
    const actor = requireActor(c);
    const id = c.req.param("file") ?? "";
    if (!isUuid(id)) throw badRequest("Invalid file ID.");
    const [file] = await db.select().from(chatFiles).where(eq(chatFiles.id, id.toLowerCase())).limit(1);
    // Another user's file answers exactly like a missing one, unless the policy lets the caller read it.
    if (!file || !can(actor.subject, "read", { type: "chat_file", ownerId: file.ownerId })) throw notFound();
    return c.body(new Uint8Array(file.data), 200, {
      "Content-Type": file.mimetype,
      "Content-Disposition": inlineContentDisposition(file.name),
      "Cache-Control": FILE_CACHE_CONTROL,
      // The stored type was sniffed; forbid the browser from second-guessing it.
      "X-Content-Type-Options": "nosniff",
    });
  });
}
