import { Monitor, Moon, Sun } from "lucide-react";
import { useThemeContext } from "../app/ThemeContext.js";
import { THEMES } from "../app/theme.js";

const ICONS = { light: Sun, dark: Moon, system: Monitor } as const;
const LABELS = { light: "Light", dark: "Dark", system: "System" } as const;

export function ThemePicker() {
  const [theme, setTheme] = useThemeContext();
  return (
    <section className="settings-section" aria-labelledby="theme-title">
      <h2 id="theme-title">Theme</h2>
      <p className="muted">System follows your operating system's setting.</p>
      <div className="theme-options" role="radiogroup" aria-labelledby="theme-title">
        {THEMES.map((choice) => {
          const Icon = ICONS[choice];
          return (
            <button key={choice} type="button" role="radio" aria-checked={theme === choice} className="theme-option" onClick={() => setTheme(choice)}>
              <Icon size={16} aria-hidden /> {LABELS[choice]}
            </button>
          );
        })}
      </div>
    </section>
  );
}
