import { useState, type ComponentProps } from "react";
import { useQuery } from "@tanstack/react-query";
import { fetchBases, fetchSchema } from "../api/airtable";
import type { BaseOut } from "../api/types";
import { SelectField, itemsOf } from "./ui";

/** A picker of the caller's bases (its value a base id), "Choose a base…" first. */
export function BaseSelect({ bases, ...select }: { bases: BaseOut[] } & Omit<ComponentProps<typeof SelectField>, "children">) {
  return (
    <SelectField {...select}>
      <option value="">Choose a base…</option>
      {bases.map((b) => (
        <option key={b.id} value={b.id}>
          {b.name}
        </option>
      ))}
    </SelectField>
  );
}

/** A base and a table of it, chosen with two pickers; the table's fields once chosen. */
export function useBaseAndTable() {
  const [baseId, setBaseId] = useState("");
  const [table, setTable] = useState("");
  const bases = useQuery({ queryKey: ["bases"], queryFn: fetchBases });
  const schema = useQuery({ queryKey: ["schema", baseId], queryFn: () => fetchSchema(baseId), enabled: Boolean(baseId) });
  const selectors = (
    <div className="field-row">
      <BaseSelect label="Base" bases={itemsOf(bases.data)} value={baseId} onChange={(e) => { setBaseId(e.target.value); setTable(""); }} />
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
