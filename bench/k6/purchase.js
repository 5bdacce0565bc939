// The purchase flow through the gateway: createOrder, then createPayment (Stripe charges the
// card at once), each with an idempotency key of its own, kept for its retries (lib.js mutate). Each iteration buys one ticket of TICKETS_FILE (listed by Python beforehand, and
// already copied by the orders service, so no event backlog loads the run); the run ends when
// every ticket was bought or after MAX_DURATION. Buyers sign up once, in setup.
//
// A paid order is printed as `PAID <order's global id> <flow start ms> <payment answered ms>` (console
// output, a file Python tails): Python sees when the order reads COMPLETE in the orders
// service's database, one batched query for all pending orders every 10 ms, so observing it
// adds no request per flow to the system under test.
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { Counter } from 'k6/metrics';
import {
  CREATE_ORDER,
  CREATE_PAYMENT,
  TREND_STATS,
  failures,
  mark,
  mutate,
  newKey,
  measuring,
  opThresholds,
  signUp,
  writeSummary,
} from './lib.js';

const tickets = new SharedArray('tickets', () => JSON.parse(open(__ENV.TICKETS_FILE)));
const paid = new Counter('paid');
const VUS = Number(__ENV.VUS || 1);

export const options = {
  scenarios: {
    main: {
      executor: 'shared-iterations',
      vus: VUS,
      iterations: tickets.length,
      maxDuration: __ENV.MAX_DURATION || '20s',
      gracefulStop: '30s',
    },
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '180s',
  thresholds: opThresholds('http_req_duration', ['createOrder', 'createPayment']),
};

export function setup() {
  const buyers = [];
  for (let i = 0; i < Math.min(VUS, 16); i++) buyers.push(signUp(`buyer${i}`));
  measuring();
  return { buyers };
}

export default function (state) {
  const index = exec.scenario.iterationInTest;
  const buyer = state.buyers[index % state.buyers.length];
  mark();
  const started = Date.now();
  const ordered = mutate(
    CREATE_ORDER, { ticketId: tickets[index], idempotencyKey: newKey() }, buyer, 'createOrder', 'createOrder');
  if (ordered) {
    const id = ordered.order.id;
    const payment = mutate(
      CREATE_PAYMENT,
      { orderId: id, paymentMethod: 'pm_card_visa', idempotencyKey: newKey() },
      buyer,
      'createPayment',
      'createPayment',
    );
    if (payment && payment.payment.status === 'SUCCEEDED') {
      console.log(`PAID ${id} ${started} ${Date.now()}`);
      paid.add(1);
    } else if (payment) {
      failures.add(1, { op: 'createPayment' });
    }
  }
  mark();
}

export const handleSummary = writeSummary;
