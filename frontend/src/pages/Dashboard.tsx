import type { ReactNode } from "react";
import { useQuery, type UseQueryResult } from "@tanstack/react-query";
import { Link } from "react-router";
import { get } from "../api/client";
import type { InfoOut, NotificationOut, Page, SagaOut, UsageOut } from "../api/types";
import { fetchBases } from "../api/airtable";
import { useSession } from "../auth/session";
import { Empty, PageHeader, QueryView, StatusBadge, formatDate, itemsOf } from "../components/ui";
import { useWorkspaces } from "../components/workspace";

/** A card listing a list query's first `limit` items (all without one) as links; `empty` instead
 * when there are none (without `empty`, the list even then). */
function LinkListCard<T extends { id: string }>({ headingId, title, query, feature, limit, empty, item }: { headingId: string; title: string; query: UseQueryResult<Page<T>>; feature: string; limit?: number; empty?: ReactNode; item: (item: T) => ReactNode }) {
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      <QueryView query={query} feature={feature}>
        {(data) =>
          empty && itemsOf(data).length === 0 ? (
            empty
          ) : (
            <ul className="link-list">
              {itemsOf(data).slice(0, limit).map((x) => (
                <li key={x.id}>{item(x)}</li>
              ))}
            </ul>
          )
        }
      </QueryView>
    </section>
  );
}

/** What the person works with: bases, recent transactions, unread notifications, workspaces. */
function YourWork() {
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const transactions = useQuery({ queryKey: ["sagas", "recent"], queryFn: () => get<Page<SagaOut>>("/api/sagas", { limit: 5 }) });
  const unread = useQuery({ queryKey: ["notifications", "dashboard"], queryFn: () => get<Page<NotificationOut>>("/api/notifications", { unread: true, limit: 5 }) });
  const workspaces = useWorkspaces();
  return (
    <div className="grid-2">
      <LinkListCard headingId="bases-heading" title="Your bases" query={bases} feature="Bases" limit={6} empty={<Empty title="No bases yet."><Link to="/settings/connections">Connect Airtable</Link> to see yours.</Empty>}
        item={(b) => <Link to={`/bases/${b.id}`}>{b.name}</Link>}
      />
      <LinkListCard headingId="recent-heading" title="Recent transactions" query={transactions} feature="Transactions" empty={<Empty title="No transactions yet." />}
        item={(t) => (
          <>
            <Link to={`/sagas/${t.id}`}>{t.summary ?? t.type}</Link> <StatusBadge status={t.status} /> <span className="muted small">{formatDate(t.created_at)}</span>
          </>
        )}
      />
      <LinkListCard headingId="unread-heading" title="Unread notifications" query={unread} feature="Notifications" empty={<Empty title="Nothing new." />}
        item={(n) => (n.link ? <Link to={n.link}>{n.title}</Link> : n.title)}
      />
      <LinkListCard headingId="workspaces-heading" title="Workspaces" query={workspaces} feature="Workspaces"
        item={(w) => (
          <>
            <Link to={`/workspaces/${w.id}`}>{w.name}</Link> <span className="muted small">{w.role}</span>
          </>
        )}
      />
    </div>
  );
}

export function DashboardPage() {
  const session = useSession();
  // Usage and the deployment are for the operators (service health: the Operations page);
  // a person sees their own work first.
  const admin = session.user?.role === "admin";
  const info = useQuery({ queryKey: ["platform-info"], queryFn: () => get<InfoOut>("/api/platform/info"), enabled: admin });
  const usage = useQuery({ queryKey: ["usage"], queryFn: () => get<UsageOut>("/api/platform/usage"), enabled: admin });
  const name = session.user?.first_name || session.user?.username || session.user?.email;
  return (
    <>
      <PageHeader title="Dashboard" description={name ? `Welcome, ${name}.` : undefined} />
      {session.user && session.user.email_verified === false && (
        <p className="notice">Your email address is not verified yet: open the link in the email we sent you. You can ask for a new one in <Link to="/settings">Settings</Link>.</p>
      )}
      <YourWork />
      {admin && (
      <div className="grid-2">
        <section className="card" aria-labelledby="usage-heading">
          <h2 id="usage-heading">Your API usage</h2>
          <QueryView query={usage} feature="Usage reporting">
            {(data) => {
              const days = data.items;
              if (days.length === 0) return <Empty title="No API calls recorded yet." />;
              return (
                <table className="table compact">
                  <thead>
                    <tr>
                      <th scope="col">Day</th>
                      <th scope="col" className="num">Calls</th>
                      <th scope="col" className="num">Airtable requests</th>
                      <th scope="col" className="num">Errors</th>
                    </tr>
                  </thead>
                  <tbody>
                    {days.map((d) => (
                      <tr key={d.date}>
                        <td>{d.date}</td>
                        <td className="num">{d.api_calls}</td>
                        <td className="num">{d.airtable_requests}</td>
                        <td className="num">{d.errors}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              );
            }}
          </QueryView>
          <h2>Deployment</h2>
          <QueryView query={info}>
            {(data) => (
              <dl className="facts">
                <dt>Name</dt>
                <dd>{data.name}</dd>
                <dt>Version</dt>
                <dd>{data.version}</dd>
                <dt>Build</dt>
                <dd>{data.build.runtime || "—"}</dd>
              </dl>
            )}
          </QueryView>
        </section>
      </div>
      )}
      <section className="card" aria-labelledby="start-heading">
        <h2 id="start-heading">Get started</h2>
        <ul className="link-list">
          <li>
            <Link to="/bases">Browse your Airtable bases</Link> and edit records in the grid.
          </li>
          <li>
            <Link to="/sagas">Run a transaction</Link> across tables, all or nothing.
          </li>
          <li>
            <Link to="/workflows">Automate with a workflow</Link>, or <Link to="/files">import a CSV</Link>.
          </li>
        </ul>
      </section>
    </>
  );
}
