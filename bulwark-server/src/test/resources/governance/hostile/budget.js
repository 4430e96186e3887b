// expect: ["ok","ok","ok","budget_exhausted","budget_exhausted"]
export default async (input, env) => {
  const out = [];
  for (let i = 0; i < 5; i++) {
    const r = await env.TOOLS.tickets.open({ title: "flood " + i });
    out.push(r.ok ? "ok" : r.error.code);
  }
  return out;
};
