import { useEffect, useRef, useState } from "react";
import { useConfirm } from "../components/ConfirmDialog";
import { NavLink, Navigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { del, get, post, patch } from "../api/client";
import { fetchConnections } from "../api/airtable";
import type { ApiKeyCreated, ApiKeyIn, ApiKeyOut, ConnectionOut, DeliveryOut, NewConnection, Page, PasswordChangeIn, ProfilePatch, SessionOut, UserOut, WebhookCreatedOut, WebhookIn, WebhookOut } from "../api/types";
import { updateUser, useSession } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { InlineForm } from "../components/InlineForm";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, TextField, formatDate, itemsOf } from "../components/ui";
import { useWorkspaceId, useWorkspaces } from "../components/workspace";
import { ConnectAgent } from "./ConnectAgent";

const TABS = [
  { id: "profile", label: "Profile" },
  { id: "security", label: "Password" },
  { id: "sessions", label: "Sessions" },
  { id: "api-keys", label: "API keys" },
  { id: "ai-agent", label: "Connect an AI agent" },
  { id: "connections", label: "Connections" },
  { id: "webhooks", label: "Webhooks" },
];

export function SettingsPage() {
  const { tab = "profile" } = useParams();
  const strip = useRef<HTMLElement>(null);
  // On a narrow screen the strip scrolls sideways: the open section's tab is brought into view.
  useEffect(() => {
    strip.current?.querySelector(".active")?.scrollIntoView({ block: "nearest", inline: "center" });
  }, [tab]);
  if (!TABS.some((t) => t.id === tab)) return <Navigate to="/settings" replace />;
  return (
    <>
      <PageHeader title="Settings" />
      <nav className="tabs" aria-label="Settings sections" ref={strip}>
        {TABS.map((t) => (
          <NavLink key={t.id} to={t.id === "profile" ? "/settings" : `/settings/${t.id}`} end>
            {t.label}
          </NavLink>
        ))}
      </nav>
      <section className="card">
        {tab === "profile" && <Profile />}
        {tab === "security" && <PasswordChange />}
        {tab === "sessions" && <Sessions />}
        {tab === "api-keys" && <ApiKeys />}
        {tab === "ai-agent" && <ConnectAgent />}
        {tab === "connections" && <Connections />}
        {tab === "webhooks" && <Webhooks />}
      </section>
    </>
  );
}

function Profile() {
  const me = useQuery({ queryKey: ["me"], queryFn: () => get<UserOut>("/api/users/me") });
  return <QueryView query={me}>{(user) => <ProfileForm user={user} />}</QueryView>;
}

function ProfileForm({ user }: { user: UserOut }) {
  const queryClient = useQueryClient();
  const session = useSession();
  const [form, setForm] = useState({ first_name: user.first_name ?? "", last_name: user.last_name ?? "", username: user.username ?? "" });
  const save = useMutation({
    mutationFn: () => patch<UserOut>("/api/users/me", { first_name: form.first_name, last_name: form.last_name, username: form.username || undefined } satisfies ProfilePatch),
    onSuccess: (saved) => {
      queryClient.setQueryData(["me"], saved);
      updateUser({ ...session.user, ...saved });
    },
  });
  const resend = useMutation({ mutationFn: () => post("/api/auth/verify-email/resend") });
  return (
    <>
      <h2>Profile</h2>
      <dl className="facts">
        <dt>Email</dt>
        <dd>
          {user.email} {user.email_verified === false && <span className="badge badge-degraded">not verified</span>}
        </dd>
        <dt>Role</dt>
        <dd>{user.role}</dd>
        <dt>Member since</dt>
        <dd>{formatDate(user.created_at)}</dd>
      </dl>
      {(user.email_verified === false || session.user?.email_verified === false) && (
        <div className="inline-form">
          <button type="button" className="button secondary small" disabled={resend.isPending} onClick={() => resend.mutate()}>
            Send a new verification email
          </button>
          {resend.isSuccess && <span role="status">Sent. Check your inbox.</span>}
          {resend.isError && <ErrorMessage error={resend.error} />}
        </div>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <div className="field-row">
          <TextField label="First name" autoComplete="given-name" value={form.first_name} onChange={(e) => setForm({ ...form, first_name: e.target.value })} />
          <TextField label="Last name" autoComplete="family-name" value={form.last_name} onChange={(e) => setForm({ ...form, last_name: e.target.value })} />
        </div>
        <TextField label="Username" autoComplete="nickname" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
        {save.isError && <ErrorMessage error={save.error} />}
        {save.isSuccess && <p role="status" className="notice success">Profile saved.</p>}
        <button type="submit" className="button primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save profile"}
        </button>
      </form>
    </>
  );
}

function PasswordChange() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = useMutation({
    mutationFn: () => post("/api/auth/password", { current_password: current, new_password: next } satisfies PasswordChangeIn),
    onSuccess: () => {
      setCurrent("");
      setNext("");
    },
  });
  return (
    <>
      <h2>Change password</h2>
      <p className="muted">Changing your password signs out your other sessions and revokes your API keys.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          change.mutate();
        }}
      >
        <TextField label="Current password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <TextField label="New password" type="password" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.target.value)} hint="At least 10 characters, not a common password." />
        {change.isError && <ErrorMessage error={change.error} />}
        {change.isSuccess && <p role="status" className="notice success">Password changed.</p>}
        <button type="submit" className="button primary" disabled={change.isPending || !current || !next}>
          Change password
        </button>
      </form>
    </>
  );
}

