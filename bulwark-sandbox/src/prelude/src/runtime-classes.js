// The base classes of cloudflare:workers. The runtime never defines handler methods on them
// (fetch, alarm, webSocketMessage, ...): it looks handlers up on the instance at delivery time,
// so a subclass or an SDK that installs them as own properties is always the one called.
export class DurableObject {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
}
export class WorkerEntrypoint {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
}
export class WorkflowEntrypoint {
  constructor(ctx, env) { this.ctx = ctx; this.env = env; }
}
export class RpcTarget {}
