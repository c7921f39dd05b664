import { useEffect, useId, useRef, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { ApiError } from "../api/client";
import type { ErrorDetail, Page } from "../api/types";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** An API or network failure in words, with the API's field problems and its request id. */
export function ErrorMessage({ error, retry, title }: { error: unknown; retry?: () => void; title?: string }) {
  const apiError = error instanceof ApiError ? error : null;
  const message = apiError?.message ?? (error instanceof Error ? error.message : "Something went wrong.");
  return (
    <div className="state state-error" role="alert">
      {title && <strong>{title} </strong>}
      <span>{message}</span>
      {apiError && apiError.details.length > 0 && (
        <ul>
          {apiError.details.map((detail, i) => (
            <li key={i}>{describeDetail(detail)}</li>
          ))}
        </ul>
      )}
      {apiError?.status === 429 && apiError.retryAfter && <p>Try again in {apiError.retryAfter} s.</p>}
      {retry && (
        <button type="button" className="button secondary small" onClick={retry}>
          Try again
        </button>
      )}
      {apiError?.requestId && <small className="muted"> Reference: {apiError.requestId}</small>}
    </div>
  );
}

/** A detail of the envelope as "field: problem". */
function describeDetail({ field, problem = "is not valid" }: ErrorDetail): string {
  return field ? `${field}: ${problem}` : problem;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children}
    </div>
  );
}

/** What a page shows when the API it needs answers that the route does not exist (yet). */
export function NotAvailable({ feature, error }: { feature: string; error: ApiError }) {
  return (
    <div className="state state-unavailable" role="status">
      <p className="state-title">{feature} is not available on this deployment yet.</p>
      <p className="muted">
        The API answered {error.status}: “{error.message}” Nothing is shown here until the service is deployed.
      </p>
    </div>
  );
}

/**
 * Loading, error and not-available states of a query; `children` renders its data. `feature`
 * names what a query of a route that names no object serves (a list, unfiltered): its 404
 * `not_found` can only mean that the route is not deployed. A query of one object (or of a list
 * filtered by a workspace) passes none, since its 404 is the object's.
 */
export function QueryView<T>({ query, feature, children, loadingLabel }: { query: UseQueryResult<T>; feature?: string; children: (data: T) => ReactNode; loadingLabel?: string }) {
  if (query.isPending) return <Loading label={loadingLabel} />;
  if (query.isError) {
    if (feature && query.error instanceof ApiError && query.error.notFound) return <NotAvailable feature={feature} error={query.error} />;
    return <ErrorMessage error={query.error} retry={() => query.refetch()} />;
  }
  return <>{children(query.data as T)}</>;
}

export function PageHeader({ title, children, description }: { title: string; children?: ReactNode; description?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  // Moving focus to the new page's heading tells keyboard and screen-reader users the page changed.
  useEffect(() => {
    document.title = `${title} · PyAirtable`;
    ref.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <div className="page-header">
      <div>
        <h1 tabIndex={-1} ref={ref}>
          {title}
        </h1>
        {description && <p className="muted">{description}</p>}
      </div>
      {children && <div className="page-actions">{children}</div>}
    </div>
  );
}

type FieldProps = { label: string; hint?: ReactNode; error?: string } & InputHTMLAttributes<HTMLInputElement>;

export function TextField({ label, hint, error, id, ...input }: FieldProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = error ? `${inputId}-error` : undefined;
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <input id={inputId} aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined} aria-invalid={error ? true : undefined} {...input} />
      {hint && (
        <small id={hintId} className="muted">
          {hint}
        </small>
      )}
      {error && (
        <small id={errorId} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

export function SelectField({ label, children, id, ...select }: { label: string; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const generated = useId();
  const selectId = id ?? generated;
  return (
    <div className="field">
      <label htmlFor={selectId}>{label}</label>
      <select id={selectId} {...select}>
        {children}
      </select>
    </div>
  );
}

export function TextArea({ label, hint, id, ...area }: { label: string; hint?: ReactNode } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const generated = useId();
  const areaId = id ?? generated;
  return (
    <div className="field">
      <label htmlFor={areaId}>{label}</label>
      <textarea id={areaId} aria-describedby={hint ? `${areaId}-hint` : undefined} {...area} />
      {hint && (
        <small id={`${areaId}-hint`} className="muted">
          {hint}
        </small>
      )}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status.replace(/[^a-z]/g, "")}`}>{status.replace(/_/g, " ")}</span>;
}

/** An error the API reported inside an object (a step's, a saga's): its sentence if it has one. */
export function describeError(error: unknown): string {
  if (typeof error === "string") return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : JSON.stringify(error);
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

/** The items of a list answer (a Page), none while it is loading. */
export function itemsOf<T>(data: Page<T> | undefined | null): T[] {
  return data?.items ?? [];
}
