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
 * - No `mousemove --sync`: this xdotool (3.20160805) waits forever when the pointer is already
 *   at the target, and XTest events on one connection are processed in order anyway, so the
 *   click after a move always lands at the new position.
 * - Screenshots are always 8-bit RGB (`png24:`): ImageMagick would otherwise pick 1-bit or
 *   palette PNGs for plain screens, and consumers get one predictable format.
 */
import { AgentError, badRequest } from "../errors.js";
import type { Desktop, DesktopInfo } from "./desktop.js";
import { MAX_SCREENSHOT_BYTES } from "./programs.js";
import type { DesktopAction } from "./schema.js";

export { desktopActionSchema, type DesktopAction } from "./schema.js";

/** xdotool's default 12 ms between keystrokes: fast, yet slow enough for terminals not to drop keys. */
const TYPE_DELAY_MS = 12;

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

/** Moves the pointer first when the click names a point; otherwise clicks where it is. */
function clickAt(point: readonly [number, number] | undefined, info: DesktopInfo, click: string[]): string[] {
  return point === undefined ? click : ["mousemove", ...checkInside(point, info, "coordinate"), ...click];
}

/** The xdotool arguments for an action; undefined for actions that need no input. */
export function xdotoolArgs(action: DesktopAction, info: DesktopInfo): string[] | undefined {
  switch (action.action) {
    case "screenshot":
    case "wait":
      return undefined;
    case "mouse_move":
      return ["mousemove", ...checkInside(action.coordinate, info, "coordinate")];
    case "left_click":
    case "right_click":
    case "middle_click":
      return clickAt(action.coordinate, info, ["click", BUTTONS[action.action]]);
    case "double_click":
      return clickAt(action.coordinate, info, ["click", "--repeat", "2", "1"]);
    case "triple_click":
      return clickAt(action.coordinate, info, ["click", "--repeat", "3", "1"]);
    case "left_mouse_down":
      return ["mousedown", "1"];
    case "left_mouse_up":
      return ["mouseup", "1"];
    case "type":
      return ["type", "--delay", String(TYPE_DELAY_MS), "--", action.text];
    case "key":
      return ["key", "--", ...action.text.split(/\s+/)];
    case "scroll":
      return [
        "mousemove",
        ...checkInside(action.coordinate, info, "coordinate"),
        "click",
        "--repeat",
        String(action.scroll_amount),
        SCROLL_BUTTONS[action.scroll_direction],
      ];
    case "left_click_drag":
      return [
        "mousemove",
        ...checkInside(action.start_coordinate, info, "start_coordinate"),
        "mousedown",
        "1",
        "mousemove",
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
  const png = await desktop.run("import", ["-window", "root", "png24:-"]);
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
