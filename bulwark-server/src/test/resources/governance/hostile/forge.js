// expect: ["TypeError","TypeError","TypeError","undefined","undefined","{}"]
export default async (input, env) => {
  const out = [];
  // The sequence number, the envelope and the session are not the code's to give.
  for (const attempt of [
    () => env.TOOLS.call("tickets.read", {}, { idempotencyKey: 42 }),
    () => env.TOOLS.call({ name: "tickets.read", seq: 1 }),
    () => env.TOOLS.call("tickets.read", {}, "envelope"),
  ]) {
    try { await attempt(); out.push("accepted"); } catch (e) { out.push(e.name); }
  }
  out.push(typeof env.TOOLS.constructor, typeof env.TOOLS.then);
  out.push(JSON.stringify(Object.getOwnPropertyDescriptors(env.TOOLS)));
  return out;
};