/** What a session is to a person: the agent it was granted to, or the browser it signed in. */
function sessionName(s: SessionOut): string {
  return s.client_name ? `${s.client_name} (AI agent)` : browserName(s.user_agent);
}

function Sessions() {
  const queryClient = useQueryClient();
  const sessions = useQuery({ queryKey: ["sessions"], queryFn: () => get<Page<SessionOut>>("/api/auth/sessions") });
  const revoke = useMutation({ mutationFn: (id: string) => del(`/api/auth/sessions/${id}`), onSuccess: () => queryClient.invalidateQueries({ queryKey: ["sessions"] }) });
  const confirm = useConfirm();
  return (
    <>
      {confirm.dialog}
      <h2>Active sessions</h2>
      {revoke.isError && <ErrorMessage error={revoke.error} />}
      <QueryView query={sessions}>
        {(data) => {
          const rows = itemsOf(data);
          if (rows.length === 0) return <Empty title="No active sessions." />;
          return (
            <DataTable
              rows={rows}
              rowKey={(s) => s.id}
              columns={[
                { header: "Device", title: true, cell: (s) => <>{sessionName(s)} {s.current && <span className="badge badge-healthy">this device</span>}</> },
                { header: "IP", cell: (s) => s.ip ?? "—" },
                { header: "Signed in", cell: (s) => formatDate(s.created_at) },
                { header: "Last used", cell: (s) => formatDate(s.last_used_at) },
              ]}
              actions={(s) =>
                !s.current && (
                  <button type="button" className="button link small" onClick={() =>
                      confirm.ask({
                        title: s.client_name ? `Disconnect ${s.client_name}?` : `Sign out ${browserName(s.user_agent)}${s.ip ? ` at ${s.ip}` : ""}?`,
                        consequence: s.client_name
                          ? "The agent loses access at once; it has to be approved again to reconnect."
                          : "That device is signed out at once and has to sign in again with the password.",
                        confirmLabel: "Revoke session",
                        onConfirm: () => revoke.mutate(s.id),
                      })
                    }
                    aria-label={`Revoke the session of ${sessionName(s)} signed in ${formatDate(s.created_at)}`}
                    disabled={revoke.isPending}
                  >
                    Revoke
                  </button>
                )
              }
            />
          );
        }}
      </QueryView>
    </>
  );
}

function browserName(agent: string | null): string {
  if (!agent) return "Unknown device";
  const match = agent.match(/(Firefox|Edg|Chrome|Safari|curl|python-requests)\/[\d.]+/);
  return match ? match[0].replace("Edg/", "Edge/") : agent.slice(0, 40);
}

