import { useEffect, useId, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { get } from "../api/client";
import type { NotificationOut, Page } from "../api/types";
import { signOut, useSession } from "../auth/session";
import { itemsOf } from "./ui";
import { setWorkspace, useWorkspaceId, useWorkspaces } from "./workspace";

const NAV = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/bases", label: "Bases" },
  { to: "/sagas", label: "Transactions" },
  { to: "/workflows", label: "Workflows" },
  { to: "/files", label: "Files" },
  { to: "/notifications", label: "Notifications" },
  { to: "/workspaces", label: "Workspaces" },
  { to: "/settings", label: "Settings" },
  { to: "/operations", label: "Operations", admin: true },
];

function UnreadBadge() {
  const unread = useQuery({
    queryKey: ["notifications", "unread-count"],
    queryFn: () => get<Page<NotificationOut>>("/api/notifications", { unread: true, limit: 200 }),
    refetchInterval: (query) => (query.state.error ? false : 30_000),
    // Coming back to the tab shows what arrived meanwhile, without waiting for the poll.
    refetchOnWindowFocus: true,
    retry: false,
  });
  const count = unread.data ? itemsOf(unread.data).length : 0;
  if (!count) return null;
  return (
    <span className="count-badge" aria-label={`${count} unread`}>
      {count > 99 ? "99+" : count}
    </span>
  );
}

function WorkspaceSwitcher() {
  const workspaces = useWorkspaces();
  const selected = useWorkspaceId();
  const list = itemsOf(workspaces.data);
  const id = useId();
  useEffect(() => {
    if (selected && workspaces.isSuccess && !list.some((w) => w.id === selected)) setWorkspace(null);
  }, [selected, workspaces.isSuccess, list]);
  if (!workspaces.isSuccess || list.length === 0) return null;
  return (
    <div className="workspace-switcher">
      <label htmlFor={id}>Workspace</label>
      <select id={id} value={selected ?? ""} onChange={(e) => setWorkspace(e.target.value || null)}>
        <option value="">All workspaces</option>
        {list.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
            {w.personal ? " (personal)" : ""}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Layout() {
  const session = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);
  const user = session.user;
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="PyAirtable home">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>PyAirtable</span>
        </NavLink>
        <button type="button" className="menu-toggle button secondary small" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen((open) => !open)}>
          Menu
        </button>
        <div className="topbar-end">
          <WorkspaceSwitcher />
          {user && (
            <span className="user-name" title={user.email}>
              {user.first_name || user.username || user.email}
            </span>
          )}
          <button type="button" className="button secondary small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="shell">
        <nav id="main-nav" className={menuOpen ? "sidebar open" : "sidebar"} aria-label="Main">
          <ul>
            {NAV.filter((item) => !item.admin || user?.role === "admin").map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end}>
                  {item.label}
                  {item.to === "/notifications" && <UnreadBadge />}
                </NavLink>
              </li>
            ))}
          </ul>
          <div className="sidebar-extra">
            <WorkspaceSwitcher />
            {user && <span className="muted small">Signed in as {user.email}</span>}
            <button type="button" className="button secondary small" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </nav>
        <main id="main" className="content">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
