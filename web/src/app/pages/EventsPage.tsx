import { useEffect, useState, type ChangeEvent, type FormEvent } from "react";
import { useQuery } from "urql";
import { Field } from "../components/Field";
import { Loading } from "../components/Loading";
import { Page } from "../components/Page";
import { MoreItem, Paged, type PageProps, useFocusOnArrival } from "../components/Paged";
import { ProblemMessage } from "../components/Problem";
import { describe } from "../errors";
import { category as categoryWords, eventTime, money } from "../format";
import type { VariablesOf } from "../graphql";
import { EventsQuery } from "../operations";
import { Link, navigate, useLocation } from "../router";

const PAGE_SIZE = 20;

type Filter = NonNullable<VariablesOf<typeof EventsQuery>["filter"]>;
type Category = NonNullable<Filter["category"]>;

interface Search {
  query: string;
  category: string;
  city: string;
  /** Lowest price at least / at most, as typed ("20", "49.50"). */
  priceMin: string;
  priceMax: string;
  /** Starting on or after this day / on or before this day (YYYY-MM-DD, the browser's days). */
  from: string;
  to: string;
  /** Only events with tickets for sale. */
  hasTickets: boolean;
}

// The address's name of each part of a search: ?q=arct&city=London&min=20&max=80&from=2027-01-01&to=2027-01-31&tickets=1
const PARAMS = { query: "q", category: "category", city: "city", priceMin: "min", priceMax: "max", from: "from", to: "to" } as const;

/** The search as the address has it: a search can be shared and gone back to. */
function searchOf(params: URLSearchParams): Search {
  const text = (name: keyof typeof PARAMS) => params.get(PARAMS[name]) ?? "";
  return {
    query: text("query"),
    category: text("category"),
    city: text("city"),
    priceMin: text("priceMin"),
    priceMax: text("priceMax"),
    from: text("from"),
    to: text("to"),
    hasTickets: params.get("tickets") === "1",
  };
}

function pathOf(search: Search): string {
  const params = new URLSearchParams();
  for (const [name, param] of Object.entries(PARAMS) as [keyof typeof PARAMS, string][]) {
    const value = search[name].trim();
    if (value) params.set(param, value);
  }
  if (search.hasTickets) params.set("tickets", "1");
  const text = params.toString();
  return text ? `/?${text}` : "/";
}

function hasFilters(search: Search): boolean {
  return Boolean(search.priceMin || search.priceMax || search.from || search.to || search.hasTickets);
}

/** A price as the API takes it ("20", "49.50"), or null for none or not a price. */
function priceOf(raw: string): string | null {
  const value = raw.trim();
  return /^\d+(\.\d{1,2})?$/.test(value) ? value : null;
}

/** The start of a day (YYYY-MM-DD) in the browser's time zone, `days` later, as UTC; null for none. */
function dayStart(day: string, days = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const start = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days);
  return Number.isNaN(start.getTime()) ? null : start.toISOString();
}

/**
 * The variables of one search. Without words: upcoming events, soonest first (DATE); with words,
 * best match first. Only events that have not started yet (from the minute the page opened),
 * from the first day asked and before the day after the last.
 */
function variablesOf(search: Search, now: string, after: string | null) {
  const from = dayStart(search.from);
  const filter: Filter = { startsFrom: from && from > now ? from : now };
  const to = dayStart(search.to, 1);
  if (to) filter.startsTo = to;
  if (search.category) filter.category = search.category as Category;
  if (search.city) filter.city = search.city;
  const priceMin = priceOf(search.priceMin);
  const priceMax = priceOf(search.priceMax);
  if (priceMin) filter.priceMin = priceMin;
  if (priceMax) filter.priceMax = priceMax;
  if (search.hasTickets) filter.hasTickets = true;
  return {
    query: search.query || null,
    filter,
    sort: search.query ? ("RELEVANCE" as const) : ("DATE" as const),
    first: PAGE_SIZE,
    after,
  };
}

function EventResults({ search, now, after, onMore }: PageProps & { search: Search; now: string }) {
  const [result] = useQuery({ query: EventsQuery, variables: variablesOf(search, now, after) });
  const first = useFocusOnArrival(Boolean(result.data), after);
  if (result.error && !result.data?.events) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data?.events) return <Loading what="events" />;
  const { nodes, pageInfo } = result.data.events;
  const events = nodes.flatMap((node) => (node ? [node] : []));
  return (
    <>
      {events.length === 0 && after === null && <li className="empty">No events match. Try fewer or shorter words{hasFilters(search) ? ", or fewer filters" : ""}.</li>}
      {events.map((event, index) => (
        <li key={event.id} className="event-card">
          <h2>
            <Link to={`/events/${event.id}`} ref={index === 0 ? first : undefined}>
              {event.name}
            </Link>
          </h2>
          <p className="venue">
            {event.venue.name}, {event.venue.city}
          </p>
          <p>
            <time dateTime={event.startsAt}>{eventTime(event.startsAt, event.venue.timeZone)}</time>
          </p>
          <p className="offer">
            {event.lowestPrice && event.ticketCount > 0 ? (
              <>
                From <span className="price">{money(event.lowestAllInPrice ?? event.lowestPrice)}</span>
                {event.lowestAllInPrice && " incl. fees"} · {event.ticketCount}{" "}
                {event.ticketCount === 1 ? "ticket" : "tickets"}
              </>
            ) : (
              "No tickets for sale yet"
            )}
          </p>
        </li>
      ))}
      <MoreItem pageInfo={pageInfo} onMore={onMore} label="Show more events" />
    </>
  );
}

