// node:os: an isolate has no machine of its own to describe; these are fixed, neutral answers.
export function osModule() {
  const constants = Object.freeze({
    signals: Object.freeze({}), errno: Object.freeze({}),
    priority: Object.freeze({ PRIORITY_LOW: 19, PRIORITY_BELOW_NORMAL: 10, PRIORITY_NORMAL: 0, PRIORITY_ABOVE_NORMAL: -7, PRIORITY_HIGH: -14, PRIORITY_HIGHEST: -20 }),
  });
  const os = {
    EOL: '\n', devNull: '/dev/null', constants,
    arch: () => 'x64', platform: () => 'linux', type: () => 'Linux', release: () => '', version: () => '',
    machine: () => 'x86_64', hostname: () => 'localhost', homedir: () => '/', tmpdir: () => '/tmp',
    endianness: () => 'LE', uptime: () => 0, loadavg: () => [0, 0, 0], totalmem: () => 0, freemem: () => 0,
    availableParallelism: () => 1, cpus: () => [], networkInterfaces: () => ({}),
    userInfo: () => ({ uid: -1, gid: -1, username: '', homedir: '/', shell: null }),
    getPriority: () => 0, setPriority: () => {},
  };
  return { default: os, ...os };
}
