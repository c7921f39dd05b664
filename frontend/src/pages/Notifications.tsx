import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { get, post, type Page } from "../api/client";
import { Empty, ErrorMessage, PageHeader, QueryView, formatDate, itemsOf } from "../components/ui";

interface Notification {
  id: string;
  type: string;
  title: string;
  body: string;
  data?: Record<string, unknown>;
  read: boolean;
  created_at: string;
}

export function NotificationsPage() {
  const queryClient = useQueryClient();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const inbox = useQuery({
    queryKey: ["notifications", { unreadOnly }],
    queryFn: () => get<Page<Notification>>("/api/notifications", { unread: unreadOnly || undefined, limit: 100 }),
    refetchInterval: (query) => (query.state.error ? false : 15_000),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["notifications"] });
  const markRead = useMutation({ mutationFn: (id: string) => post(`/api/notifications/${id}/read`), onSuccess: refresh });
  const markAll = useMutation({ mutationFn: () => post("/api/notifications/read-all"), onSuccess: refresh });
  return (
    <>
      <PageHeader title="Notifications">
        <label className="checkbox-inline">
          <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} /> Unread only
        </label>
        <button type="button" className="button secondary" onClick={() => markAll.mutate()} disabled={markAll.isPending || !inbox.isSuccess}>
          Mark all as read
        </button>
      </PageHeader>
      {(markRead.isError || markAll.isError) && <ErrorMessage error={markRead.error ?? markAll.error} />}
      <QueryView query={inbox} feature="Notifications">
        {(data) => {
          const items = itemsOf(data);
          if (items.length === 0) return <Empty title={unreadOnly ? "No unread notifications." : "Your inbox is empty."} />;
          return (
            <ul className="list notifications card">
              {items.map((n) => (
                <li key={n.id} className={n.read ? "read" : "unread"}>
                  <div>
                    <div>
                      {!n.read && <span className="sr-only">Unread: </span>}
                      <strong>{n.title}</strong> <span className="muted small">{n.type}</span>
                    </div>
                    <p>{n.body}</p>
                    <small className="muted">{formatDate(n.created_at)}</small>
                  </div>
                  {!n.read && (
                    <button type="button" className="button link small" onClick={() => markRead.mutate(n.id)} aria-label={`Mark “${n.title}” as read`}>
                      Mark read
                    </button>
                  )}
                </li>
              ))}
            </ul>
          );
        }}
      </QueryView>
    </>
  );
}
