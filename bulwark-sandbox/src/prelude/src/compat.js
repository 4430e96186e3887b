// The worker's compatibility switches: which behaviours its compatibility date and flags turn on
// (workerd's CompatibilityFlags). Java decides each one (Compatibility.java) and sends them all
// at load in one int (PreludeSwitch.java, ModuleLinker): bit n is the switch at index n of
// SWITCHES, the same order as PreludeSwitch's constants (PreludeSwitchTest checks that they agree).
// Other prelude modules ask compat(BIT). To add a switch: a name at the end of both lists.
export const SWITCHES = Object.freeze([
  'CACHE_OPTION',
  'ABORT_SIGNAL_RPC',
]);

export const CACHE_OPTION = 1 << 0;
export const ABORT_SIGNAL_RPC = 1 << 1;

// Before any load (the snapshot, the prelude's own tests): Request's cache option allowed, as a
// bundle with no compatibility date gets it.
let bits = CACHE_OPTION;

/** Whether the worker's compatibility turns this switch on. */
export function compat(bit) { return (bits & bit) !== 0; }

/** All the switches at once, set when the worker is linked. */
export function setCompatibility(b) { bits = b | 0; }
