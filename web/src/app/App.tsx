import { useCallback, useEffect, useMemo, useState } from "react";
import { Provider, useMutation, useQuery } from "urql";
import { connect, type Connection } from "./client";
import type { RuntimeConfig } from "./config";
import { codeOf, mutationProblem, type Problem } from "./errors";
import { CurrentUserQuery, SignOutMutation } from "./operations";
import { AdminMoneyPage } from "./pages/AdminMoneyPage";
import { DeliveriesPage } from "./pages/DeliveriesPage";
import { ScanPage } from "./pages/ScanPage";
import { EventPage } from "./pages/EventPage";
import { EventsPage } from "./pages/EventsPage";
import { MyListingsPage } from "./pages/MyListingsPage";
import { MyTicketsPage } from "./pages/MyTicketsPage";
import { NotFoundPage } from "./pages/NotFound";
import { OrderPage } from "./pages/OrderPage";
import { OrdersPage } from "./pages/OrdersPage";
import { PayoutsPage } from "./pages/PayoutsPage";
import { SellListingPage } from "./pages/SellListingPage";
import { SellPage } from "./pages/SellPage";
import { SignInPage, SignUpPage } from "./pages/AuthPages";
import { TicketPage } from "./pages/TicketPage";
import { TicketsPage } from "./pages/TicketsPage";
import { Link, match, navigate, useLocation } from "./router";
import { SessionContext, useSession, type Session, type User } from "./session";
import { ProblemMessage } from "./components/Problem";

export function App({ config }: { config: RuntimeConfig }) {
  const [connection, setConnection] = useState<Connection>(connect);
  const [user, setUser] = useState<User | null | undefined>(undefined);

  const changed = useCallback((next: User | null) => {
    setUser(next);
    setConnection((old) => {
      old.close();
      return connect();
    });
  }, []);
  useEffect(() => () => connection.close(), [connection]);

  const session = useMemo<Session>(
    () => ({ user, changed, stripe: config.stripe }),
    [user, changed, config.stripe],
  );
  return (
    <Provider value={connection.urql}>
      <SessionContext.Provider value={session}>
        <WhoAmI onAnswer={setUser} known={user !== undefined} />
        <Layout />
      </SessionContext.Provider>
    </Provider>
  );
}

/** Asks currentUser once per client, unless sign-in or sign-up already said. */
function WhoAmI({ onAnswer, known }: { onAnswer: (user: User | null) => void; known: boolean }) {
  const [result] = useQuery({ query: CurrentUserQuery, pause: known, requestPolicy: "network-only" });
  useEffect(() => {
    if (!known && result.data) onAnswer(result.data.currentUser ?? null);
    if (!known && result.error) onAnswer(null);
  }, [known, result.data, result.error, onAnswer]);
  return null;
}

function Layout() {
  const { path } = useLocation();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header path={path} />
      <main id="main" tabIndex={-1}>
        <Routes path={path} />
      </main>
      <footer className="site-footer">
        <p>Prices in the currency each seller chose: US dollars, euros or pounds. Card payments by Stripe.</p>
      </footer>
    </>
  );
}

function Routes({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if (match("/", path)) return <EventsPage />;
  if ((params = match("/events/:id", path))) return <EventPage key={params.id} id={params.id!} />;
  if ((params = match("/events/:id/sell", path))) return <SellListingPage key={params.id} eventId={params.id!} />;
  if (match("/listings", path)) return <MyListingsPage />;
  if (match("/tickets", path)) return <TicketsPage />;
  if ((params = match("/tickets/:id", path))) return <TicketPage key={params.id} id={params.id!} />;
  if (match("/sell", path)) return <SellPage />;
  if (match("/orders", path)) return <OrdersPage />;
  if (match("/my-tickets", path)) return <MyTicketsPage />;
  if (match("/payouts", path)) return <PayoutsPage />;
  if (match("/deliveries", path)) return <DeliveriesPage />;
  if (match("/scan", path)) return <ScanPage />;
  if ((params = match("/orders/:id", path))) return <OrderPage key={params.id} id={params.id!} />;
  if (match("/admin/money", path)) return <AdminMoneyPage />;
  if (match("/signin", path)) return <SignInPage />;
  if (match("/signup", path)) return <SignUpPage />;
  return <NotFoundPage />;
}

function NavLink({ to, path, children }: { to: string; path: string; children: string }) {
  const active = to === "/" ? path === "/" || path.startsWith("/events") : path.startsWith(to);
  return (
    <Link to={to} aria-current={active ? "page" : undefined}>
      {children}
    </Link>
  );
}

function Header({ path }: { path: string }) {
  const { user, changed } = useSession();
  const [signout, signOut] = useMutation(SignOutMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const leave = async () => {
    setProblem(null);
    const result = await signOut({});
    // UNAUTHENTICATED: the session was already over (IDEM-7); the cookie is cleared either way.
    const problem = codeOf(result.error) === "UNAUTHENTICATED" ? null : mutationProblem(result, result.data?.signOut, "signout");
    if (problem) {
      setProblem(problem);
      return;
    }
    changed(null);
    navigate("/");
  };
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        Tickets
      </Link>
      <nav aria-label="Main">
        <ul>
          <li>
            <NavLink to="/" path={path}>
              Events
            </NavLink>
          </li>
          <li>
            <NavLink to="/tickets" path={path}>
              Tickets
            </NavLink>
          </li>
          <li>
            <NavLink to="/sell" path={path}>
              Sell
            </NavLink>
          </li>
          {user && (
            <li>
              <NavLink to="/listings" path={path}>
                My listings
              </NavLink>
            </li>
          )}
          {user && (
            <li>
              <NavLink to="/orders" path={path}>
                My orders
              </NavLink>
            </li>
          )}
          {user && (
            <li>
              <NavLink to="/my-tickets" path={path}>
                My tickets
              </NavLink>
            </li>
          )}
          {user && (
            <li>
              <NavLink to="/deliveries" path={path}>
                To deliver
              </NavLink>
            </li>
          )}
          {user && (
            <li>
              <NavLink to="/scan" path={path}>
                Scan
              </NavLink>
            </li>
          )}
          {user && (
            <li>
              <NavLink to="/payouts" path={path}>
                Payouts
              </NavLink>
            </li>
          )}
          {user?.isAdmin && (
            <li>
              <NavLink to="/admin/money" path={path}>
                Money
              </NavLink>
            </li>
          )}
        </ul>
      </nav>
      <div className="account">
        {user === undefined ? null : user ? (
          <>
            <span className="who" data-testid="signed-in-as">
              {user.email}
            </span>
            <button type="button" className="link-button" onClick={leave} disabled={signout.fetching}>
              Sign out
            </button>
          </>
        ) : (
          <>
            <NavLink to="/signin" path={path}>
              Sign in
            </NavLink>
            <NavLink to="/signup" path={path}>
              Sign up
            </NavLink>
          </>
        )}
      </div>
      <ProblemMessage problem={problem} />
    </header>
  );
}
