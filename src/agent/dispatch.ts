/**
 * Turns one `request` frame into exactly one `response` frame: finds the method, validates its
 * params with the protocol's schema, runs the handler, validates the result.
 *
 * Invariants:
 * - Never throws: unknown method → `unknown_method`, bad params → `bad_request`, AgentError → its
 *   code, anything else → `internal` (and a log line, since it is our bug).
 * - Every path-touching request records the paths for the chat and its ancestors (git watch) and
 *   then asks their watches to rescan, whether or not the tool succeeded.
 */
import { z } from "zod";
import { performAction, pngSize } from "./desktop/actions.js";
import type { Desktop } from "./desktop/desktop.js";
import type { VncBridges } from "./desktop/vnc.js";
import { AgentError, badRequest, errorMessage } from "./errors.js";
import { editFiles, readFileLines, writeFileAtomic } from "./files.js";
import type { GitWatchManager } from "./gitwatch.js";
import { readInstructions } from "./instructions.js";
import { resolveAgentPath } from "./paths.js";
import type { ProcessManager, ProcessOwner } from "./processes.js";
import { agentMethods, type AgentMethod, type AgentToServerFrame, type RequestFrame, type responseFrame } from "./protocol.js";
import type { TouchedPaths } from "./touched.js";

export type ResponseFrame = z.infer<typeof responseFrame>;

/** Where a request came in; stream frames (git watch) go back the same way. */
export interface Session {
  send(frame: AgentToServerFrame): void;
}

export interface DispatchDeps {
  directory: string;
  processes: ProcessManager;
  paths: TouchedPaths;
  gitWatch: GitWatchManager;
  desktop: Desktop;
  vnc: VncBridges;
  log: (line: string) => void;
}

interface RequestContext extends ProcessOwner {
  session: Session;
}

