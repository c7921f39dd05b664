import { useMutation, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { get, post } from "../api/client";
import type { ConsentOut, RedirectOut } from "../api/types";
import { useSession } from "../auth/session";
import { ErrorMessage, Loading } from "../components/ui";
import { AuthCard } from "./AuthPages";

/**
 * The authorization endpoint of the OAuth flow MCP clients run (common/auth/oauth.py): the
 * signed-in user sees which application asks and approves or denies; the browser then returns
 * to the application with a code (or `access_denied`).
 */
export function OAuthConsentPage() {
  const [params] = useSearchParams();
  const session = useSession();
  const request = Object.fromEntries(params.entries());
  const consent = useQuery({
    queryKey: ["oauth-consent", params.toString()],
    queryFn: () => get<ConsentOut>(`/api/oauth/authorize?${params.toString()}`),
    retry: false,
  });
  const decide = useMutation({
    mutationFn: (approve: boolean) => post<RedirectOut>("/api/oauth/authorize", { ...request, approve }),
    onSuccess: (answer) => window.location.assign(answer.redirect_to),
  });
  document.title = "Connect an application · PyAirtable";
  if (consent.isPending) return <Loading label="Checking the application…" />;
  if (consent.isError)
    return (
      <AuthCard title="This connection cannot be made">
        <ErrorMessage error={consent.error} />
        <p className="muted">Nothing was shared. Start the connection again from the application.</p>
      </AuthCard>
    );
  const app = consent.data;
  const email = session.status === "signed-in" ? session.user.email : "";
  return (
    <AuthCard title={`Connect ${app.client_name}?`}>
      <p>
        <strong>{app.client_name}</strong> asks to use PyAirtable as you{email && <> ({email})</>} through its MCP endpoint.
      </p>
      <p>It will be able to:</p>
      <ul>
        <li>read the bases and records your workspaces reach, with your role in each;</li>
        <li>create, update and delete records, each write a transaction you can undo;</li>
        <li>run transactions and workflows, and read your notifications.</li>
      </ul>
      <p className="muted">
        After you choose, you return to <strong>{app.redirect_host}</strong>. You can end this access at any time in Settings → Sessions.
      </p>
      {decide.isError && <ErrorMessage error={decide.error} />}
      <div className="form-actions">
        <button type="button" className="button primary" disabled={decide.isPending} onClick={() => decide.mutate(true)}>
          Allow
        </button>
        <button type="button" className="button secondary" disabled={decide.isPending} onClick={() => decide.mutate(false)}>
          Deny
        </button>
      </div>
    </AuthCard>
  );
}
