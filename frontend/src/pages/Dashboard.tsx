import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { get } from "../api/client";
import { useSession } from "../auth/session";
import { Empty, PageHeader, QueryView, StatusBadge } from "../components/ui";

interface Health {
  status: string;
  services: Record<string, { status: string; latency_ms?: number }>;
  dependencies: Record<string, { status: string } | string>;
}
interface Info {
  name: string;
  version: string;
  services?: string[] | Record<string, unknown>;
  build?: Record<string, unknown> | string;
}
interface UsageDay {
  date?: string;
  day?: string;
  calls?: number;
  airtable_requests?: number;
  errors?: number;
}

export function DashboardPage() {
  const session = useSession();
  const health = useQuery({ queryKey: ["health"], queryFn: () => get<Health>("/api/health"), refetchInterval: 60_000 });
  const info = useQuery({ queryKey: ["platform-info"], queryFn: () => get<Info>("/api/platform/info") });
  const usage = useQuery({ queryKey: ["usage"], queryFn: () => get<{ items?: UsageDay[]; days?: UsageDay[] } | UsageDay[]>("/api/platform/usage") });
  const name = session.user?.first_name || session.user?.username || session.user?.email;
  return (
    <>
      <PageHeader title="Dashboard" description={name ? `Welcome, ${name}.` : undefined} />
      {session.user && session.user.email_verified === false && (
        <p className="notice">Your email address is not verified yet: open the link in the email we sent you. You can ask for a new one in <Link to="/settings">Settings</Link>.</p>
      )}
      <div className="grid-2">
        <section className="card" aria-labelledby="health-heading">
          <h2 id="health-heading">Service health</h2>
          <QueryView query={health} loadingLabel="Checking services…">
            {(data) => (
              <>
                <p>
                  Overall: <StatusBadge status={data.status} />
                </p>
                <table className="table compact">
                  <caption className="sr-only">Services</caption>
                  <thead>
                    <tr>
                      <th scope="col">Service</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="num">Latency</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(data.services ?? {}).map(([service, s]) => (
                      <tr key={service}>
                        <td>{service}</td>
                        <td>
                          <StatusBadge status={s.status} />
                        </td>
                        <td className="num">{s.latency_ms != null ? `${Math.round(s.latency_ms)} ms` : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <h3>Dependencies</h3>
                <ul className="inline-list">
                  {Object.entries(data.dependencies ?? {}).map(([dep, d]) => (
                    <li key={dep}>
                      {dep} <StatusBadge status={typeof d === "string" ? d : d.status} />
                    </li>
                  ))}
                </ul>
              </>
            )}
          </QueryView>
        </section>
        <section className="card" aria-labelledby="usage-heading">
          <h2 id="usage-heading">Your API usage</h2>
          <QueryView query={usage} feature="Usage reporting">
            {(data) => {
              const days = Array.isArray(data) ? data : data.items ?? data.days ?? [];
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
                    {days.map((d, i) => (
                      <tr key={d.date ?? d.day ?? i}>
                        <td>{d.date ?? d.day}</td>
                        <td className="num">{d.calls ?? 0}</td>
                        <td className="num">{d.airtable_requests ?? 0}</td>
                        <td className="num">{d.errors ?? 0}</td>
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
                {data.build && (
                  <>
                    <dt>Build</dt>
                    <dd>{typeof data.build === "string" ? data.build : Object.values(data.build).filter(Boolean).join(" · ") || "—"}</dd>
                  </>
                )}
              </dl>
            )}
          </QueryView>
        </section>
      </div>
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
