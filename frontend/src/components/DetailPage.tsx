import type { ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { Link } from "react-router";
import { QueryView } from "./ui";

/** The trail back from a page: its list's link, then the page itself (`current`). */
export function Breadcrumbs({ parent, current }: { parent: { to: string; label: string }; current: ReactNode }) {
  return (
    <nav aria-label="Breadcrumb" className="breadcrumbs">
      <Link to={parent.to}>{parent.label}</Link> <span aria-hidden="true">›</span> <span>{current}</span>
    </nav>
  );
}

/** The page of one object: the breadcrumbs back to its list, its query's states, then `children`
 * with the object; `dialog` (a `useConfirm()`'s) after it all. */
export function DetailPage<T>({ parent, current, query, dialog, children }: { parent: { to: string; label: string }; current: ReactNode; query: UseQueryResult<T>; dialog?: ReactNode; children: (data: T) => ReactNode }) {
  return (
    <>
      <Breadcrumbs parent={parent} current={current} />
      <QueryView query={query}>{children}</QueryView>
      {dialog}
    </>
  );
}
