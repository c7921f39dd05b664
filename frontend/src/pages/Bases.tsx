import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { fetchBases, fetchSchema } from "../api/airtable";
import { Empty, PageHeader, QueryView, itemsOf } from "../components/ui";

export function BasesPage() {
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  return (
    <>
      <PageHeader title="Bases" description="The Airtable bases your connections reach." />
      <QueryView query={bases} loadingLabel="Loading bases…">
        {(data) => {
          const list = itemsOf(data);
          if (list.length === 0)
            return (
              <Empty title="No bases yet.">
                <p>
                  Add an Airtable connection (a personal access token) in <Link to="/settings/connections">Settings → Connections</Link> to see its bases here.
                </p>
              </Empty>
            );
          return (
            <ul className="tiles">
              {list.map((base) => (
                <li key={`${base.connection_id ?? ""}${base.id}`}>
                  <Link className="tile" to={`/bases/${base.id}`}>
                    <span className="tile-title">{base.name}</span>
                    <span className="muted small">{base.id}</span>
                    {base.permission_level && <span className="badge">{base.permission_level}</span>}
                  </Link>
                </li>
              ))}
            </ul>
          );
        }}
      </QueryView>
    </>
  );
}

export function BasePage() {
  const { baseId = "" } = useParams();
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId) });
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const baseName = itemsOf(bases.data).find((b) => b.id === baseId)?.name ?? baseId;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <Link to="/bases">Bases</Link> <span aria-hidden="true">›</span> <span>{baseName}</span>
      </nav>
      <PageHeader title={baseName} description="Tables in this base." />
      <QueryView query={schema} loadingLabel="Loading tables…">
        {(data) =>
          data.tables.length === 0 ? (
            <Empty title="This base has no tables." />
          ) : (
            <ul className="tiles">
              {data.tables.map((table) => (
                <li key={table.id}>
                  <Link className="tile" to={`/bases/${baseId}/tables/${table.id}`}>
                    <span className="tile-title">{table.name}</span>
                    <span className="muted small">
                      {table.fields.length} fields{table.description ? ` · ${table.description}` : ""}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )
        }
      </QueryView>
    </>
  );
}