function ApiKeys() {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => get<Page<ApiKeyOut>>("/api/auth/api-keys") });
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const create = useMutation({
    mutationFn: () => post<ApiKeyCreated>("/api/auth/api-keys", { name: name.trim(), expires_in_days: Number(days) || undefined } satisfies ApiKeyIn),
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });
  const revoke = useMutation({ mutationFn: (id: string) => del(`/api/auth/api-keys/${id}`), onSuccess: () => queryClient.invalidateQueries({ queryKey: ["api-keys"] }) });
  const confirm = useConfirm();
  return (
    <>
      {confirm.dialog}
      <h2>API keys</h2>
      <p className="muted">
        Send a key as <code>Authorization: Bearer pyat_…</code>. It is shown once, when created.
      </p>
      <InlineForm onSubmit={() => create.mutate()} submitLabel="Create key" disabled={create.isPending || !name.trim()}>
        <TextField label="Key name" required value={name} onChange={(e) => setName(e.target.value)} />
        <TextField label="Expires in (days)" type="number" min={1} max={365} value={days} onChange={(e) => setDays(e.target.value)} />
      </InlineForm>
      {create.isError && <ErrorMessage error={create.error} />}
      {create.isSuccess && (
        <div className="notice success" role="status">
          <p>
            Key “{create.data.name}” created. Copy it now; it will not be shown again:
          </p>
          <code className="secret">{create.data.key}</code>
        </div>
      )}
      {revoke.isError && <ErrorMessage error={revoke.error} />}
      <QueryView query={keys}>
        {(data) => {
          const rows = itemsOf(data);
          if (rows.length === 0) return <Empty title="No API keys yet." />;
          return (
            <DataTable
              rows={rows}
              rowKey={(k) => k.id}
              columns={[
                { header: "Name", title: true, cell: (k) => k.name },
                { header: "Prefix", cell: (k) => <code>{k.prefix}</code> },
                { header: "Created", cell: (k) => formatDate(k.created_at) },
                { header: "Expires", cell: (k) => formatDate(k.expires_at) },
                { header: "Last used", cell: (k) => formatDate(k.last_used_at) },
              ]}
              actions={(k) => (
                <button type="button" className="button link small" onClick={() =>
                    confirm.ask({
                      title: `Revoke API key '${k.name}'?`,
                      consequence: `Every script, agent or SDK client using ${k.prefix}… is refused from now on. This cannot be undone.`,
                      confirmLabel: "Revoke key",
                      onConfirm: () => revoke.mutate(k.id),
                    })
                  }
                  aria-label={`Revoke ${k.name}`}
                >
                  Revoke
                </button>
              )}
            />
          );
        }}
      </QueryView>
    </>
  );
}

