// expect: ["tool_not_allowed","tool_not_allowed","tool_not_allowed"]
export default async (input, env) => [
  (await env.TOOLS.call("admin.wipe", {})).error.code,
  (await env.TOOLS.call("tickets", {})).error.code,
  (await env.TOOLS.call("../tickets.open", {})).error.code,
];
