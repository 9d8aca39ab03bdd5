/**
 * Users, groups, login and API tokens (PRODUCT.md section 4), and the caller's git host links.
 * The username, email and password rules live here so a form can check them as the server does.
 */
import { z } from "zod";

const timestamp = z.iso.datetime({ offset: true });

export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];
export const USER_STATUSES = ["active", "suspended"] as const;

/** Coder's username rule: letters and digits, single hyphens between them, at most 32. */
export const usernameSchema = z
  .string()
  .min(1, "Username is required.")
  .max(32, "Username must be at most 32 characters.")
  .regex(/^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/, "Username may contain letters, digits and single hyphens between them.");
export const emailSchema = z.email("Must be a valid email address.").max(254);
/** 8 to 256 characters: long enough to matter, short enough that hashing cannot be abused. */
export const passwordSchema = z
  .string()
  .min(8, "Password must be at least 8 characters.")
  .max(256, "Password must be at most 256 characters.");

export const userResponseSchema = z
  .object({
    id: z.uuid(),
    username: z.string(),
    email: z.string(),
    name: z.string(),
    roles: z.array(z.enum(ROLES)),
    status: z.enum(USER_STATUSES),
    created_at: timestamp,
    updated_at: timestamp,
    last_seen_at: timestamp.nullable(),
  })
  .meta({ id: "User" });
export type UserResponse = z.infer<typeof userResponseSchema>;

export const groupMemberSchema = z.object({ id: z.uuid(), username: z.string(), name: z.string(), email: z.string() });

export const groupResponseSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    display_name: z.string(),
    members: z.array(groupMemberSchema),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Group" });
export type GroupResponse = z.infer<typeof groupResponseSchema>;

/** `POST /users/first`: only while no user exists; the user becomes the owner. */
export const firstUserRequestSchema = z.object({
  username: usernameSchema,
  email: emailSchema,
  password: passwordSchema,
  name: z.string().max(128).optional(),
});
export type FirstUserRequest = z.input<typeof firstUserRequestSchema>;

/** Either field may hold the email or the username: the server matches the value against both. */
export const loginRequestSchema = z
  .object({
    email: z.string().min(1).max(254).optional(),
    username: z.string().min(1).max(254).optional(),
    password: z.string().min(1, "Password is required.").max(256),
  })
  .refine((body) => body.email !== undefined || body.username !== undefined, {
    message: "Either email or username is required.",
    path: ["email"],
  });
export type LoginRequest = z.input<typeof loginRequestSchema>;

/** What `GET /users/first` and `POST /users/logout` answer: a sentence for a person. */
export const messageResponseSchema = z.object({ message: z.string() });

export const loginResponseSchema = z.object({ session_token: z.string() }).meta({ id: "LoginResponse" });
export type LoginResponse = z.infer<typeof loginResponseSchema>;

/** Longest lifetime a user may ask for on an API token: one year. */
export const API_KEY_MAX_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

export const createKeyRequestSchema = z.object({
  name: z.string().max(64).optional(),
  lifetime_seconds: z
    .number()
    .int()
    .min(60)
    .max(API_KEY_MAX_LIFETIME_MS / 1000)
    .optional(),
});
export type CreateKeyRequest = z.input<typeof createKeyRequestSchema>;

/** `key` is `<id>-<secret>` and is shown only in this response. */
export const createKeyResponseSchema = z.object({ id: z.string(), key: z.string() }).meta({ id: "CreatedApiKey" });
export type CreatedApiKey = z.infer<typeof createKeyResponseSchema>;

export const apiKeyResponseSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: timestamp,
    last_used_at: timestamp.nullable(),
    expires_at: timestamp.nullable(),
  })
  .meta({ id: "ApiKey" });
export type ApiKeyResponse = z.infer<typeof apiKeyResponseSchema>;

/** The git hosts chatd keeps a personal token for; only GitHub (and GitHub Enterprise by host) today. */
export const GIT_PROVIDERS = ["github"] as const;
export type GitProvider = (typeof GIT_PROVIDERS)[number];

export const externalAuthLinkSchema = z
  .object({ provider: z.enum(GIT_PROVIDERS), authenticated: z.boolean(), updated_at: z.string().nullable() })
  .meta({ id: "ExternalAuthLink" });
export type ExternalAuthLink = z.infer<typeof externalAuthLinkSchema>;
