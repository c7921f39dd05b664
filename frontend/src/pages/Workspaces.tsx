import { useState } from "react";
import { ConfirmButton, useConfirm } from "../components/ConfirmDialog";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, del, get, patch, post } from "../api/client";
import type { AcceptIn, InvitationIn, InvitationOut, MemberOut, MembershipOut, Page, RoleIn, WorkspaceIn, WorkspaceOut, WorkspaceRole } from "../api/types";
import { useSession } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { DetailPage } from "../components/DetailPage";
import { InlineForm } from "../components/InlineForm";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, TextField, formatDate, itemsOf } from "../components/ui";
import { setWorkspace, useWorkspaces } from "../components/workspace";

/** Still waiting for its invitee: not accepted, not withdrawn, not expired. */
const isPending = (inv: InvitationOut) => !inv.accepted_at && !inv.revoked_at && (!inv.expires_at || new Date(inv.expires_at) > new Date());

export function WorkspacesPage() {
  const queryClient = useQueryClient();
  const workspaces = useWorkspaces();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => post<WorkspaceOut>("/api/workspaces", { name: name.trim() } satisfies WorkspaceIn),
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["workspaces"] });
    },
  });
  return (
    <>
      <PageHeader title="Workspaces" description="Connections, workflows, transactions and files belong to a workspace; members have a role there." />
      <QueryView query={workspaces} feature="Workspaces">
        {(data) => {
          const list = itemsOf(data);
          return (
            <>
              {list.length === 0 ? (
                <Empty title="You belong to no workspace yet." />
              ) : (
                <ul className="tiles">
                  {list.map((w) => (
                    <li key={w.id}>
                      <Link className="tile" to={`/workspaces/${w.id}`}>
                        <span className="tile-title">{w.name}</span>
                        <span className="muted small">
                          {w.role}
                          {w.personal ? " · personal" : ""}
                        </span>
                      </Link>
                    </li>
                  ))}
                </ul>
              )}
              <InlineForm card onSubmit={() => create.mutate()} submitLabel="Create workspace" disabled={create.isPending || !name.trim()}>
                <TextField label="New workspace name" required value={name} onChange={(e) => setName(e.target.value)} />
              </InlineForm>
              {create.isError && <ErrorMessage error={create.error} />}
            </>
          );
        }}
      </QueryView>
    </>
  );
}

const ROLE_CONSEQUENCE: Record<WorkspaceRole, string> = {
  owner: "Owners manage members and can rename or delete the workspace.",
  editor: "Editors change its bases, workflows, transactions and files, but cannot manage members.",
  viewer: "Viewers only read its bases and transactions; they can no longer change anything.",
};

