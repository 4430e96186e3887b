/**
 * Durable objects: ids, the actor that serializes an object's events, input and output gates,
 * SQLite storage, alarms, hibernation and facets (see DESIGN.md, "Durable objects").
 *
 * <p>Empty until the durable-objects issue builds it. It depends on {@code bulwark-sandbox}
 * because a JS durable object and its SQLite file live in the sandbox process that runs its
 * code; the sandbox process's main class moves here then, where isolates and storage meet.
 */
package dev.bulwark.objects;
