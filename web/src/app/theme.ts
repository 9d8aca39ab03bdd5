/**
 * Light, dark or system theme. The choice is a display preference, not a secret, so it is kept in
 * localStorage; "system" follows the OS setting live.
 */
import { useEffect, useState } from "react";

export const THEMES = ["light", "dark", "system"] as const;
export type ThemeChoice = (typeof THEMES)[number];
const STORAGE_KEY = "chatd.theme";

function isThemeChoice(value: string | null): value is ThemeChoice {
  return value === "light" || value === "dark" || value === "system";
}

export function storedTheme(): ThemeChoice {
  const value = localStorage.getItem(STORAGE_KEY);
  return isThemeChoice(value) ? value : "system";
}

const darkQuery = () => window.matchMedia("(prefers-color-scheme: dark)");

export function applyTheme(choice: ThemeChoice): void {
  const resolved = choice === "system" ? (darkQuery().matches ? "dark" : "light") : choice;
  document.documentElement.dataset.theme = resolved;
}

/** The current choice and a setter that stores and applies it. */
export function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  useEffect(() => {
    applyTheme(choice);
    if (choice !== "system") return;
    const query = darkQuery();
    const onChange = () => applyTheme("system");
    query.addEventListener("change", onChange);
    return () => query.removeEventListener("change", onChange);
  }, [choice]);
  return [
    choice,
    (next) => {
      localStorage.setItem(STORAGE_KEY, next);
      setChoice(next);
    },
  ];
}
