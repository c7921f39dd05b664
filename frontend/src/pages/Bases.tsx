import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { post } from "../api/client";
import { basePath, fetchBases, fetchSchema } from "../api/airtable";
import type { NewTable, TableOut } from "../api/types";
import { Empty, ErrorMessage, PageHeader, QueryView, SelectField, TextField, itemsOf } from "../components/ui";
import { Breadcrumbs } from "../components/DetailPage";

const FIELD_TYPES = ["singleLineText", "multilineText", "email", "url", "number", "checkbox", "date", "phoneNumber"];

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
      <Breadcrumbs parent={{ to: "/bases", label: "Bases" }} current={baseName} />
      <PageHeader title={baseName} description="Tables in this base." />
      <NewTableForm baseId={baseId} />
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

function NewTableForm({ baseId }: { baseId: string }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [fields, setFields] = useState([{ name: "Name", type: "singleLineText" }]);
  const create = useMutation({
    mutationFn: () =>
      post<TableOut>(`${basePath(baseId)}/tables`, {
        name: name.trim(),
        fields: fields
          .filter((f) => f.name.trim())
          .map((f) => ({ name: f.name.trim(), type: f.type, ...(f.type === "number" ? { options: { precision: 0 } } : {}), ...(f.type === "checkbox" ? { options: { icon: "check", color: "greenBright" } } : {}), ...(f.type === "date" ? { options: { dateFormat: { name: "iso" } } } : {}) })),
      } satisfies NewTable),
    onSuccess: (table) => {
      void queryClient.invalidateQueries({ queryKey: ["schema", baseId] });
      navigate(`/bases/${baseId}/tables/${table.id}`);
    },
  });
  if (!open)
    return (
      <p>
        <button type="button" className="button secondary" onClick={() => setOpen(true)}>
          New table
        </button>
      </p>
    );
  return (
    <form
      className="card"
      aria-labelledby="new-table-heading"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <h2 id="new-table-heading">New table</h2>
      <TextField label="Table name" required value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      <h3>Fields</h3>
      <p className="muted small">The first field is the table's primary field.</p>
      {fields.map((field, i) => (
        <div className="field-row" key={i}>
          <TextField label={`Field ${i + 1} name`} value={field.name} onChange={(e) => setFields(fields.map((f, j) => (j === i ? { ...f, name: e.target.value } : f)))} />
          <SelectField label={`Field ${i + 1} type`} value={field.type} onChange={(e) => setFields(fields.map((f, j) => (j === i ? { ...f, type: e.target.value } : f)))}>
            {(i === 0 ? FIELD_TYPES.filter((t) => t !== "checkbox") : FIELD_TYPES).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </SelectField>
        </div>
      ))}
      {create.isError && <ErrorMessage error={create.error} />}
      <div className="form-actions">
        <button type="button" className="button secondary" onClick={() => setFields([...fields, { name: "", type: "singleLineText" }])}>
          Add field
        </button>
        <button type="submit" className="button primary" disabled={create.isPending || !name.trim()}>
          {create.isPending ? "Creating…" : "Create table"}
        </button>
        <button type="button" className="button link" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
