/**
 * The `command` provisioner (PRODUCT.md section 5): an admin's start and stop commands, run with
 * `sh -c` on the server's machine, launch and stop `chatd agent` wherever they like (ssh, a
 * container, a pod). The start command gets the agent's token and the URL to dial.
 *
 * Invariants:
 * - Commands run in `<dataDir>/workspaces/<id>/` (so a start command can leave state, a pid file
 *   say, for the stop command), with HOME the server user's home (ssh keys, kube config are the
 *   admin's tools), and otherwise only the minimal environment plus the CHATD_* variables below.
 * - The exit code decides success. A start command may leave a background process behind: the
 *   build completes at the command's exit, not when its output closes (process.ts). Such a
 *   process should redirect its output, which is otherwise read and discarded after the build.
 * - Only start commands see the token (CHATD_AGENT_TOKEN); stop commands do not.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parameterEnv } from "../parameters.js";
import { minimalEnv } from "./env.js";
import { describeExit, runLogged } from "./process.js";
import type { ProvisionContext, Provisioner } from "./types.js";

export interface CommandProvisionerOptions {
  dataDir: string;
  hostEnv: Readonly<Record<string, string | undefined>>;
}

export class CommandProvisioner implements Provisioner {
  constructor(private readonly options: CommandProvisionerOptions) {}

  dir(workspaceId: string): string {
    return path.join(path.resolve(this.options.dataDir), "workspaces", workspaceId);
  }

  #env(ctx: ProvisionContext): Record<string, string> {
    return {
      ...minimalEnv({ home: os.homedir(), owner: ctx.owner, hostEnv: this.options.hostEnv }),
      CHATD_AGENT_URL: ctx.serverUrl,
      CHATD_WORKSPACE_ID: ctx.workspace.id,
      CHATD_WORKSPACE_NAME: ctx.workspace.name,
      CHATD_WORKSPACE_OWNER: ctx.owner.username,
      ...parameterEnv(ctx.parameters),
    };
  }

  async #run(ctx: ProvisionContext, which: "start" | "stop", script: string, env: Record<string, string>): Promise<void> {
    const cwd = this.dir(ctx.workspace.id);
    fs.mkdirSync(cwd, { recursive: true, mode: 0o700 });
    ctx.log(`Running the ${which} command\n`);
    const result = await runLogged({ command: "/bin/sh", args: ["-c", script], cwd, env, log: ctx.log, signal: ctx.signal, killGroupOnExit: false });
    ctx.signal.throwIfAborted();
    if (result.code !== 0) throw new Error(`the ${which} command ${describeExit(result)}`);
  }

  async start(ctx: ProvisionContext): Promise<void> {
    if (!ctx.agent) throw new Error("a start build needs agent credentials");
    if (ctx.template.startCommand.trim() === "") throw new Error("the template has no start command");
    await this.#run(ctx, "start", ctx.template.startCommand, { ...this.#env(ctx), CHATD_AGENT_TOKEN: ctx.agent.token });
  }

  async stop(ctx: ProvisionContext): Promise<void> {
    if (ctx.template.stopCommand.trim() === "") {
      ctx.log("The template has no stop command; nothing to do\n");
      return;
    }
    await this.#run(ctx, "stop", ctx.template.stopCommand, this.#env(ctx));
  }

  async destroy(ctx: ProvisionContext): Promise<void> {
    await this.stop(ctx);
    await fs.promises.rm(this.dir(ctx.workspace.id), { recursive: true, force: true });
  }
}
