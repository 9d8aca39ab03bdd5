import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <main className="empty-page">
      <h1>Page not found</h1>
      <p className="muted">There is nothing at this address.</p>
      <Link className="btn" to="/agents">
        Back to agents
      </Link>
    </main>
  );
}
