// The workspace the caller works in; list pages pass it as ?workspace_id= when one is chosen.
import { useSyncExternalStore } from "react";
import { useQuery } from "@tanstack/react-query";
import { get } from "../api/client";
import type { Page, WorkspaceOut } from "../api/types";

const KEY = "pyairtable.workspace";
let current: string | null = localStorage.getItem(KEY);
const subscribers = new Set<() => void>();

export function setWorkspace(id: string | null): void {
  current = id;
  if (id) localStorage.setItem(KEY, id);
  else localStorage.removeItem(KEY);
  subscribers.forEach((notify) => notify());
}

export function useWorkspaceId(): string | null {
  return useSyncExternalStore(
    (notify) => {
      subscribers.add(notify);
      return () => subscribers.delete(notify);
    },
    () => current,
  );
}

export function useWorkspaces() {
  return useQuery({ queryKey: ["workspaces"], queryFn: () => get<Page<WorkspaceOut>>("/api/workspaces") });
}
