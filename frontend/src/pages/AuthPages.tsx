import { useState, type FormEvent, type ReactNode } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { post } from "../api/client";
import type { PasswordForgotIn, PasswordResetIn, VerifyEmailIn } from "../api/types";
import { register, signIn, useSession } from "../auth/session";
import { ErrorMessage, TextField } from "../components/ui";

export function AuthCard({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <main id="main" className="auth-page">
      <div className="auth-card">
        <div className="auth-brand">
          <img src="/favicon.svg" alt="" width="32" height="32" />
          <span>PyAirtable</span>
        </div>
        <h1>{title}</h1>
        {children}
        {footer && <div className="auth-footer">{footer}</div>}
      </div>
    </main>
  );
}

function useAfterSignIn(): string {
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  return from && from.startsWith("/") && !from.startsWith("//") ? from : "/";
}

export function LoginPage() {
  const session = useSession();
  const navigate = useNavigate();
  const target = useAfterSignIn();
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({ mutationFn: () => signIn(identifier.trim(), password), onSuccess: () => navigate(target, { replace: true }) });
  if (session.status === "signed-in") return <Navigate to={target} replace />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate();
  };
  document.title = "Sign in · PyAirtable";
  return (
    <AuthCard
      title="Sign in"
      footer={
        <>
          <Link to="/forgot-password">Forgot your password?</Link>
          <span>
            New here? <Link to="/register">Create an account</Link>
          </span>
        </>
      }
    >
      {session.status === "signed-out" && session.reason && <p className="notice">{session.reason}</p>}
      <form onSubmit={submit} noValidate>
        <TextField label="Email or username" name="identifier" autoComplete="username" required value={identifier} onChange={(e) => setIdentifier(e.target.value)} autoFocus />
        <TextField label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {login.isError && <ErrorMessage error={login.error} />}
        <button className="button primary wide" type="submit" disabled={login.isPending || !identifier || !password}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </AuthCard>
  );
}

export function RegisterPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const invitation = params.get("invitation") ?? undefined;
  const workspaceId = params.get("workspace_id");
  const [form, setForm] = useState({ email: params.get("email") ?? "", password: "", first_name: "", last_name: "", username: "" });
  const create = useMutation({
    mutationFn: () =>
      register({
        email: form.email.trim(),
        password: form.password,
        first_name: form.first_name.trim() || undefined,
        last_name: form.last_name.trim() || undefined,
        username: form.username.trim() || undefined,
        invitation_token: invitation,
      }),
    // Registering with the invitation proved the email and joined the workspace already.
    onSuccess: () => navigate(invitation ? (workspaceId ? `/workspaces/${encodeURIComponent(workspaceId)}` : "/workspaces") : "/", { replace: true }),
  });
  if (session.status === "signed-in" && !create.isSuccess) return <Navigate to="/" replace />;
  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [key]: e.target.value });
  document.title = "Create an account · PyAirtable";
  return (
    <AuthCard title="Create an account" footer={<span>Already have an account? <Link to="/login">Sign in</Link></span>}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        noValidate
      >
        <TextField label="Email" name="email" type="email" autoComplete="email" required value={form.email} onChange={set("email")} readOnly={Boolean(invitation && params.get("email"))} hint={invitation && params.get("email") ? "The invitation was sent to this address." : undefined} autoFocus={!invitation} />
        <TextField label="Password" name="password" type="password" autoComplete="new-password" required value={form.password} onChange={set("password")} hint="At least 10 characters, not a common password and not your email." />
        <div className="field-row">
          <TextField label="First name (optional)" name="first_name" autoComplete="given-name" value={form.first_name} onChange={set("first_name")} />
          <TextField label="Last name (optional)" name="last_name" autoComplete="family-name" value={form.last_name} onChange={set("last_name")} />
        </div>
        <TextField label="Username (optional)" name="username" autoComplete="nickname" value={form.username} onChange={set("username")} />
        {create.isError && <ErrorMessage error={create.error} />}
        <button className="button primary wide" type="submit" disabled={create.isPending || !form.email || !form.password}>
          {create.isPending ? "Creating your account…" : "Create account"}
        </button>
      </form>
    </AuthCard>
  );
}

