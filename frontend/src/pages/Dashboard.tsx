import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { get } from "../api/client";
import type { InfoOut, NotificationOut, Page, SagaOut, UsageOut } from "../api/types";
import { fetchBases } from "../api/airtable";
import { useSession } from "../auth/session";
import { Empty, PageHeader, QueryView, StatusBadge, formatDate, itemsOf } from "../components/ui";
import { useWorkspaces } from "../components/workspace";

/** What the person works with: bases, recent transactions, unread notifications, workspaces. */
function YourWork() {
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const transactions = useQuery({ queryKey: ["sagas", "recent"], queryFn: () => get<Page<SagaOut>>("/api/sagas", { limit: 5 }) });
  const unread = useQuery({ queryKey: ["notifications", "dashboard"], queryFn: () => get<Page<NotificationOut>>("/api/notifications", { unread: true, limit: 5 }) });
  const workspaces = useWorkspaces();
  return (
    <div className="grid-2">
      <section className="card" aria-labelledby="bases-heading">
        <h2 id="bases-heading">Your bases</h2>
        <QueryView query={bases} feature="Bases">
          {(data) =>
            itemsOf(data).length === 0 ? (
              <Empty title="No bases yet."><Link to="/settings/connections">Connect Airtable</Link> to see yours.</Empty>
            ) : (
              <ul className="link-list">
                {itemsOf(data).slice(0, 6).map((b) => (
                  <li key={b.id}>
                    <Link to={`/bases/${b.id}`}>{b.name}</Link>
                  </li>
                ))}
              </ul>
            )
          }
        </QueryView>
      </section>
      <section className="card" aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent transactions</h2>
        <QueryView query={transactions} feature="Transactions">
          {(data) =>
            itemsOf(data).length === 0 ? (
              <Empty title="No transactions yet." />
            ) : (
              <ul className="link-list">
                {itemsOf(data).map((t) => (
                  <li key={t.id}>
                    <Link to={`/sagas/${t.id}`}>{t.summary ?? t.type}</Link> <StatusBadge status={t.status} /> <span className="muted small">{formatDate(t.created_at)}</span>
                  </li>
                ))}
              </ul>
            )
          }
        </QueryView>
      </section>
      <section className="card" aria-labelledby="unread-heading">
        <h2 id="unread-heading">Unread notifications</h2>
        <QueryView query={unread} feature="Notifications">
          {(data) =>
            itemsOf(data).length === 0 ? (
              <Empty title="Nothing new." />
            ) : (
              <ul className="link-list">
                {itemsOf(data).map((n) => (
                  <li key={n.id}>{n.link ? <Link to={n.link}>{n.title}</Link> : n.title}</li>
                ))}
              </ul>
            )
          }
        </QueryView>
      </section>
      <section className="card" aria-labelledby="workspaces-heading">
        <h2 id="workspaces-heading">Workspaces</h2>
        <QueryView query={workspaces} feature="Workspaces">
          {(data) => (
            <ul className="link-list">
              {itemsOf(data).map((w) => (
                <li key={w.id}>
                  <Link to={`/workspaces/${w.id}`}>{w.name}</Link> <span className="muted small">{w.role}</span>
                </li>
              ))}
            </ul>
          )}
        </QueryView>
      </section>
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
