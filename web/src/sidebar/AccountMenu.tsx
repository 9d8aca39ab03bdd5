/** The signed-in user at the foot of the sidebar: settings, theme and sign out. */
import { useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { LogOut, Monitor, Moon, Settings, Sun } from "lucide-react";
import { api } from "../app/api.js";
import { useMe } from "../auth/useMe.js";
import { useThemeContext } from "../app/ThemeContext.js";

export function AccountMenu() {
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [theme, setTheme] = useThemeContext();
  const user = me.data;
  const signOut = async () => {
    await api.logout().catch(() => undefined);
    queryClient.clear();
    navigate("/login", { replace: true });
  };
  const initial = (user?.name || user?.username || "?").slice(0, 1).toUpperCase();
  return (
    <div className="account">
      <DropdownMenu.Root>
        <DropdownMenu.Trigger className="account-trigger">
          <span className="sr-only">Account menu: </span>
          <span className="avatar" aria-hidden>
            {initial}
          </span>
          <span className="account-name">
            <span>{user?.name || user?.username}</span>
            <span className="faint">{user?.email}</span>
          </span>
        </DropdownMenu.Trigger>
        <DropdownMenu.Portal>
          <DropdownMenu.Content className="menu-content" side="top" align="start" sideOffset={6}>
            <DropdownMenu.Item className="menu-item" onSelect={() => navigate("/settings/general")}>
              <Settings size={14} aria-hidden /> Settings
            </DropdownMenu.Item>
            <DropdownMenu.Separator className="menu-separator" />
            <DropdownMenu.Label className="menu-label">Theme</DropdownMenu.Label>
            <DropdownMenu.RadioGroup value={theme} onValueChange={(value) => (value === "light" || value === "dark" || value === "system") && setTheme(value)}>
              <DropdownMenu.RadioItem className="menu-item" value="light">
                <Sun size={14} aria-hidden /> Light
              </DropdownMenu.RadioItem>
              <DropdownMenu.RadioItem className="menu-item" value="dark">
                <Moon size={14} aria-hidden /> Dark
              </DropdownMenu.RadioItem>
              <DropdownMenu.RadioItem className="menu-item" value="system">
                <Monitor size={14} aria-hidden /> System
              </DropdownMenu.RadioItem>
            </DropdownMenu.RadioGroup>
            <DropdownMenu.Separator className="menu-separator" />
            <DropdownMenu.Item className="menu-item" onSelect={() => void signOut()}>
              <LogOut size={14} aria-hidden /> Sign out
            </DropdownMenu.Item>
          </DropdownMenu.Content>
        </DropdownMenu.Portal>
      </DropdownMenu.Root>
    </div>
  );
}
