// events(query, filter, sort, first, after) through the gateway: the searches come from Python
// (QUERIES_PATH, a JSON array of GraphQL variables: bench/search/seeding.py), the same mix the
// direct gRPC side (search_grpc.js) sends, each virtual user walking it from its own place.
import { SharedArray } from 'k6/data';
import { constantLoad, graphql, mark, measuring, opThresholds, writeSummary } from './lib.js';

const searches = new SharedArray('searches', () => JSON.parse(open(__ENV.QUERIES_PATH)));
const QUERY = `query($query: String, $filter: EventFilter, $sort: EventSort, $first: Int, $after: String) {
  events(query: $query, filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name startsAt category status venue { name city } lowestPrice { amount currencyCode } ticketCount } }
    facets { categories { value count } cities { value count } }
  }
}`;

export const options = constantLoad({ thresholds: opThresholds('http_req_duration', ['search']) });

export function setup() {
  measuring();
}

export default function () {
  mark();
  graphql(QUERY, searches[(__VU * 997 + __ITER) % searches.length], null, 'search');
  mark();
}

export const handleSummary = writeSummary;
