/**
 * The shape of a computer action on the wire (protocol.ts `desktop.action`), Anthropic's
 * `computer` tool arguments (behavior.md section 6). Only zod here, so the protocol can import it
 * without pulling in the code that runs actions.
 *
 * Invariants: coordinates are non-negative integers (the bound check against the running
 * display's size is actions.ts's job); key names are plain xdotool keysyms or chords, so none can
 * read as an xdotool option; every count and duration is capped.
 */
import { z } from "zod";

/**
 * behavior.md section 6: the computer tool declares 1280×720 (scaled from a native 1920×1080).
 * The agent's display is created at exactly this size, so the server declares it to the model
 * and coordinates need no scaling.
 */
export const DESKTOP_WIDTH = 1280;
export const DESKTOP_HEIGHT = 720;

/** behavior.md section 6: `wait` sleeps `duration` ms, default 1000. */
export const DEFAULT_WAIT_MS = 1_000;
/**
 * The server gives an agent call 30 s (agent-conn AGENT_CALL_TIMEOUT_MS); 20 s of waiting leaves
 * room for the screenshot after it, so a long wait answers instead of timing out.
 */
export const MAX_WAIT_MS = 20_000;
/** Anthropic's scroll_amount is in wheel clicks; more than 50 at once is a runaway loop. */
export const MAX_SCROLL_AMOUNT = 50;
/** Typed text beyond this is a paste, not typing; xdotool would take minutes at its key delay. */
export const MAX_TYPE_CHARS = 10_000;
/** One xdotool keysym or chord: letters, digits, `_` and `+` (e.g. "Return", "ctrl+a", "KP_Enter"). */
const KEY_PATTERN = /^[A-Za-z0-9_+]+$/;

const coordinate = z.tuple([z.number().int().min(0), z.number().int().min(0)]);
const pointAction = <A extends string>(action: A) => z.object({ action: z.literal(action), coordinate });
/** Anthropic's clicks may leave out the coordinate: the click lands where the pointer is. */
const clickAction = <A extends string>(action: A) => z.object({ action: z.literal(action), coordinate: coordinate.optional() });

export const desktopActionSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("screenshot") }),
  pointAction("mouse_move"),
  clickAction("left_click"),
  clickAction("right_click"),
  clickAction("middle_click"),
  clickAction("double_click"),
  clickAction("triple_click"),
  z.object({ action: z.literal("left_mouse_down") }),
  z.object({ action: z.literal("left_mouse_up") }),
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

