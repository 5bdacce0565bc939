// orders(first: 20) through the gateway, each order with its ticket and its payment (nested:
// the gateway batches them into one call per service), for a buyer with 20 paid orders.
// Setup makes that buyer: 20 tickets ordered and paid, then waits until all are COMPLETE.
import { sleep } from 'k6';
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

const ORDERS = 20;
const QUERY = `{ orders(first: 20) { edges { node {
  id status expiresAt userId version
  ticket { id title price userId version orderId reserved }
  payment { id orderId stripeId amount status } } } } }`;

export const options = constantLoad({ thresholds: opThresholds('http_req_duration', ['orders']) });

export function setup() {
  const buyer = signUp('buyer');
  for (const ticketId of createTickets(signUp('seller'), ORDERS)) {
    const order = graphql(
      'mutation($t: ID!) { createOrder(ticketId: $t) { id } }', { t: ticketId }, buyer, 'setup');
    if (!order) throw new Error('createOrder failed in setup');
    const paid = graphql(
      'mutation($o: ID!) { createPayment(orderId: $o, paymentMethod: "pm_card_visa") { status } }',
      { o: order.createOrder.id }, buyer, 'setup');
    if (!paid) throw new Error('createPayment failed in setup');
  }
  for (let i = 0; i < 600; i++) {
    const data = graphql('{ orders(first: 20) { edges { node { status } } } }', {}, buyer, 'setup');
    const done = data ? data.orders.edges.filter((e) => e.node.status === 'COMPLETE').length : 0;
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
  if (data && data.orders.edges.filter((e) => e.node.payment).length < ORDERS) {
    failures.add(1, { op: 'orders' });
  }
  mark();
}

export const handleSummary = writeSummary;
