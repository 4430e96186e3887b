// Code Mode's DynamicWorkerExecutor, unchanged, run by a worker (CapabilitiesTest's fidelity case).
import { DynamicWorkerExecutor } from "@cloudflare/codemode";

export default {
  async fetch(request, env) {
    const executor = new DynamicWorkerExecutor({ loader: env.LOADER });
    const calls = [];
    const result = await executor.execute(
      `async () => {
        const sum = await codemode.add({ a: 20, b: 22 });
        const bytes = await codemode.bytes();
        console.log("sum is", sum);
        let failed;
        try { await codemode.explode(); } catch (e) { failed = e.message; }
        let blocked;
        try { await fetch("https://example.com/"); } catch (e) { blocked = e.constructor.name; }
        return { sum, bytes: Array.from(bytes), failed, blocked };
      }`,
      [{ name: "codemode", fns: {
        add: async ({ a, b }) => { calls.push("add"); return a + b; },
        bytes: async () => new Uint8Array([7, 8, 9]),
        explode: async () => { throw new Error("tool exploded"); },
      } }],
    );
    return Response.json({ result, calls });
  },
};
