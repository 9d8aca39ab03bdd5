/**
 * Personal settings: the instructions added to every chat of the user (`/config/user-prompt`),
 * the theme, and API tokens (created and shown once, listed without secrets, deleted).
 */
import { NavLink, useParams } from "react-router";
import { PersonalPrompt } from "./PersonalPrompt.js";
import { ApiTokens } from "./ApiTokens.js";
import { ThemePicker } from "./ThemePicker.js";

const SECTIONS = [
  { id: "general", label: "General" },
  { id: "tokens", label: "API tokens" },
] as const;

export function SettingsPage() {
  const { section = "general" } = useParams();
  return (
    <main className="settings-page" aria-labelledby="settings-title">
      <header className="settings-header">
        <h1 id="settings-title">Settings</h1>
      </header>
      <div className="settings-body">
        <nav className="settings-nav" aria-label="Settings sections">
          {SECTIONS.map((entry) => (
            <NavLink key={entry.id} to={`/settings/${entry.id}`} className="settings-nav-link">
              {entry.label}
            </NavLink>
          ))}
        </nav>
        <div className="settings-content">
          {section === "tokens" ? (
            <ApiTokens />
          ) : (
            <>
              <PersonalPrompt />
              <ThemePicker />
            </>
          )}
        </div>
      </div>
    </main>
  );
}
