/** Sign in with a username or email and a password; then back to where the visitor was going. */
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearchParams } from "react-router";
import { api, queryKeys } from "../app/api.js";
import { AuthCard } from "./AuthCard.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";
import { safeNext } from "./next.js";

export function LoginPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const queryClient = useQueryClient();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const signIn = useMutation({
    mutationFn: () => api.login({ login: login.trim(), password }),
    onSuccess: async () => {
      await queryClient.resetQueries();
      navigate(safeNext(params.get("next")), { replace: true });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  return (
    <AuthCard title="Sign in" subtitle="Run and watch your team's coding agents.">
      <form className="auth-form" onSubmit={submit}>
        <label className="field">
          <span>Username or email</span>
          <input className="input" name="login" autoComplete="username" required value={login} onChange={(e) => setLogin(e.target.value)} autoFocus />
        </label>
        <label className="field">
          <span>Password</span>
          <input className="input" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {signIn.isError ? <ErrorNotice error={signIn.error} /> : null}
        <button className="btn btn-primary auth-submit" type="submit" disabled={signIn.isPending}>
          {signIn.isPending ? <span className="spinner" /> : null}
          Sign in
        </button>
      </form>
    </AuthCard>
  );
}
