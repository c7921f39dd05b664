import { Navigate, Outlet, createBrowserRouter, useLocation } from "react-router";
import { useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { Loading, PageHeader } from "./components/ui";
import { ForgotPasswordPage, InvitationWelcomePage, LoginPage, RegisterPage, ResetPasswordPage, VerifyEmailPage } from "./pages/AuthPages";
import { BasePage, BasesPage } from "./pages/Bases";
import { DashboardPage } from "./pages/Dashboard";
import { FilesPage } from "./pages/Files";
import { ImportPage } from "./pages/Imports";
import { NotificationsPage } from "./pages/Notifications";
import { OAuthConsentPage } from "./pages/OAuthConsent";
import { OperationsPage } from "./pages/Operations";
import { RecordsPage } from "./pages/Records";
import { SagaPage, SagasPage } from "./pages/Sagas";
import { SettingsPage } from "./pages/Settings";
import { ExecutionPage, WorkflowPage, WorkflowsPage } from "./pages/Workflows";
import { AcceptInvitationPage, WorkspacePage, WorkspacesPage } from "./pages/Workspaces";
import { Link } from "react-router";

function RequireSession() {
  const session = useSession();
  const location = useLocation();
  if (session.status === "loading")
    return (
      <main id="main" className="auth-page">
        <Loading label="Restoring your session…" />
      </main>
    );
  if (session.status === "signed-out" && location.pathname === "/invitations/accept") return <InvitationWelcomePage />;
  if (session.status === "signed-out") return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        Nothing lives at this address. Go to the <Link to="/">dashboard</Link>.
      </p>
    </>
  );
}

export const router = createBrowserRouter([
  { path: "/login", element: <LoginPage /> },
  { path: "/register", element: <RegisterPage /> },
  { path: "/verify-email", element: <VerifyEmailPage /> },
  { path: "/forgot-password", element: <ForgotPasswordPage /> },
  { path: "/reset-password", element: <ResetPasswordPage /> },
  {
    element: <RequireSession />,
    children: [
      // The OAuth authorization endpoint: a page of its own, outside the app's navigation.
      { path: "oauth/authorize", element: <OAuthConsentPage /> },
      {
        element: <Layout />,
        children: [
          { index: true, element: <DashboardPage /> },
          { path: "bases", element: <BasesPage /> },
          { path: "bases/:baseId", element: <BasePage /> },
          { path: "bases/:baseId/tables/:tableId", element: <RecordsPage /> },
          { path: "sagas", element: <SagasPage /> },
          { path: "sagas/:sagaId", element: <SagaPage /> },
          { path: "workflows", element: <WorkflowsPage /> },
          { path: "workflows/executions/:executionId", element: <ExecutionPage /> },
          { path: "workflows/:workflowId", element: <WorkflowPage /> },
          { path: "files", element: <FilesPage /> },
          { path: "files/imports/:importId", element: <ImportPage /> },
          { path: "notifications", element: <NotificationsPage /> },
          { path: "workspaces", element: <WorkspacesPage /> },
          { path: "workspaces/:workspaceId", element: <WorkspacePage /> },
          { path: "invitations/accept", element: <AcceptInvitationPage /> },
          { path: "settings", element: <SettingsPage /> },
          { path: "settings/:tab", element: <SettingsPage /> },
          { path: "operations", element: <OperationsPage /> },
          { path: "*", element: <NotFoundPage /> },
        ],
      },
    ],
  },
]);
