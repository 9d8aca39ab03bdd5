/** The open chat, for components deep in the timeline (the build watcher needs its workspace). */
import { createContext, useContext } from "react";
import type { ChatResponse } from "../../../src/sdk/schemas/index.js";

export const ChatContext = createContext<ChatResponse | null>(null);

export function useCurrentChat(): ChatResponse | null {
  return useContext(ChatContext);
}