type Handler = (raw: unknown, context: RequestContext) => Promise<unknown>;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "params"}: ${issue.message}`).join("; ");
}

/** Binds a handler to its method's schemas, so params and result are typed by the protocol. */
function bind<P extends z.ZodType, R extends z.ZodType>(
  spec: { params: P; result: R },
  handler: (params: z.output<P>, context: RequestContext) => Promise<z.input<R>> | z.input<R>,
): Handler {
  return async (raw, context) => {
    const params = spec.params.safeParse(raw ?? {});
    if (!params.success) throw badRequest(`invalid params: ${describeIssues(params.error)}`);
    const result = spec.result.safeParse(await handler(params.data, context));
    if (!result.success) throw new AgentError("internal", `agent result does not match the protocol: ${describeIssues(result.error)}`);
    return result.data;
  };
}

function isAgentMethod(name: string): name is AgentMethod {
  return Object.hasOwn(agentMethods, name);
}

export function createDispatcher(deps: DispatchDeps): (frame: RequestFrame, session: Session) => Promise<ResponseFrame> {
  const { directory, processes, paths, gitWatch, desktop, vnc } = deps;
  const resolve = (input: string) => resolveAgentPath(input, directory);
  /** Records what a tool touched, runs it, then lets the chats' watches look again. */
  const touching = async <T>(context: RequestContext, record: () => void, run: () => Promise<T>): Promise<T> => {
    record();
    try {
      return await run();
    } finally {
      gitWatch.notifyChats(context.chatIds);
    }
  };
  const requireChat = (context: RequestContext): string => {
    if (context.chatId === "") throw badRequest("git.watch needs the request's chat_id");
    return context.chatId;
  };

  const handlers: Record<AgentMethod, Handler> = {
    ping: bind(agentMethods.ping, () => ({})),
    "process.start": bind(agentMethods["process.start"], async (params, context) => {
      const workdir = await processes.resolveWorkdir(params.workdir);
      const env = { ...(await desktop.displayEnv()), ...params.env };
      return touching(
        context,
        () => paths.touch(context.chatIds, workdir),
        () => processes.start({ ...params, workdir, env }, context),
      );
    }),
    "process.list": bind(agentMethods["process.list"], (_params, context) => processes.list(context)),
    "process.output": bind(agentMethods["process.output"], (params, context) => processes.output(params, context)),
    "process.signal": bind(agentMethods["process.signal"], (params, context) => processes.signal(params, context)),
    "file.read": bind(agentMethods["file.read"], (params, context) => {
      const file = resolve(params.path);
      return touching(
        context,
        () => paths.touchFile(context.chatIds, file),
        () => readFileLines(file, params),
      );
    }),
    "file.write": bind(agentMethods["file.write"], async (params, context) => {
      const file = resolve(params.path);
      await touching(
        context,
        () => paths.touchFile(context.chatIds, file),
        () => writeFileAtomic(file, params.content),
      );
      return { ok: true as const };
    }),
    "file.edit": bind(agentMethods["file.edit"], async (params, context) => {
      const files = params.files.map((entry) => ({ path: resolve(entry.path), edits: entry.edits }));
      await touching(
        context,
        () => files.forEach((entry) => paths.touchFile(context.chatIds, entry.path)),
        () => editFiles(files),
      );
      return { ok: true as const };
    }),
    "instructions.read": bind(agentMethods["instructions.read"], () => readInstructions(directory)),
    "git.watch.start": bind(agentMethods["git.watch.start"], (params, context) => {
      const chatId = requireChat(context);
      gitWatch.start(params.stream_id, chatId, context.session, (data) => context.session.send({ type: "stream", stream_id: params.stream_id, data }));
      return {};
    }),
    "git.watch.refresh": bind(agentMethods["git.watch.refresh"], async (params) => {
      await gitWatch.refresh(params.stream_id);
      return {};
    }),
    "git.watch.stop": bind(agentMethods["git.watch.stop"], (params) => {
      gitWatch.stop(params.stream_id);
      return {};
    }),
    "desktop.start": bind(agentMethods["desktop.start"], () => desktop.start()),
    "desktop.action": bind(agentMethods["desktop.action"], async (params) => {
      const png = await performAction(desktop, params);
      const size = pngSize(png);
      if (size === undefined) throw new AgentError("internal", "the screenshot is not a PNG");
      return { png_base64: png.toString("base64"), ...size };
    }),
    "desktop.stop": bind(agentMethods["desktop.stop"], async () => {
      vnc.closeAll();
      await desktop.stop();
      return {};
    }),
    "desktop.vnc.open": bind(agentMethods["desktop.vnc.open"], async (params, context) => {
      await vnc.open(params.stream_id, context.session);
      return {};
    }),
    "desktop.vnc.write": bind(agentMethods["desktop.vnc.write"], (params, context) => {
      vnc.write(params.stream_id, context.session, Buffer.from(params.data_base64, "base64"));
      return {};
    }),
    "desktop.vnc.close": bind(agentMethods["desktop.vnc.close"], (params, context) => {
      vnc.close(params.stream_id, context.session);
      return {};
    }),
  };

  return async (frame, session) => {
    const chatIds = [frame.chat_id, ...(frame.ancestor_chat_ids ?? [])].filter((id): id is string => id !== undefined && id !== "");
    const context: RequestContext = { chatId: frame.chat_id ?? "", chatIds, session };
    if (!isAgentMethod(frame.method)) {
      return { type: "response", id: frame.id, ok: false, error: { code: "unknown_method", message: `unknown method ${JSON.stringify(frame.method)}` } };
    }
    try {
      const result = await handlers[frame.method](frame.params, context);
      return { type: "response", id: frame.id, ok: true, result };
    } catch (error) {
      if (error instanceof AgentError) return { type: "response", id: frame.id, ok: false, error: { code: error.code, message: error.message } };
      deps.log(`${frame.method} (request ${frame.id}) failed: ${errorMessage(error)}`);
      return { type: "response", id: frame.id, ok: false, error: { code: "internal", message: errorMessage(error) } };
    }
  };
}
