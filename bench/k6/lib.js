// What every bench script shares: GraphQL over HTTP, the measured window, the summary file.
//
// Python (bench/k6run.py) starts k6 with the environment below and reads the summary back:
//   GATEWAY_URL   http://127.0.0.1:<port> of the gateway
//   SUMMARY_PATH  where handleSummary writes k6's end-of-test data as JSON
//   VUS, DURATION the load (constant-vus scripts)
import { sleep } from 'k6';
import http from 'k6/http';
import { Counter, Gauge } from 'k6/metrics';

export const GATEWAY = `${__ENV.GATEWAY_URL}/graphql`;

// Failures a status code does not show: GraphQL answers 200 with `errors`.
export const failures = new Counter('failures');
// Mutations sent again with the same idempotency key after UNAVAILABLE, RATE_LIMITED or no answer.
export const retries = new Counter('retries');
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

function post(query, variables, token, op) {
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
  return { res, body };
}

function failed(op, res) {
  failures.add(1, { op });
  shown += 1;
  if (shown <= SHOWN_PER_VU) console.error(`FAILED ${op}: ${res.status} ${String(res.body).slice(0, 300)}`);
}

// One GraphQL request; returns `data`, or null (and counts a failure) on any error.
export function graphql(query, variables, token, op) {
  const { res, body } = post(query, variables, token, op);
  if (res.status !== 200 || !body || body.errors || !body.data) {
    failed(op, res);
    return null;
  }
  return body.data;
}

// A new idempotency key (docs/api.md IDEM-2): one per action, the same on every retry of it.
export function newKey() {
  return crypto.randomUUID();
}

const BACKOFF_S = [0.5, 1, 2, 4];
const TRIES = 5;

function retryable(res, body) {
  if (res.status === 0 || !body) return true; // no answer: the outcome is unknown
  const code = body.errors && body.errors[0] && body.errors[0].extensions && body.errors[0].extensions.code;
  return code === 'UNAVAILABLE' || code === 'RATE_LIMITED';
}

// A v1 mutation `field(input: $input) { ... userErrors { code field message } }`: sent again,
// identical (same idempotency key), while the payload is missing because the answer was
// UNAVAILABLE, RATE_LIMITED or lost, after Retry-After or 0.5, 1, 2, 4 s with jitter, at most 5
// tries (IDEM-6). Returns the payload, or null (and counts a failure) on an error or a userError.
// Every retry is counted in `retries`.
export function mutate(query, input, token, op, field) {
  for (let attempt = 0; ; attempt++) {
    const { res, body } = post(query, { input }, token, op);
    const payload = body && body.data ? body.data[field] : null;
    if (payload) {
      if (payload.userErrors && payload.userErrors.length) {
        failed(op, res);
        return null;
      }
      return payload;
    }
    if (attempt >= TRIES - 1 || !retryable(res, body)) {
      failed(op, res);
      return null;
    }
    retries.add(1, { op });
    const asked = Number(res.headers['Retry-After']);
    sleep(asked > 0 ? asked : BACKOFF_S[attempt] * (0.75 + Math.random() * 0.5));
  }
}

// Setup work, not measured: a user, and a ticket listed by a seller.
export function signUp(label) {
  const email = `bench-${label}-${Math.random().toString(36).slice(2, 12)}@example.com`;
  const payload = mutate(
    'mutation($input: SignUpInput!) { signUp(input: $input) { token userErrors { code field message } } }',
    { email, password: 'bench-password-1' },
    null,
    'setup',
    'signUp',
  );
  if (!payload) throw new Error('signUp failed');
  return payload.token;
}

export const CREATE_TICKET =
  'mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id } userErrors { code field message } } }';

// A createTicket input: a key of its own (a new listing each time).
export function ticketInput(title, amount) {
  return { title, price: { amount, currencyCode: 'USD' }, idempotencyKey: newKey() };
}

export function createTickets(seller, count) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    const payload = mutate(CREATE_TICKET, ticketInput(`Bench ${i}`, '20'), seller, 'setup', 'createTicket');
    if (!payload) throw new Error('createTicket failed in setup');
    ids.push(payload.ticket.id);
  }
  return ids;
}

export const CREATE_ORDER =
  'mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id status } userErrors { code field message } } }';
export const CREATE_PAYMENT =
  'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { payment { id status } userErrors { code field message } } }';

export function writeSummary(data) {
  return { [__ENV.SUMMARY_PATH]: JSON.stringify(data) };
}