export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const verify = useMutation({ mutationFn: () => post("/api/auth/verify-email", { token: token ?? "" } satisfies VerifyEmailIn) });
  document.title = "Verify your email · PyAirtable";
  return (
    <AuthCard title="Verify your email" footer={<Link to="/">Go to the dashboard</Link>}>
      {!token ? (
        <p role="alert">This link has no verification token. Open the link from the email again, or ask for a new one in Settings.</p>
      ) : verify.isSuccess ? (
        <p role="status" className="notice success">Your email address is verified.</p>
      ) : (
        <>
          <p>Confirm that this email address is yours.</p>
          {verify.isError && <ErrorMessage error={verify.error} />}
          <button className="button primary wide" type="button" disabled={verify.isPending} onClick={() => verify.mutate()}>
            {verify.isPending ? "Verifying…" : "Verify my email"}
          </button>
        </>
      )}
    </AuthCard>
  );
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const forgot = useMutation({ mutationFn: () => post("/api/auth/password/forgot", { email: email.trim() } satisfies PasswordForgotIn) });
  document.title = "Forgot password · PyAirtable";
  return (
    <AuthCard title="Reset your password" footer={<Link to="/login">Back to sign in</Link>}>
      {forgot.isSuccess ? (
        <p role="status" className="notice success">
          If an account uses {email}, an email with a reset link is on its way.
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            forgot.mutate();
          }}
          noValidate
        >
          <TextField label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          {forgot.isError && <ErrorMessage error={forgot.error} />}
          <button className="button primary wide" type="submit" disabled={forgot.isPending || !email}>
            {forgot.isPending ? "Sending…" : "Send reset link"}
          </button>
        </form>
      )}
    </AuthCard>
  );
}

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const [password, setPassword] = useState("");
  const reset = useMutation({ mutationFn: () => post("/api/auth/password/reset", { token: token ?? "", new_password: password } satisfies PasswordResetIn) });
  document.title = "Choose a new password · PyAirtable";
  return (
    <AuthCard title="Choose a new password" footer={<Link to="/login">Back to sign in</Link>}>
      {!token ? (
        <p role="alert">This link has no reset token. Ask for a new link on the “Forgot your password?” page.</p>
      ) : reset.isSuccess ? (
        <p role="status" className="notice success">
          Your password is changed and every session is signed out. <Link to="/login">Sign in</Link> with the new password.
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            reset.mutate();
          }}
          noValidate
        >
          <TextField label="New password" type="password" name="new_password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} hint="At least 10 characters." autoFocus />
          {reset.isError && <ErrorMessage error={reset.error} />}
          <button className="button primary wide" type="submit" disabled={reset.isPending || !password}>
            {reset.isPending ? "Saving…" : "Set new password"}
          </button>
        </form>
      )}
    </AuthCard>
  );
}

/** A newcomer opening an invitation link before signing in: what they are invited to, and
 * the two ways in (the invitation goes with either). */
export function InvitationWelcomePage() {
  const [params] = useSearchParams();
  const location = useLocation();
  const token = params.get("token");
  const workspace = params.get("workspace");
  const role = params.get("role");
  const email = params.get("email");
  const register = new URLSearchParams({ invitation: token ?? "", ...(email ? { email } : {}), ...(params.get("workspace_id") ? { workspace_id: params.get("workspace_id") as string } : {}) });
  document.title = "Invitation · PyAirtable";
  return (
    <AuthCard title={workspace ? `You're invited to ${workspace}${role ? ` as ${role}` : ""}` : "You're invited to a workspace"}>
      {!token ? (
        <p role="alert">This invitation link has no token. Open the link from the email again.</p>
      ) : (
        <>
          <p>{email ? `The invitation is for ${email}.` : "Use the email address the invitation was sent to."} New here? Create an account; otherwise sign in to accept it.</p>
          <p>
            <Link className="button primary wide" to={`/register?${register.toString()}`}>
              Create an account
            </Link>
          </p>
          <p>
            <Link className="button secondary wide" to="/login" state={{ from: location.pathname + location.search }}>
              Sign in
            </Link>
          </p>
        </>
      )}
    </AuthCard>
  );
}
