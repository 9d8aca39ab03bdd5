/**
 * First run: creates the first user (who becomes the owner) and signs them in. Once a user exists
 * the page sends visitors to login instead, since the server would refuse a second first user.
 */
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Navigate, useNavigate } from "react-router";
import { api, queryKeys } from "../app/api.js";
import { AuthCard } from "./AuthCard.js";
import { ErrorNotice } from "../ui/ErrorNotice.js";
import { FullPageSpinner } from "../ui/FullPageSpinner.js";

export function SetupPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const firstUser = useQuery({ queryKey: queryKeys.firstUser, queryFn: () => api.firstUserExists() });
  const [form, setForm] = useState({ username: "", email: "", name: "", password: "" });
  const create = useMutation({
    mutationFn: async () => {
      await api.createFirstUser({
        username: form.username.trim(),
        email: form.email.trim(),
        password: form.password,
        ...(form.name.trim() ? { name: form.name.trim() } : {}),
      });
      await api.login({ login: form.username.trim(), password: form.password });
    },
    onSuccess: async () => {
      queryClient.setQueryData(queryKeys.firstUser, true);
      await queryClient.invalidateQueries({ queryKey: queryKeys.me });
      navigate("/agents", { replace: true });
    },
  });

  if (firstUser.isPending) return <FullPageSpinner />;
  if (firstUser.data === true && !create.isPending && !create.isSuccess) return <Navigate to="/login" replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) => setForm({ ...form, [key]: event.target.value });

  return (
    <AuthCard title="Welcome to chatd" subtitle="Create the first account. It becomes the owner of this deployment.">
      <form className="auth-form" onSubmit={submit}>
        <label className="field">
          <span>Username</span>
          <input className="input" name="username" autoComplete="username" required value={form.username} onChange={set("username")} autoFocus />
        </label>
        <label className="field">
          <span>Email</span>
          <input className="input" name="email" type="email" autoComplete="email" required value={form.email} onChange={set("email")} />
        </label>
        <label className="field">
          <span>
            Full name <span className="faint">(optional)</span>
          </span>
          <input className="input" name="name" autoComplete="name" value={form.name} onChange={set("name")} />
        </label>
        <label className="field">
          <span>Password</span>
          <input className="input" name="password" type="password" autoComplete="new-password" required value={form.password} onChange={set("password")} />
        </label>
        {create.isError ? <ErrorNotice error={create.error} /> : null}
        <button className="btn btn-primary auth-submit" type="submit" disabled={create.isPending}>
          {create.isPending ? <span className="spinner" /> : null}
          Create account
        </button>
      </form>
    </AuthCard>
  );
}
