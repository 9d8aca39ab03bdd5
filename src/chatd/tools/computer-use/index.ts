/**
 * Computer use (behavior.md section 6): `spawn_computer_use_agent` lets a root chat delegate to a
 * child that drives the workspace's virtual desktop through Anthropic's `computer` tool.
 *
 * Invariants:
 * - spawn_computer_use_agent is offered to root chats only, and only while the desktop is
 *   enabled (site setting) AND the Anthropic provider has a key: the child could not run
 *   otherwise. Its execute checks both again, because a stored history can replay a call.
 * - The child has mode `computer_use`; the daemon runs it on COMPUTER_USE_MODEL whatever the
 *   parent's model is. Its first message is a system message: COMPUTER_USE_GUIDANCE, a blank
 *   line, then the task; the task is also its first user message.
 * - `computer` is offered to computer_use chats only, declared as Anthropic's provider-defined
 *   `computer_20251124` tool with the agent's display size, and is run by the loop like any other
 *   tool: the agent performs the action and every action answers with a PNG screenshot, which
 *   reaches the model as an image (`{data, mime_type, text}`, behavior.md section 1).
 */
import { anthropic } from "@ai-sdk/anthropic";
import { DESKTOP_HEIGHT, DESKTOP_WIDTH, desktopActionSchema } from "../../../agent/desktop/schema.js";
import type { ChatHints } from "../../../chats/hints.js";
import { readDesktopEnabled } from "../../../chats/desktop-setting.js";
import { credentialsFor, findProviderRow, type EnvProviderKeys } from "../../../llm/providers.js";
import { COMPUTER_USE_PROVIDER } from "../../../llm/resolve.js";
import type { SecretCipher } from "../../../secrets/cipher.js";
import { z } from "zod";
import { defineTool, toolError, type ChatTool } from "../registry.js";
import { spawnChild, subagentOutput } from "../subagents/index.js";
import { agentForChat, WorkspaceToolError, workspaceToolOutput, type WorkspaceToolDeps } from "../workspace/agent.js";

/**
 * Anthropic accepts images up to 5 MB; a 1280×720 screenshot is far below that, so a bigger
 * result is a broken screen (noise), better refused by the cap than sent.
 */
export const MAX_SCREENSHOT_RESULT_BYTES = 5 * 1024 * 1024;
/** The agent call's deadline: the longest `wait` (20 s) plus the screenshot after it. */
const COMPUTER_ACTION_TIMEOUT_MS = 30_000;

export const COMPUTER_USE_UNAVAILABLE =
  "computer use is not available: it needs the virtual desktop enabled and an Anthropic provider with an API key";

/** The system block of a computer-use child, before its task. */
export const COMPUTER_USE_GUIDANCE = `You control a graphical desktop in the workspace through the computer tool: a ${DESKTOP_WIDTH}x${DESKTOP_HEIGHT} X display. Every action returns a screenshot of the whole screen taken right after it.
- Start with a screenshot, and look at the latest screenshot before each click: windows move and dialogs appear.
- Coordinates are pixels from the top-left corner of the screen.
- Click into a window before typing into it. Use key for special keys and shortcuts (Return, Tab, ctrl+s).
- When something needs time (an application starting, a page loading), use the wait action rather than repeating clicks.
- Programs you start with the execute tool open on this desktop.
- When the task is done, stop calling tools and report what you did and what you saw.`;

export interface ComputerUseToolDeps extends Pick<WorkspaceToolDeps, "db" | "agents"> {
  hints: ChatHints;
  cipher: SecretCipher;
  envKeys: EnvProviderKeys;
}

/** The desktop is enabled and Anthropic can be called: the condition for offering computer use. */
export async function computerUseAvailable(deps: Pick<ComputerUseToolDeps, "db" | "cipher" | "envKeys">): Promise<boolean> {
  if (!(await readDesktopEnabled(deps.db))) return false;
  return credentialsFor(COMPUTER_USE_PROVIDER, await findProviderRow(deps.db, COMPUTER_USE_PROVIDER), deps.envKeys, deps.cipher) !== undefined;
}

export function computerUseTools(deps: ComputerUseToolDeps): ChatTool[] {
  const available = () => computerUseAvailable(deps);

  const spawnComputerUseAgent = defineTool({
    name: "spawn_computer_use_agent",
    description:
      "Delegate a task that needs a graphical desktop (a browser, a GUI application) to a new sub-agent that sees and controls the workspace's virtual desktop. Returns its chat_id; use wait_agent to get its report.",
    inputSchema: z.object({
      prompt: z.string().describe("The complete task for the sub-agent; it sees nothing else of this conversation."),
      title: z.string().max(1_000).optional().describe("A short title for the sub-agent's chat."),
    }),
    rootOnly: true,
    offeredWhen: available,
    execute: async (input, context) => {
      if (!(await available())) return toolError(COMPUTER_USE_UNAVAILABLE);
      return subagentOutput(() =>
        spawnChild({ db: deps.db, hints: deps.hints }, context.chatId, {
          prompt: input.prompt,
          title: input.title,
          mode: "computer_use",
          systemPrompt: (prompt) => `${COMPUTER_USE_GUIDANCE}\n\n${prompt}`,
        }),
      );
    },
  });

  const computer = defineTool({
    name: "computer",
    description: "Anthropic's computer tool: screenshot, mouse and keyboard on the workspace's virtual desktop.",
    inputSchema: desktopActionSchema,
    outputCapBytes: MAX_SCREENSHOT_RESULT_BYTES,
    onlyInMode: "computer_use",
    providerDefinition: anthropic.tools.computer_20251124({ displayWidthPx: DESKTOP_WIDTH, displayHeightPx: DESKTOP_HEIGHT }),
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const agent = await agentForChat(deps, context);
        const shot = await agent.call("desktop.action", input, { signal: context.signal, timeoutMs: COMPUTER_ACTION_TIMEOUT_MS });
        if (shot.width !== DESKTOP_WIDTH || shot.height !== DESKTOP_HEIGHT) {
          // Coordinates would land elsewhere than the model aimed: refuse rather than misclick.
          throw new WorkspaceToolError(`the desktop is ${shot.width}x${shot.height}, not the declared ${DESKTOP_WIDTH}x${DESKTOP_HEIGHT}`);
        }
        return { data: shot.png_base64, mime_type: "image/png", text: "" };
      }),
  });

  return [spawnComputerUseAgent, computer];
}
