/**
 * Computer actions on the desktop (the agent side of Anthropic's `computer` tool, behavior.md
 * section 6): each action runs through xdotool and is followed by a PNG screenshot of the whole
 * screen, taken with ImageMagick's `import`.
 *
 * Invariants:
 * - Every action is validated by desktopActionSchema (protocol shape) and then against the
 *   running display's size: a coordinate outside the screen is a bad_request, never clamped, so
 *   the model learns its mistake instead of clicking somewhere else.
 * - Typed text and key names go to xdotool as single arguments after `--`; nothing is ever
 *   interpreted by a shell or as an xdotool option.
 * - `wait` is the one deliberate pause (the model asks for time to pass) and is capped.
 */
import { z } from "zod";
import { AgentError, badRequest } from "../errors.js";
import type { Desktop, DesktopInfo } from "./desktop.js";
import { MAX_SCREENSHOT_BYTES } from "./programs.js";

/** behavior.md section 6: `wait` sleeps `duration` ms, default 1000. */
export const DEFAULT_WAIT_MS = 1_000;
/** A model asking for more than a minute is stuck; holding a tool call longer helps nobody. */
export const MAX_WAIT_MS = 60_000;
/** Anthropic's scroll_amount is in wheel clicks; more than 50 at once is a runaway loop. */
export const MAX_SCROLL_AMOUNT = 50;
/** Typed text beyond this is a paste, not typing; xdotool would take minutes at its key delay. */
export const MAX_TYPE_CHARS = 10_000;
/** xdotool's default 12 ms between keystrokes: fast, yet slow enough for terminals not to drop keys. */
const TYPE_DELAY_MS = 12;
/** One xdotool keysym or chord: letters, digits, `_` and `+` (e.g. "Return", "ctrl+a", "KP_Enter"). */
const KEY_PATTERN = /^[A-Za-z0-9_+]+$/;

const coordinate = z.tuple([z.number().int().min(0), z.number().int().min(0)]);
const pointAction = <A extends string>(action: A) => z.object({ action: z.literal(action), coordinate });

export const desktopActionSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("screenshot") }),
  pointAction("mouse_move"),
  pointAction("left_click"),
  pointAction("right_click"),
  pointAction("middle_click"),
  pointAction("double_click"),
  z.object({ action: z.literal("type"), text: z.string().min(1).max(MAX_TYPE_CHARS) }),
  z.object({
    action: z.literal("key"),
    /** Space-separated keys pressed in turn; each may be a chord such as "ctrl+a". */
    text: z
      .string()
      .trim()
      .min(1)
      .refine((text) => text.split(/\s+/).every((key) => KEY_PATTERN.test(key)), "key must be xdotool key names such as Return or ctrl+a"),
  }),
  z.object({
    action: z.literal("scroll"),
    coordinate,
    scroll_direction: z.enum(["up", "down", "left", "right"]),
    scroll_amount: z.number().int().min(1).max(MAX_SCROLL_AMOUNT),
  }),
  z.object({ action: z.literal("left_click_drag"), start_coordinate: coordinate, coordinate }),
  z.object({ action: z.literal("wait"), duration: z.number().int().min(0).max(MAX_WAIT_MS).default(DEFAULT_WAIT_MS) }),
]);
export type DesktopAction = z.output<typeof desktopActionSchema>;

/** X buttons: 1 left, 2 middle, 3 right; 4–7 are the wheel's up, down, left, right. */
const BUTTONS = { left_click: "1", middle_click: "2", right_click: "3" } as const;
const SCROLL_BUTTONS = { up: "4", down: "5", left: "6", right: "7" } as const;

function checkInside(point: readonly [number, number], info: DesktopInfo, field: string): string[] {
  const [x, y] = point;
  if (x >= info.width || y >= info.height) {
    throw badRequest(`${field} (${x}, ${y}) is outside the ${info.width}x${info.height} display`);
  }
  return [String(x), String(y)];
}

/** The xdotool arguments for an action; undefined for actions that need no input. */
export function xdotoolArgs(action: DesktopAction, info: DesktopInfo): string[] | undefined {
  switch (action.action) {
    case "screenshot":
    case "wait":
      return undefined;
    case "mouse_move":
      return ["mousemove", "--sync", ...checkInside(action.coordinate, info, "coordinate")];
    case "left_click":
    case "right_click":
    case "middle_click":
      return ["mousemove", "--sync", ...checkInside(action.coordinate, info, "coordinate"), "click", BUTTONS[action.action]];
    case "double_click":
      return ["mousemove", "--sync", ...checkInside(action.coordinate, info, "coordinate"), "click", "--repeat", "2", "1"];
    case "type":
      return ["type", "--delay", String(TYPE_DELAY_MS), "--", action.text];
    case "key":
      return ["key", "--", ...action.text.split(/\s+/)];
    case "scroll":
      return [
        "mousemove",
        "--sync",
        ...checkInside(action.coordinate, info, "coordinate"),
        "click",
        "--repeat",
        String(action.scroll_amount),
        SCROLL_BUTTONS[action.scroll_direction],
      ];
    case "left_click_drag":
      return [
        "mousemove",
        "--sync",
        ...checkInside(action.start_coordinate, info, "start_coordinate"),
        "mousedown",
        "1",
        "mousemove",
        "--sync",
        ...checkInside(action.coordinate, info, "coordinate"),
        "mouseup",
        "1",
      ];
  }
}

/** The PNG signature every screenshot must start with. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk (always the first chunk), or undefined if not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } | undefined {
  if (png.length < 24 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString("latin1", 12, 16) !== "IHDR") return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** A PNG of the whole screen. */
export async function screenshot(desktop: Desktop): Promise<Buffer> {
  const png = await desktop.run("import", ["-window", "root", "png:-"]);
  if (pngSize(png) === undefined) throw new AgentError("internal", `import produced no PNG (${png.length} bytes)`);
  if (png.length > MAX_SCREENSHOT_BYTES) throw new AgentError("internal", `screenshot is ${png.length} bytes, over the ${MAX_SCREENSHOT_BYTES} limit`);
  return png;
}

/** Performs one action and returns the screenshot taken after it. */
export async function performAction(desktop: Desktop, action: DesktopAction): Promise<Buffer> {
  const info = await desktop.start();
  const args = xdotoolArgs(action, info);
  if (args !== undefined) await desktop.run("xdotool", args);
  if (action.action === "wait") await new Promise((resolve) => setTimeout(resolve, action.duration));
  return screenshot(desktop);
}
