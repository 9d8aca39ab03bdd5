/**
 * Client routes (PRODUCT.md: /agents, /agents/<chat id>, /settings/...). Everything but setup and
 * login sits behind RequireAuth inside the app shell, so deep links such as the CLI's
 * `/agents/<id>` survive a trip through the login page.
 */
import { createBrowserRouter, Navigate } from "react-router";
import { AppShell } from "./AppShell.js";
import { RequireAuth } from "../auth/RequireAuth.js";
import { LoginPage } from "../auth/LoginPage.js";
import { SetupPage } from "../auth/SetupPage.js";
import { NewChatPage } from "../composer/NewChatPage.js";
import { ChatPage } from "../chat/ChatPage.js";
import { SettingsPage } from "../settings/SettingsPage.js";
import { NotFoundPage } from "./NotFoundPage.js";

export const router = createBrowserRouter([
  { path: "/setup", element: <SetupPage /> },
  { path: "/login", element: <LoginPage /> },
  {
    element: (
      <RequireAuth>
        <AppShell />
      </RequireAuth>
    ),
    children: [
      { path: "/", element: <Navigate to="/agents" replace /> },
      { path: "/agents", element: <NewChatPage /> },
      { path: "/agents/:chatId", element: <ChatPage /> },
      { path: "/settings", element: <Navigate to="/settings/general" replace /> },
      { path: "/settings/:section", element: <SettingsPage /> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);