/** Category and city chips from the search's facets: one pressed narrows the search to it. */
function Facets({ search, now }: { search: Search; now: string }) {
  const [result] = useQuery({ query: EventsQuery, variables: variablesOf(search, now, null) });
  const events = result.data?.events;
  if (!events) return null;
  const chip = (name: "category" | "city", value: string, label: string, count: number) => {
    const pressed = search[name] === value;
    return (
      <li key={`${name}:${value}`}>
        <button
          type="button"
          className="chip"
          aria-pressed={pressed}
          onClick={() => navigate(pathOf({ ...search, [name]: pressed ? "" : value }))}
        >
          {label} <span className="count">({count})</span>
        </button>
      </li>
    );
  };
  return (
    <div className="facets">
      <p role="status" data-testid="events-found">
        {events.totalCount} {events.totalCount === 1 ? "event" : "events"}
      </p>
      <ul aria-label="Categories" className="chips">
        {events.facets.categories.map((f) => chip("category", f.value, categoryWords(f.value), f.count))}
      </ul>
      <ul aria-label="Cities" className="chips">
        {events.facets.cities.map((f) => chip("city", f.value, f.value, f.count))}
      </ul>
    </div>
  );
}

/** Price, dates and "with tickets" of the search form: applied with its words by Search. */
function Filters({ draft, onChange }: { draft: Search; onChange(draft: Search): void }) {
  const set = (name: "priceMin" | "priceMax" | "from" | "to") => (e: ChangeEvent<HTMLInputElement>) =>
    onChange({ ...draft, [name]: e.target.value });
  return (
    <fieldset className="event-filters">
      <legend>Filters</legend>
      <Field label="Price from" name="min" inputMode="decimal" autoComplete="off" placeholder="0" value={draft.priceMin} onChange={set("priceMin")} />
      <Field label="Price to" name="max" inputMode="decimal" autoComplete="off" placeholder="any" value={draft.priceMax} onChange={set("priceMax")} />
      <Field label="Starting from" name="from" type="date" value={draft.from} onChange={set("from")} />
      <Field label="Starting until" name="to" type="date" value={draft.to} onChange={set("to")} />
      <div className="field check">
        <label>
          <input
            type="checkbox"
            name="tickets"
            checked={draft.hasTickets}
            onChange={(e) => onChange({ ...draft, hasTickets: e.target.checked })}
          />{" "}
          Only events with tickets for sale
        </label>
      </div>
    </fieldset>
  );
}

export function EventsPage() {
  const { search: params } = useLocation();
  const search = searchOf(params);
  const [now] = useState(() => new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString());
  const key = pathOf(search);
  const [draft, setDraft] = useState(search);
  useEffect(() => setDraft(searchOf(new URLSearchParams(key.slice(2)))), [key]); // back and forward show their search
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(pathOf({ ...draft, query: draft.query.trim() }));
  };
  return (
    <Page title={search.query ? `Events for “${search.query}”` : "Upcoming events"} wide>
      <form role="search" className="event-search" onSubmit={submit}>
        <label htmlFor="event-words">Search events</label>
        <input
          id="event-words"
          type="search"
          name="q"
          placeholder="Artist, event, venue or city: “arct mon”"
          value={draft.query}
          onChange={(e) => setDraft({ ...draft, query: e.target.value })}
        />
        <button type="submit" className="primary">
          Search
        </button>
        <Filters draft={draft} onChange={setDraft} />
        {hasFilters(search) && (
          <button
            type="button"
            className="clear-filters"
            onClick={() => navigate(pathOf({ ...search, priceMin: "", priceMax: "", from: "", to: "", hasTickets: false }))}
          >
            Clear filters
          </button>
        )}
      </form>
      <Facets search={search} now={now} />
      <ul className="event-list" aria-label="Events" key={key}>
        <Paged renderPage={(page) => <EventResults {...page} search={search} now={now} />} />
      </ul>
      <p>
        <Link to="/tickets">Tickets listed without an event</Link>
      </p>
    </Page>
  );
}
