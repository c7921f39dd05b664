import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { fetchBases, fetchSchema } from "../api/airtable";
import { SelectField, itemsOf } from "./ui";

/** A base and a table of it, chosen with two pickers; the table's fields once chosen. */
export function useBaseAndTable() {
  const [baseId, setBaseId] = useState("");
  const [table, setTable] = useState("");
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId), enabled: Boolean(baseId) });
  const selectors = (
    <div className="field-row">
      <SelectField label="Base" value={baseId} onChange={(e) => { setBaseId(e.target.value); setTable(""); }}>
        <option value="">Choose a base…</option>
        {itemsOf(bases.data).map((b) => (
          <option key={b.id} value={b.id}>
            {b.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Table" value={table} onChange={(e) => setTable(e.target.value)} disabled={!baseId}>
        <option value="">Choose a table…</option>
        {(schema.data?.tables ?? []).map((t) => (
          <option key={t.id} value={t.name}>
            {t.name}
          </option>
        ))}
      </SelectField>
    </div>
  );
  return { baseId, table, selectors, fields: schema.data?.tables.find((t) => t.name === table)?.fields ?? [] };
}
