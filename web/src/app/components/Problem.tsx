import type { Problem } from "../errors";
import { Link } from "../router";

/** An error said in words, announced at once (role="alert"). */
export function ProblemMessage({ problem }: { problem: Problem | null | undefined }) {
  if (!problem) return null;
  const here = window.location.pathname + window.location.search;
  return (
    <div className="notice notice-error" role="alert" data-code={problem.code}>
      <p>{problem.message}</p>
      {problem.signIn && (
        <p>
          <Link to={`/signin?next=${encodeURIComponent(here)}`}>Sign in</Link>
        </p>
      )}
    </div>
  );
}
