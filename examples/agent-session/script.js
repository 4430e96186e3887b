// The "generated" script: runs in the session with env.TOOLS as its only capability.
export default async (input, env) => {
  const ticket = await env.TOOLS.tickets.open({ title: "Order 42 arrived broken" }, { idempotencyKey: "ticket-42" });
  const refund = await env.TOOLS.payments.refund({ order: "42", amount: 30 }, { idempotencyKey: "refund-42" });
  // A retry with the same key: answered from the ledger, the ticket is not opened twice.
  const retry = await env.TOOLS.tickets.open({ title: "Order 42 arrived broken" }, { idempotencyKey: "ticket-42" });
  return { ticket, refund, retry };
};
