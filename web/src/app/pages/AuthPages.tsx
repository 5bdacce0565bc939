import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { Field } from "../components/Field";
import { Page } from "../components/Page";
import { ProblemMessage } from "../components/Problem";
import { mutationProblem, type Problem } from "../errors";
import { SignInMutation, SignUpMutation } from "../operations";
import { Link, navigate, useLocation } from "../router";
import { useSession } from "../session";

// Where to go after signing in: a path of this app only, never another site.
function nextPath(search: URLSearchParams): string {
  const next = search.get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function AuthForm({ mode }: { mode: "signin" | "signup" }) {
  const { search } = useLocation();
  const { changed } = useSession();
  const [signin, signIn] = useMutation(SignInMutation);
  const [signup, signUp] = useMutation(SignUpMutation);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const busy = signin.fetching || signup.fetching;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    const input = { email, password };
    const result = mode === "signin" ? await signIn({ input }) : await signUp({ input });
    const payload = result.data && ("signIn" in result.data ? result.data.signIn : result.data.signUp);
    const problem = mutationProblem(result, payload, mode);
    setProblem(problem);
    if (!problem && payload?.user) {
      changed(payload.user);
      navigate(nextPath(search), { replace: true });
    }
  };

  const fieldError = (name: string) => (problem?.field === name ? problem.message : undefined);
  const next = search.get("next");
  const other = mode === "signin" ? "/signup" : "/signin";
  return (
    <form onSubmit={submit} noValidate={false} aria-describedby={problem ? "auth-problem" : undefined}>
      <div id="auth-problem">
        <ProblemMessage problem={problem && !problem.field ? problem : null} />
      </div>
      <Field
        label="Email"
        name="email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={fieldError("email")}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete={mode === "signin" ? "current-password" : "new-password"}
        hint={mode === "signup" ? "At least 8 characters." : undefined}
        required
        minLength={mode === "signup" ? 8 : undefined}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={fieldError("password")}
      />
      <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
        {mode === "signin" ? "Sign in" : "Create account"}
      </button>
      <p>
        {mode === "signin" ? "No account yet? " : "Already have an account? "}
        <Link to={next ? `${other}?next=${encodeURIComponent(next)}` : other}>
          {mode === "signin" ? "Sign up" : "Sign in"}
        </Link>
      </p>
    </form>
  );
}

export function SignInPage() {
  return (
    <Page title="Sign in">
      <AuthForm mode="signin" />
    </Page>
  );
}

export function SignUpPage() {
  return (
    <Page title="Create an account">
      <AuthForm mode="signup" />
    </Page>
  );
}