export function WorkspacePage() {
  const { workspaceId = "" } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useSession();
  const workspace = useQuery({ queryKey: ["workspace", workspaceId], queryFn: () => get<WorkspaceOut>(`/api/workspaces/${workspaceId}`) });
  const members = useQuery({ queryKey: ["members", workspaceId], queryFn: () => get<Page<MemberOut>>(`/api/workspaces/${workspaceId}/members`) });
  const isOwner = workspace.data?.role === "owner";
  const invitations = useQuery({ queryKey: ["invitations", workspaceId], queryFn: () => get<Page<InvitationOut>>(`/api/workspaces/${workspaceId}/invitations`), enabled: isOwner });
  const [invite, setInvite] = useState<InvitationIn>({ email: "", role: "editor" });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["members", workspaceId] });
    void queryClient.invalidateQueries({ queryKey: ["invitations", workspaceId] });
  };
  const sendInvite = useMutation({
    mutationFn: () => post<InvitationOut>(`/api/workspaces/${workspaceId}/invitations`, { email: invite.email.trim(), role: invite.role } satisfies InvitationIn),
    onSuccess: () => {
      setInvite({ email: "", role: "editor" });
      refresh();
    },
  });
  const cancelInvite = useMutation({ mutationFn: (id: string) => del(`/api/workspaces/${workspaceId}/invitations/${id}`), onSuccess: refresh });
  const changeRole = useMutation({ mutationFn: ({ userId, role }: { userId: string; role: WorkspaceRole }) => patch<MemberOut>(`/api/workspaces/${workspaceId}/members/${userId}`, { role } satisfies RoleIn), onSuccess: refresh });
  const removeMember = useMutation({
    mutationFn: (userId: string) => del(`/api/workspaces/${workspaceId}/members/${userId}`),
    onSuccess: (_data, userId) => {
      if (userId === session.user?.id) {
        setWorkspace(null);
        void queryClient.invalidateQueries({ queryKey: ["workspaces"] });
        navigate("/workspaces");
      } else refresh();
    },
  });
  const [newName, setNewName] = useState<string | null>(null);
  const confirm = useConfirm();
  const rename = useMutation({
    mutationFn: () => patch<WorkspaceOut>(`/api/workspaces/${workspaceId}`, { name: (newName ?? "").trim() } satisfies WorkspaceIn),
    onSuccess: () => {
      setNewName(null);
      void queryClient.invalidateQueries({ queryKey: ["workspace", workspaceId] });
      void queryClient.invalidateQueries({ queryKey: ["workspaces"] });
    },
  });
  const remove = useMutation({
    mutationFn: () => del(`/api/workspaces/${workspaceId}`),
    onSuccess: () => {
      setWorkspace(null);
      void queryClient.invalidateQueries({ queryKey: ["workspaces"] });
      navigate("/workspaces");
    },
  });
  return (
    <DetailPage parent={{ to: "/workspaces", label: "Workspaces" }} current={workspace.data?.name ?? workspaceId} query={workspace} dialog={confirm.dialog}>
      {(w) => (
        <>
          <PageHeader title={w.name} description={`Your role: ${w.role}${w.personal ? " · your personal workspace" : ""}`}>
            <button type="button" className="button secondary" onClick={() => setWorkspace(w.id)}>
              Work in this workspace
            </button>
          </PageHeader>
          {isOwner && (
            <section className="card">
              <h2>Workspace</h2>
              <InlineForm
                onSubmit={() => rename.mutate()}
                submitLabel="Rename"
                secondary
                disabled={rename.isPending || !newName?.trim()}
                after={
                  !w.personal && (
                    <ConfirmButton
                      ask={confirm.ask}
                      request={{
                        title: `Delete workspace '${w.name}'?`,
                        consequence: "Its connections, workflows, transactions and files are deleted and every member loses access. This cannot be undone.",
                        confirmLabel: "Delete workspace",
                        onConfirm: () => remove.mutate(),
                      }}
                      disabled={remove.isPending}
                    >
                      Delete workspace
                    </ConfirmButton>
                  )
                }
              >
                <TextField label="Name" value={newName ?? w.name} onChange={(e) => setNewName(e.target.value)} />
              </InlineForm>
              {rename.isError && <ErrorMessage error={rename.error} />}
              {remove.isError && <ErrorMessage error={remove.error} />}
            </section>
          )}
          <section className="card">
            <h2>Members</h2>
            {(changeRole.isError || removeMember.isError) && <ErrorMessage error={changeRole.error ?? removeMember.error} />}
            <QueryView query={members}>
              {(data) => (
                <DataTable
                  rows={itemsOf(data)}
                  rowKey={(m) => m.user_id}
                  columns={[
                    { header: "Member", title: true, wrap: true, cell: (m) => m.email ?? m.username ?? m.user_id },
                    {
                      header: "Role",
                      // An owner's select names itself ("Role of ...").
                      labelled: !isOwner,
                      cell: (m) =>
                        isOwner ? (
                          <select
                            aria-label={`Role of ${m.email ?? m.user_id}`}
                            value={m.role}
                            onChange={(e) => {
                              const role = e.target.value as WorkspaceRole;
                              const who = m.email ?? m.username ?? m.user_id;
                              confirm.ask({
                                title: `Make ${who} ${role === "owner" ? "an" : "a"} ${role} of '${w.name}'?`,
                                consequence: ROLE_CONSEQUENCE[role] ?? "",
                                confirmLabel: `Make ${role}`,
                                onConfirm: () => changeRole.mutate({ userId: m.user_id, role }),
                              });
                            }}
                          >
                            <option value="owner">owner</option>
                            <option value="editor">editor</option>
                            <option value="viewer">viewer</option>
                          </select>
                        ) : (
                          m.role
                        ),
                    },
                  ]}
                  actions={(m) =>
                    (isOwner || m.user_id === session.user?.id) && (
                      <button
                        type="button"
                        className="button link small"
                        onClick={() =>
                          confirm.ask(
                            m.user_id === session.user?.id
                              ? {
                                  title: `Leave workspace '${w.name}'?`,
                                  consequence: "You lose access to its bases, workflows, transactions and files until an owner invites you again.",
                                  confirmLabel: "Leave workspace",
                                  onConfirm: () => removeMember.mutate(m.user_id),
                                }
                              : {
                                  title: `Remove ${m.email ?? m.username ?? m.user_id} from '${w.name}'?`,
                                  consequence: "They lose access to its bases, workflows, transactions and files until invited again.",
                                  confirmLabel: "Remove member",
                                  onConfirm: () => removeMember.mutate(m.user_id),
                                },
                          )
                        }
                      >
                        {m.user_id === session.user?.id ? "Leave" : "Remove"}
                      </button>
                    )
                  }
                />
              )}
            </QueryView>
          </section>
          {isOwner && (
            <section className="card">
              <h2>Invitations</h2>
              <InlineForm onSubmit={() => sendInvite.mutate()} submitLabel="Send invitation" disabled={sendInvite.isPending || !invite.email}>
                <TextField label="Email" type="email" required value={invite.email} onChange={(e) => setInvite({ ...invite, email: e.target.value })} />
                <SelectField label="Role" value={invite.role} onChange={(e) => setInvite({ ...invite, role: e.target.value as WorkspaceRole })}>
                  <option value="viewer">viewer</option>
                  <option value="editor">editor</option>
                  <option value="owner">owner</option>
                </SelectField>
              </InlineForm>
              {sendInvite.isError && <ErrorMessage error={sendInvite.error} />}
              {cancelInvite.isError && <ErrorMessage error={cancelInvite.error} />}
              <QueryView query={invitations}>
                {(data) =>
                  itemsOf(data).filter(isPending).length === 0 ? (
                    <Empty title="No pending invitations." />
                  ) : (
                    <ul className="list cards" aria-label="Pending invitations">
                      {itemsOf(data).filter(isPending).map((inv) => (
                        <li key={inv.id}>
                          <span>
                            {inv.email} <span className="muted">as {inv.role} · expires {formatDate(inv.expires_at)}</span>
                          </span>
                          <button
                            type="button"
                            className="button link small"
                            aria-label={`Cancel the invitation of ${inv.email}`}
                            onClick={() =>
                              confirm.ask({
                                title: `Cancel the invitation of ${inv.email}?`,
                                consequence: "The link in their email stops working; invite them again to let them in.",
                                confirmLabel: "Cancel invitation",
                                onConfirm: () => cancelInvite.mutate(inv.id),
                              })
                            }
                          >
                            Cancel
                          </button>
                        </li>
                      ))}
                    </ul>
                  )
                }
              </QueryView>
              {itemsOf(invitations.data).some((inv) => inv.accepted_at) && (
                <>
                  <h3>Accepted</h3>
                  <ul className="list" aria-label="Accepted invitations">
                    {itemsOf(invitations.data).filter((inv) => inv.accepted_at).map((inv) => (
                      <li key={inv.id}>
                        {inv.email} <span className="muted">joined as {inv.role} · {formatDate(inv.accepted_at)}</span>
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </section>
          )}
        </>
      )}
    </DetailPage>
  );
}

export function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const queryClient = useQueryClient();
  const accept = useMutation({
    mutationFn: () => post<MembershipOut>("/api/workspaces/invitations/accept", { token: token ?? "" } satisfies AcceptIn),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["workspaces"] }),
  });
  const resend = useMutation({ mutationFn: () => post("/api/auth/verify-email/resend") });
  // A 403 whose detail says the caller's email is not verified yet (workspaces/service.py).
  const unverified = accept.error instanceof ApiError && accept.error.code === "forbidden" && accept.error.details.some((d) => d.field === "email" && d.problem === "not verified");
  const workspace = params.get("workspace");
  return (
    <>
      <PageHeader title="Join a workspace" />
      <section className="card">
        {!token ? (
          <p role="alert">This invitation link has no token. Open the link from the email again.</p>
        ) : accept.isSuccess ? (
          <p role="status" className="notice success">
            You joined {accept.data?.workspace?.name ?? "the workspace"}. {accept.data?.workspace ? <Link to={`/workspaces/${accept.data.workspace.id}`}>Open it</Link> : <Link to="/workspaces">See your workspaces</Link>}
          </p>
        ) : unverified ? (
          <div role="alert">
            <p>Verify your email first: open the link in the email we sent you when you registered, then come back to this page.</p>
            <button type="button" className="button secondary" onClick={() => resend.mutate()} disabled={resend.isPending || resend.isSuccess}>
              {resend.isSuccess ? "Sent: check your inbox" : "Send the verification email again"}
            </button>
            {resend.isError && <ErrorMessage error={resend.error} />}
            <button type="button" className="button primary" onClick={() => accept.mutate()} disabled={accept.isPending}>
              I have verified it: accept
            </button>
          </div>
        ) : (
          <>
            <p>
              {workspace ? `You're invited to ${workspace}${params.get("role") ? ` as ${params.get("role")}` : ""}. ` : ""}Accept the invitation with the account you are signed in with; its email must be the invited one.
            </p>
            {accept.isError && <ErrorMessage error={accept.error} />}
            <button type="button" className="button primary" onClick={() => accept.mutate()} disabled={accept.isPending}>
              Accept invitation
            </button>
          </>
        )}
      </section>
    </>
  );
}
