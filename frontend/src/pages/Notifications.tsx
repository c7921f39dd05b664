import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { get, post } from "../api/client";
import type { NotificationOut, Page } from "../api/types";
import { Empty, ErrorMessage, PageHeader, QueryView, formatDate, itemsOf } from "../components/ui";

/** "Today", "Yesterday" or the date, for grouping the inbox by day. */
function dayOf(value: string, today = new Date()): string {
  const date = new Date(value);
  const start = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((start(today) - start(date)) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return date.toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

// An id from a day's heading ("Friday, December 4, 2026"): aria-labelledby splits on spaces.
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-");

function byDay(items: NotificationOut[]): [string, NotificationOut[]][] {
  const groups = new Map<string, NotificationOut[]>();
  for (const n of items) {
    const day = dayOf(n.created_at);
    groups.set(day, [...(groups.get(day) ?? []), n]);
  }
  return [...groups.entries()];
}

export function NotificationsPage() {
  const queryClient = useQueryClient();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const inbox = useQuery({
    queryKey: ["notifications", { unreadOnly }],
    queryFn: () => get<Page<NotificationOut>>("/api/notifications", { unread: unreadOnly || undefined, limit: 100 }),
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
          return byDay(items).map(([day, group]) => (
            <section key={day} aria-labelledby={`day-${slug(day)}`}>
              <h2 id={`day-${slug(day)}`} className="day-heading">
                {day}
              </h2>
              <ul className="list notifications card cards">
                {group.map((n) => (
                  <li key={n.id} className={n.read ? "read" : "unread"}>
                    <div>
                      <div>
                        {!n.read && <span className="sr-only">Unread: </span>}
                        {n.link ? (
                          <Link to={n.link} onClick={() => !n.read && markRead.mutate(n.id)}>
                            <strong>{n.title}</strong>
                          </Link>
                        ) : (
                          <strong>{n.title}</strong>
                        )}
                      </div>
                      {n.body && <p>{n.body}</p>}
                      <small className="muted">{formatDate(n.created_at)}</small>
                    </div>
                    {!n.read && (
                      <button type="button" className="button link small" onClick={() => markRead.mutate(n.id)} aria-label={`Mark read: ${n.title}`}>
                        Mark read
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          ));
        }}
      </QueryView>
    </>
  );
}
