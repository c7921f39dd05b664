import { get, type Page } from "./client";

export interface Connection {
  id: string;
  name: string;
  token_last4: string;
  default_base_id: string | null;
  workspace_id?: string;
  created_at: string;
}
export interface Base {
  id: string;
  name: string;
  permission_level?: string;
  connection_id?: string;
}
export interface Field {
  id: string;
  name: string;
  type: string;
  options?: Record<string, unknown>;
  description?: string;
}
export interface Table {
  id: string;
  name: string;
  primaryFieldId?: string;
  description?: string;
  fields: Field[];
  views?: { id: string; name: string; type?: string }[];
}
export interface AirtableRecord {
  id: string;
  created_time?: string;
  fields: Record<string, unknown>;
}
export interface RecordsPage {
  records: AirtableRecord[];
  offset?: string | null;
}

export const basePath = (baseId: string) => `/api/airtable/bases/${encodeURIComponent(baseId)}`;
export const tablePath = (baseId: string, table: string) => `${basePath(baseId)}/tables/${encodeURIComponent(table)}`;

export const fetchBases = () => get<Page<Base> | Base[]>("/api/airtable/bases");
export const fetchSchema = (baseId: string) => get<{ tables: Table[] }>(`${basePath(baseId)}/schema`);

// Per field type parsing, validation and display: src/grid/fields.ts.

/** A cell value as plain text (a record picker's label). */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v ? (v as { name?: string; filename?: string; id?: string }).name ?? (v as { filename?: string }).filename ?? (v as { id?: string }).id ?? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return (value as { name?: string }).name ?? JSON.stringify(value);
  return String(value);
}
