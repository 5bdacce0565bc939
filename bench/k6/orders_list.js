// orders(first: 20) through the gateway, each order with its ticket and its payment (nested:
// the gateway batches them into one call per service), for a buyer with 20 paid orders.
// Setup makes that buyer: 20 tickets ordered and paid, then waits until all are COMPLETE.
import { sleep } from 'k6';
import {
  CREATE_ORDER,
  CREATE_PAYMENT,
  constantLoad,
  createTickets,
  failures,
  graphql,
  mark,
  measuring,
  mutate,
  newKey,
  opThresholds,
  signUp,
  writeSummary,
} from './lib.js';

const ORDERS = 20;
const QUERY = `{ orders(first: 20) { nodes {
  id status expiresAt version price { amount currencyCode } buyer { id }
  ticket { id title price { amount currencyCode } seller { id } version state }
  payment { id amount { amount currencyCode } status } } } }`;

export const options = constantLoad({ thresholds: opThresholds('http_req_duration', ['orders']) });

export function setup() {
  const buyer = signUp('buyer');
  for (const ticketId of createTickets(signUp('seller'), ORDERS)) {
    const ordered = mutate(
      CREATE_ORDER, { ticketId, idempotencyKey: newKey() }, buyer, 'setup', 'createOrder');
    if (!ordered) throw new Error('createOrder failed in setup');
    const paid = mutate(
      CREATE_PAYMENT,
      { orderId: ordered.order.id, paymentMethod: 'pm_card_visa', idempotencyKey: newKey() },
      buyer,
      'setup',
      'createPayment',
    );
    if (!paid) throw new Error('createPayment failed in setup');
  }
  for (let i = 0; i < 600; i++) {
    const data = graphql('{ orders(first: 20) { nodes { status } } }', {}, buyer, 'setup');
    const done = data ? data.orders.nodes.filter((o) => o && o.status === 'COMPLETE').length : 0;
    if (done === ORDERS) {
      measuring();
      return { buyer };
    }
    sleep(0.1);
  }
  throw new Error('the buyer\'s orders never all read COMPLETE');
}

export default function (state) {
  mark();
  const data = graphql(QUERY, {}, state.buyer, 'orders');
  if (data && data.orders.nodes.filter((o) => o && o.payment).length < ORDERS) {
    failures.add(1, { op: 'orders' });
  }
  mark();
}

export const handleSummary = writeSummary;