function Connections() {
  const queryClient = useQueryClient();
  const workspaceId = useWorkspaceId();
  const workspaces = useWorkspaces();
  const connections = useQuery({ queryKey: ["connections", workspaceId], queryFn: () => fetchConnections(workspaceId) });
  const [form, setForm] = useState({ name: "", token: "", default_base_id: "", workspace_id: "" });
  const create = useMutation({
    mutationFn: () =>
      post<ConnectionOut>("/api/airtable/connections", {
        name: form.name.trim(),
        token: form.token.trim(),
        default_base_id: form.default_base_id.trim() || undefined,
        workspace_id: form.workspace_id || undefined,
      } satisfies NewConnection),
    onSuccess: () => {
      setForm({ name: "", token: "", default_base_id: "", workspace_id: "" });
      void queryClient.invalidateQueries({ queryKey: ["connections"] });
      void queryClient.invalidateQueries({ queryKey: ["bases"] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/airtable/connections/${id}`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["connections"] });
      void queryClient.invalidateQueries({ queryKey: ["bases"] });
    },
  });
  const ownedWorkspaces = itemsOf(workspaces.data).filter((w) => w.role === "owner");
  const confirm = useConfirm();
  return (
    <>
      {confirm.dialog}
      <h2>Airtable connections</h2>
      <p className="muted">A connection stores an Airtable personal access token, encrypted; only its last four characters are shown.</p>
      {remove.isError && <ErrorMessage error={remove.error} />}
      <QueryView query={connections}>
        {(data) => {
          const rows = itemsOf(data);
          if (rows.length === 0) return <Empty title="No connections of your own." />;
          return (
            <ul className="list cards">
              {rows.map((c) => (
                <li key={c.id}>
                  <div>
                    <strong>{c.name}</strong> <span className="muted">token …{c.token_last4}</span>
                    {c.default_base_id && <span className="muted"> · default base {c.default_base_id}</span>}
                  </div>
                  <button type="button" className="button link small" onClick={() =>
                      confirm.ask({
                        title: `Delete connection '${c.name}'?`,
                        consequence: "Its token is erased: the bases it reaches disappear from Bases, and workflows and transactions using them fail. This cannot be undone.",
                        confirmLabel: "Delete connection",
                        onConfirm: () => remove.mutate(c.id),
                      })
                    }
                    aria-label={`Delete connection ${c.name}`}
                  >
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          );
        }}
      </QueryView>
      <h3>Add a connection</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <div className="field-row">
          <TextField label="Name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          <TextField label="Personal access token" type="password" autoComplete="off" required value={form.token} onChange={(e) => setForm({ ...form, token: e.target.value })} />
        </div>
        <div className="field-row">
          <TextField label="Default base id (optional)" value={form.default_base_id} onChange={(e) => setForm({ ...form, default_base_id: e.target.value })} />
          {ownedWorkspaces.length > 0 && (
            <SelectField label="Workspace" value={form.workspace_id} onChange={(e) => setForm({ ...form, workspace_id: e.target.value })}>
              <option value="">Personal workspace</option>
              {ownedWorkspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </SelectField>
          )}
        </div>
        {create.isError && <ErrorMessage error={create.error} />}
        <button type="submit" className="button primary" disabled={create.isPending || !form.name || !form.token}>
          {create.isPending ? "Verifying the token…" : "Add connection"}
        </button>
      </form>
    </>
  );
}

function Webhooks() {
  const queryClient = useQueryClient();
  const hooks = useQuery({ queryKey: ["webhooks"], queryFn: () => get<Page<WebhookOut>>("/api/notifications/webhooks") });
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState("saga.compensated, workflow.execution.failed, file.import.finished");
  const [open, setOpen] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => post<WebhookCreatedOut>("/api/notifications/webhooks", { url: url.trim(), events: events.split(",").map((s) => s.trim()).filter(Boolean) } satisfies WebhookIn),
    onSuccess: () => {
      setUrl("");
      void queryClient.invalidateQueries({ queryKey: ["webhooks"] });
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => del(`/api/notifications/webhooks/${id}`), onSuccess: () => queryClient.invalidateQueries({ queryKey: ["webhooks"] }) });
  const confirm = useConfirm();
  return (
    <>
      {confirm.dialog}
      <h2>Webhooks</h2>
      <QueryView query={hooks} feature="Webhooks">
        {(data) => {
          const rows = itemsOf(data);
          return (
            <>
              {rows.length === 0 ? (
                <Empty title="No webhooks yet." />
              ) : (
                <ul className="list cards">
                  {rows.map((hook) => (
                    <li key={hook.id} className="stack">
                      <div className="row-between">
                        <div>
                          <strong className="wrap">{hook.url}</strong>
                          <div className="muted small">{hook.events.join(", ")}</div>
                        </div>
                        <div>
                          <button type="button" className="button link small" aria-expanded={open === hook.id} onClick={() => setOpen(open === hook.id ? null : hook.id)}>
                            Deliveries
                          </button>
                          <button type="button" className="button link small" onClick={() =>
                              confirm.ask({
                                title: `Delete the webhook to ${hook.url}?`,
                                consequence: "No more events are sent there, and its delivery history is deleted. This cannot be undone.",
                                confirmLabel: "Delete webhook",
                                onConfirm: () => remove.mutate(hook.id),
                              })
                            }
                            aria-label={`Delete webhook ${hook.url}`}
                          >
                            Delete
                          </button>
                        </div>
                      </div>
                      {open === hook.id && <Deliveries hookId={hook.id} />}
                    </li>
                  ))}
                </ul>
              )}
              <h3>Add a webhook</h3>
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  create.mutate();
                }}
              >
                <TextField label="URL" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/hooks/pyairtable" />
                <TextField label="Events" value={events} onChange={(e) => setEvents(e.target.value)} hint="Comma-separated event types." />
                {create.isError && <ErrorMessage error={create.error} />}
                {create.isSuccess && create.data.secret && (
                  <div className="notice success" role="status">
                    Signing secret (shown once): <code className="secret">{create.data.secret}</code>
                  </div>
                )}
                <button type="submit" className="button primary" disabled={create.isPending || !url}>
                  Add webhook
                </button>
              </form>
            </>
          );
        }}
      </QueryView>
    </>
  );
}

function Deliveries({ hookId }: { hookId: string }) {
  const queryClient = useQueryClient();
  const deliveries = useQuery({
    queryKey: ["deliveries", hookId],
    queryFn: () => get<Page<DeliveryOut>>(`/api/notifications/webhooks/${hookId}/deliveries`),
    // A retried delivery is sent in the background: follow it until it settles.
    refetchInterval: (query) => (itemsOf(query.state.data).some((d) => d.status === "pending" || d.status === "sending") ? 2000 : false),
  });
  const retry = useMutation({
    mutationFn: (id: string) => post(`/api/notifications/webhooks/${hookId}/deliveries/${id}/retry`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["deliveries", hookId] }),
  });
  return (
    <QueryView query={deliveries}>
      {(data) => {
        const rows = itemsOf(data);
        if (rows.length === 0) return <Empty title="Nothing delivered yet." />;
        return (
          <>
            {retry.isError && <ErrorMessage error={retry.error} />}
            <DataTable
              compact
              rows={rows}
              rowKey={(d) => d.id}
              columns={[
                { header: "Event", cell: (d) => d.type ?? d.id },
                { header: "Status", cell: (d) => d.status },
                { header: "Attempts", numeric: true, cell: (d) => d.attempts },
                { header: "Last response", wrap: true, cell: (d) => d.last_status_code ?? d.last_error ?? "—" },
              ]}
              actions={(d) =>
                (d.status === "failed" || d.status === "dead_lettered" || d.status === "dead") && (
                  <button type="button" className="button link small" onClick={() => retry.mutate(d.id)}>
                    Retry
                  </button>
                )
              }
            />
          </>
        );
      }}
    </QueryView>
  );
}
