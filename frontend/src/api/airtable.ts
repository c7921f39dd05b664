import { get } from "./client";
import type { BaseOut, BaseSchemaOut, ConnectionOut, Page } from "./types";

export const basePath = (baseId: string) => `/api/airtable/bases/${encodeURIComponent(baseId)}`;
export const tablePath = (baseId: string, table: string) => `${basePath(baseId)}/tables/${encodeURIComponent(table)}`;

export const fetchBases = () => get<Page<BaseOut>>("/api/airtable/bases");
/** The connections of the caller's workspaces, or of the one given. */
export const fetchConnections = (workspaceId?: string | null) => get<Page<ConnectionOut>>("/api/airtable/connections", { workspace_id: workspaceId });
export const fetchSchema = (baseId: string) => get<BaseSchemaOut>(`${basePath(baseId)}/schema`);

// Per field type parsing, validation and display: src/grid/fields.ts.

/** A cell value as plain text (a record picker's label). */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v ? (v as { name?: string; filename?: string; id?: string }).name ?? (v as { filename?: string }).filename ?? (v as { id?: string }).id ?? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return (value as { name?: string }).name ?? JSON.stringify(value);
  return String(value);
}
