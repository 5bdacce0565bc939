// createTicket through the gateway: each virtual user a seller of its own, signed up in setup.
import {
  CREATE_TICKET,
  constantLoad,
  mark,
  measuring,
  mutate,
  opThresholds,
  signUp,
  ticketInput,
  writeSummary,
} from './lib.js';

export const options = constantLoad({
  thresholds: opThresholds('http_req_duration', ['createTicket']),
});

export function setup() {
  const sellers = [];
  for (let i = 0; i < Number(__ENV.VUS || 1); i++) sellers.push(signUp(`seller${i}`));
  measuring();
  return { sellers };
}

export default function (state) {
  mark();
  const seller = state.sellers[(__VU - 1) % state.sellers.length];
  mutate(CREATE_TICKET, ticketInput(`Bench ${__VU}-${__ITER}`, '25.50'), seller, 'createTicket', 'createTicket');
  mark();
}

export const handleSummary = writeSummary;
