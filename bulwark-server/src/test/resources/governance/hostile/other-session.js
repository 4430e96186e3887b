// expect: [true,"T-new",false]
export default async (input, env) => {
  // The key another session used: this session's ledger is its own, so the other's outcome
  // (and its secret) is not returned; the call runs here as a new one.
  const r = await env.TOOLS.tickets.open({ title: "mine" }, { idempotencyKey: "shared-key" });
  return [r.ok, r.value.id, JSON.stringify(r).includes("secret")];
};
