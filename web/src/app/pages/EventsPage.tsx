import { useEffect, useState, type FormEvent } from "react";
import { useQuery } from "urql";
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
}

/** The search as the address has it (?q=, ?category=, ?city=): a search can be shared and gone back to. */
function searchOf(params: URLSearchParams): Search {
  return { query: params.get("q") ?? "", category: params.get("category") ?? "", city: params.get("city") ?? "" };
}

function pathOf(search: Search): string {
  const params = new URLSearchParams();
  if (search.query) params.set("q", search.query);
  if (search.category) params.set("category", search.category);
  if (search.city) params.set("city", search.city);
  const text = params.toString();
  return text ? `/?${text}` : "/";
}

/**
 * The variables of one search. Without words: upcoming events, soonest first (DATE); with words,
 * best match first. Only events that have not started yet (from the minute the page opened).
 */
function variablesOf(search: Search, from: string, after: string | null) {
  const filter: Filter = { startsFrom: from };
  if (search.category) filter.category = search.category as Category;
  if (search.city) filter.city = search.city;
  return {
    query: search.query || null,
    filter,
    sort: search.query ? ("RELEVANCE" as const) : ("DATE" as const),
    first: PAGE_SIZE,
    after,
  };
}

function EventResults({ search, from, after, onMore }: PageProps & { search: Search; from: string }) {
  const [result] = useQuery({ query: EventsQuery, variables: variablesOf(search, from, after) });
  const first = useFocusOnArrival(Boolean(result.data), after);
  if (result.error && !result.data?.events) return <ProblemMessage problem={describe(result.error, "load")} />;
  if (!result.data?.events) return <Loading what="events" />;
  const { nodes, pageInfo } = result.data.events;
  const events = nodes.flatMap((node) => (node ? [node] : []));
  return (
    <>
      {events.length === 0 && after === null && <li className="empty">No events match. Try fewer or shorter words.</li>}
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
                From <span className="price">{money(event.lowestPrice)}</span> · {event.ticketCount}{" "}
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
function Facets({ search, from }: { search: Search; from: string }) {
  const [result] = useQuery({ query: EventsQuery, variables: variablesOf(search, from, null) });
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

export function EventsPage() {
  const { search: params } = useLocation();
  const search = searchOf(params);
  const [from] = useState(() => new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString());
  const [words, setWords] = useState(search.query);
  useEffect(() => setWords(search.query), [search.query]); // back and forward show their words
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(pathOf({ ...search, query: words.trim() }));
  };
  const key = pathOf(search);
  return (
    <Page title={search.query ? `Events for “${search.query}”` : "Upcoming events"} wide>
      <form role="search" className="event-search" onSubmit={submit}>
        <label htmlFor="event-words">Search events</label>
        <input
          id="event-words"
          type="search"
          name="q"
          placeholder="Artist, event, venue or city: “arct mon”"
          value={words}
          onChange={(e) => setWords(e.target.value)}
        />
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <Facets search={search} from={from} />
      <ul className="event-list" aria-label="Events" key={key}>
        <Paged renderPage={(page) => <EventResults {...page} search={search} from={from} />} />
      </ul>
      <p>
        <Link to="/tickets">Tickets listed without an event</Link>
      </p>
    </Page>
  );
}
