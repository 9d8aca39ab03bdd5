/**
 * Gate for signed-in pages: while the session is unknown it shows nothing; without a session it
 * sends the visitor to setup (no user exists yet) or login, remembering where they were going.
 */
import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { Navigate, useLocation } from "react-router";
import { api, isUnauthorized, queryKeys } from "../app/api.js";
import { useMe } from "./useMe.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";
import { FullPageSpinner } from "../ui/FullPageSpinner.js";

export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  const signedOut = me.isError && isUnauthorized(me.error);
  const firstUser = useQuery({ queryKey: queryKeys.firstUser, queryFn: () => api.firstUserExists(), enabled: signedOut });

  if (me.isPending) return <FullPageSpinner />;
  if (me.isError && !signedOut) {
    return (
      <main className="empty-page">
        <ErrorNotice error={me.error} />
      </main>
    );
  }
  if (signedOut) {
    if (firstUser.isPending) return <FullPageSpinner />;
    if (firstUser.data === false) return <Navigate to="/setup" replace />;
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return children;
}
