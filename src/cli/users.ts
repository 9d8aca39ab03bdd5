/**
 * `chatd users create`: makes a user straight in the database (first owner on a headless install,
 * or recovery). The password comes from --password or CHATD_USER_PASSWORD, so it need not appear
 * in the shell history.
 */
import { z } from "zod";
import { hashPassword } from "../auth/password.js";
import { loadConfig } from "../config/config.js";
import { openDatabase } from "../db/client.js";
import { RoleSchema } from "../rbac/policy.js";
import { insertUser } from "../users/users.js";
import { UserServiceError } from "../users/errors.js";
import { parseFlags, SERVER_FLAGS, UsageError } from "./usage.js";
import { emailSchema, passwordSchema, usernameSchema } from "../sdk/schemas/users.js";

const createUserFlags = z.object({
  username: usernameSchema,
  email: emailSchema,
  password: passwordSchema,
  name: z.string().max(128).optional(),
  role: RoleSchema.default("member"),
});

export async function runUsers(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "create") throw new UsageError("usage: chatd users create --username U --email E [--password P] [--name N] [--role R]");
  const flags = parseFlags(rest, [...SERVER_FLAGS, "username", "email", "password", "name", "role"]);
  const parsed = createUserFlags.safeParse({ ...flags, password: flags.password ?? process.env.CHATD_USER_PASSWORD });
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((issue) => `--${issue.path.join(".")}: ${issue.message}`).join("; "));
  }
  const config = loadConfig(flags, process.env);
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const user = await insertUser(handle.db, {
      username: parsed.data.username,
      email: parsed.data.email,
      name: parsed.data.name,
      hashedPassword: await hashPassword(parsed.data.password),
      roles: [parsed.data.role],
    });
    process.stdout.write(`created user ${user.username} (${user.id})\n`);
    return 0;
  } catch (error) {
    if (error instanceof UserServiceError) {
      process.stderr.write(`chatd: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await handle.close();
  }
}
