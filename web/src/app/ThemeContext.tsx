/** One theme state for the whole app (the account menu and the settings page both change it). */
import { createContext, useContext, type ReactNode } from "react";
import { useTheme, type ThemeChoice } from "./theme.js";

type ThemeState = [ThemeChoice, (choice: ThemeChoice) => void];
const ThemeContext = createContext<ThemeState | null>(null);

export function ThemeProvider({ children }: { children: ReactNode }) {
  const state = useTheme();
  return <ThemeContext.Provider value={state}>{children}</ThemeContext.Provider>;
}

export function useThemeContext(): ThemeState {
  const state = useContext(ThemeContext);
  if (!state) throw new Error("useThemeContext outside ThemeProvider");
  return state;
}
