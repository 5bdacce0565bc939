// tickets(first: 20) through the gateway: the first page of tickets for sale, newest first.
// Setup lists 20 tickets, so the page is full even on a fresh stack.
import {
  constantLoad,
  createTickets,
  failures,
  graphql,
  mark,
  measuring,
  opThresholds,
  signUp,
  writeSummary,
} from './lib.js';

const QUERY = `{ tickets(first: 20) {
  edges { cursor node { id title price { amount currencyCode } seller { id } version state } }
  pageInfo { hasNextPage endCursor } } }`;

export const options = constantLoad({ thresholds: opThresholds('http_req_duration', ['tickets']) });

export function setup() {
  createTickets(signUp('seller'), 20);
  measuring();
}

export default function () {
  mark();
  const data = graphql(QUERY, {}, null, 'tickets');
  if (data && data.tickets.edges.length < 20) failures.add(1, { op: 'tickets' });
  mark();
}

export const handleSummary = writeSummary;
