import { useQuery } from "@tanstack/react-query";
import { get } from "../api/client";
import type { HealthReportOut, Operations } from "../api/types";
import { useSession } from "../auth/session";
import { Empty, PageHeader, QueryView, StatusBadge, formatDate } from "../components/ui";

const percent = (rate: number) => `${(rate * 100).toFixed(rate && rate < 0.001 ? 2 : 1)} %`;

function failedChecks(service: HealthReportOut["services"][string]) {
  const failed = Object.entries(service.checks ?? {}).filter(([, c]) => c.status !== "ok");
  if (failed.length) return failed.map(([name, c]) => `${name}: ${c.error ?? c.status}`).join(", ");
  return service.error ?? "";
}

function ServiceHealth() {
  const health = useQuery({
    queryKey: ["health", "services"],
    queryFn: () => get<HealthReportOut>("/api/platform/health/services"),
    refetchInterval: 60_000,
  });
  return (
    <section className="card" aria-labelledby="health-heading">
      <h2 id="health-heading">Service health</h2>
      <QueryView query={health} loadingLabel="Checking services…">
        {(data) => (
          <>
            <p>
              Overall: <StatusBadge status={data.status} /> <span className="muted">checked {formatDate(data.checked_at)}</span>
            </p>
            {data.database_connections && (
              <p>
                Database connections: {data.database_connections.held} of {data.database_connections.limit}
                {data.database_connections.share != null && ` (${percent(data.database_connections.share)})`}; the alarm fires over 80 %.
              </p>
            )}
            <table className="table compact">
              <caption className="sr-only">Services and their checks</caption>
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Status</th>
                  <th scope="col">Checks</th>
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
                    <td>{failedChecks(s) || Object.keys(s.checks ?? {}).join(", ")}</td>
                    <td className="num">{s.latency_ms != null ? `${Math.round(s.latency_ms)} ms` : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h3>Dependencies</h3>
            <ul className="inline-list">
              {Object.entries(data.dependencies ?? {}).map(([dep, status]) => (
                <li key={dep}>
                  {dep} <StatusBadge status={status} />
                </li>
              ))}
            </ul>
          </>
        )}
      </QueryView>
    </section>
  );
}

function Alarms({ alarms }: { alarms: Operations["alarms"] }) {
  const firing = alarms.filter((a) => a.state === "ALARM").length;
  return (
    <section className="card" aria-labelledby="alarms-heading">
      <h2 id="alarms-heading">Alarms</h2>
      <p>
        {firing ? `${firing} of ${alarms.length} alarms are firing.` : `None of ${alarms.length} alarms is firing.`} Each name says what to do first; the README's runbook says more.
      </p>
      <table className="table compact">
        <caption className="sr-only">Alarms and their states</caption>
        <thead>
          <tr>
            <th scope="col">Alarm</th>
            <th scope="col">State</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {alarms.map((a) => (
            <tr key={a.name}>
              <td title={a.description}>{a.name}</td>
              <td title={a.reason}>
                <StatusBadge status={a.state.toLowerCase()} />
              </td>
              <td>{formatDate(a.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function DeadLetters({ view }: { view: Operations }) {
  return (
    <section className="card" aria-labelledby="dlq-heading">
      <h2 id="dlq-heading">Dead letters</h2>
      <table className="table compact">
        <caption className="sr-only">Dead-letter queue depths</caption>
        <thead>
          <tr>
            <th scope="col">Queue</th>
            <th scope="col" className="num">Waiting</th>
            <th scope="col" className="num">Being read</th>
          </tr>
        </thead>
        <tbody>
          {view.dead_letter_queues.map((q) => (
            <tr key={q.name}>
              <td>{q.name.replace(/_/g, " ")}</td>
              <td className="num">{q.depth}</td>
              <td className="num">{q.in_flight}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Dead-lettered webhook deliveries</h3>
      {view.failed_webhook_deliveries.length === 0 ? (
        <Empty title={`None in the last ${view.window_hours} hours.`} />
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col" className="num">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {view.failed_webhook_deliveries.map((d) => (
              <tr key={d.id}>
                <td title={`retry: POST ${d.retry}`}>{d.event_type}</td>
                <td className="num">{d.attempts}</td>
                <td>{d.last_error ?? "—"}</td>
                <td>{formatDate(d.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Executions({ view }: { view: Operations }) {
  return (
    <section className="card" aria-labelledby="executions-heading">
      <h2 id="executions-heading">Failed executions</h2>
      {view.failed_executions.length === 0 ? (
        <Empty title={`No failed executions in the last ${view.window_hours} hours.`} />
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">State machine</th>
              <th scope="col">Execution</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {view.failed_executions.map((e) => (
              <tr key={e.link}>
                <td>{e.state_machine.replace(/_/g, " ")}</td>
                <td>
                  <a href={e.link} target="_blank" rel="noreferrer">
                    {e.name}
                  </a>
                </td>
                <td>
                  <StatusBadge status={e.status.toLowerCase()} />
                </td>
                <td>{formatDate(e.started_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ErrorRates({ view }: { view: Operations }) {
  return (
    <section className="card" aria-labelledby="errors-heading">
      <h2 id="errors-heading">5xx rate (last hour)</h2>
      {view.http_5xx.length === 0 ? (
        <Empty title="No requests counted in the last hour." />
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col" className="num">Requests</th>
              <th scope="col" className="num">5xx</th>
              <th scope="col" className="num">Rate</th>
            </tr>
          </thead>
          <tbody>
            {view.http_5xx.map((s) => (
              <tr key={s.service}>
                <td>{s.service}</td>
                <td className="num">{s.requests}</td>
                <td className="num">{s.server_errors}</td>
                <td className="num">{percent(s.error_rate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Airtable 429s per base ({view.window_hours} h)</h3>
      {view.airtable_429s.length === 0 ? (
        <Empty title="Airtable answered no 429." />
      ) : (
        <ul className="link-list">
          {view.airtable_429s.map((b) => (
            <li key={b.base_id}>
              {b.base_id}: {b.responses_429}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function OperationsPage() {
  const session = useSession();
  const admin = session.user?.role === "admin";
  const operations = useQuery({ queryKey: ["operations"], queryFn: () => get<Operations>("/api/platform/operations"), refetchInterval: 60_000, enabled: admin });
  if (!admin)
    return (
      <>
        <PageHeader title="Operations" />
        <p>This page is for administrators.</p>
      </>
    );
  return (
    <>
      <PageHeader title="Operations" description="Alarms, dead letters, failed executions and error rates of this deployment." />
      <div className="grid-2">
        <ServiceHealth />
        <QueryView query={operations} loadingLabel="Reading alarms…">
          {(view) => <Alarms alarms={view.alarms} />}
        </QueryView>
      </div>
      <QueryView query={operations}>
        {(view) => (
          <div className="grid-2">
            <DeadLetters view={view} />
            <Executions view={view} />
            <ErrorRates view={view} />
          </div>
        )}
      </QueryView>
    </>
  );
}
