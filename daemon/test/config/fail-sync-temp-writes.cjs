// Test preload (node --require): a full disk for chosen files written through a temp file
// synchronously (config.json, store/config-owed.json). Opening the temp file of NAME fails with
// ENOSPC while a file NAME exists in the folder ERRAND_TEST_FULL_GATES names; other writes go on.
const fs = require('node:fs');
const path = require('node:path');

const gates = process.env.ERRAND_TEST_FULL_GATES;
if (gates) {
  const temp = /^\.(.+)\.\d+-[0-9a-f]+\.tmp$/; // util/durable-file.ts tempNameFor
  const openSync = fs.openSync;
  fs.openSync = function (file, ...rest) {
    const name = temp.exec(path.basename(String(file)))?.[1];
    if (name && fs.existsSync(path.join(gates, name)))
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${file}'`), { code: 'ENOSPC' });
    return openSync.call(this, file, ...rest);
  };
}
