// expect: ["idempotency_key_required","approval_pending","approval_pending"]
export default async (input, env) => [
  (await env.TOOLS.payments.refund({ cents: 100000 })).error.code,
  (await env.TOOLS.payments.refund({ cents: 100000 }, { idempotencyKey: "r1" })).error.code,
  (await env.TOOLS.call("payments.refund", { cents: 100000 }, { idempotencyKey: "r1" })).error.code,
];
