// What every bench script shares: GraphQL over HTTP, the measured window, the summary file.
//
// Python (bench/k6run.py) starts k6 with the environment below and reads the summary back:
//   GATEWAY_URL   http://127.0.0.1:<port> of the gateway
//   SUMMARY_PATH  where handleSummary writes k6's end-of-test data as JSON
//   VUS, DURATION the load (constant-vus scripts)
import http from 'k6/http';
import { Counter, Gauge } from 'k6/metrics';

export const GATEWAY = `${__ENV.GATEWAY_URL}/graphql`;

// Failures a status code does not show: GraphQL answers 200 with `errors`.
export const failures = new Counter('failures');
// Set to Date.now() when a measured iteration starts and ends: its min and max are the window
// the load ran in (setup and teardown excluded), which rates are computed over.
const clock = new Gauge('window_ms');

export function mark() {
  clock.add(Date.now());
}

// The last thing every setup does: Python (bench/k6run.py) starts its counters here.
export function measuring() {
  console.log('BENCH MEASURING');
}

// The percentiles the table shows; `count` gives the number of samples.
export const TREND_STATS = ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max', 'count'];

// A trend per operation (`op` tag) appears in the summary only when a threshold names it.
export function opThresholds(metric, ops) {
  const out = {};
  for (const op of ops) out[`${metric}{op:${op}}`] = ['max>=0'];
  return out;
}

export function constantLoad(extra = {}) {
  return {
    scenarios: {
      main: {
        executor: 'constant-vus',
        vus: Number(__ENV.VUS || 1),
        duration: __ENV.DURATION || '8s',
        gracefulStop: '10s',
      },
    },
    summaryTrendStats: TREND_STATS,
    setupTimeout: '180s',
    ...extra,
  };
}

// The first few failures of each virtual user are printed (Python shows a sample of them).
const SHOWN_PER_VU = 3;
let shown = 0;

// One GraphQL request; returns `data`, or null (and counts a failure) on any error.
export function graphql(query, variables, token, op) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = http.post(GATEWAY, JSON.stringify({ query, variables }), {
    headers,
    tags: { op },
  });
  let body = null;
  try {
    body = res.json();
  } catch (e) {
    body = null;
  }
  if (res.status !== 200 || !body || body.errors || !body.data) {
    failures.add(1, { op });
    shown += 1;
    if (shown <= SHOWN_PER_VU) console.error(`FAILED ${op}: ${res.status} ${String(res.body).slice(0, 300)}`);
    return null;
  }
  return body.data;
}

// Setup work, not measured: a user, and a ticket listed by a seller.
export function signUp(label) {
  const email = `bench-${label}-${Math.random().toString(36).slice(2, 12)}@example.com`;
  const data = graphql(
    'mutation($e: String!, $p: String!) { signup(email: $e, password: $p) { token } }',
    { e: email, p: 'bench-password-1' },
    null,
    'setup',
  );
  if (!data) throw new Error('signup failed');
  return data.signup.token;
}

export const CREATE_TICKET =
  'mutation($t: String!, $p: Decimal!) { createTicket(title: $t, price: $p) { id } }';

export function createTickets(seller, count) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    const data = graphql(CREATE_TICKET, { t: `Bench ${i}`, p: '20' }, seller, 'setup');
    if (!data) throw new Error('createTicket failed in setup');
    ids.push(data.createTicket.id);
  }
  return ids;
}

export function writeSummary(data) {
  return { [__ENV.SUMMARY_PATH]: JSON.stringify(data) };
}
