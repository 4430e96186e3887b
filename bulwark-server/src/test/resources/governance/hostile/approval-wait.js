// expect: ["TypeError","TypeError","TypeError","approval_pending","approval_pending","tool_not_allowed","tool_not_allowed"]
export default async (input, env) => {
  const out = [];
  // A wait that is not a bounded whole number of milliseconds is refused before anything is asked.
  for (const waitMs of [-1, 1.5, 1e12]) {
    try {
      await env.TOOLS.call("payments.refund", { cents: 1 }, { idempotencyKey: "w1", waitMs });
      out.push("accepted");
    } catch (e) { out.push(e.name); }
  }
  // Waiting does not approve: with no decision the call still answers approval_pending, and no wait
  // (however long the code asks for) outlasts the node's bound. Twice, to see nothing changes.
  out.push((await env.TOOLS.call("payments.refund", { cents: 1 }, { idempotencyKey: "w1", waitMs: 50 })).error.code);
  out.push((await env.TOOLS.payments.refund({ cents: 1 }, { idempotencyKey: "w1", waitMs: 50 })).error.code);
  // The code has no way to decide: there is no approvals tool, and TOOLS has only call().
  out.push((await env.TOOLS.call("approvals.decide", { id: "apr", decision: "approve" }, { idempotencyKey: "d" })).error.code);
  out.push((await env.TOOLS.approvals.approve({}, { idempotencyKey: "e" })).error.code);
  return out;
};
