// Test preload: while the file ERRAND_TEST_DEVICES_FULL names exists, opening a temp file for a
// devices.json write fails with ENOSPC, as on a full disk. The journal is not affected (it has room,
// as when only that write hits a quota); add ERRAND_TEST_DISK_FULL for a disk full for both.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const gate = process.env.ERRAND_TEST_DEVICES_FULL;
const devicesTemp = /devices\.json\..*\.tmp$/;
if (gate) {
  const open = fsp.open;
  fsp.open = async function (file, ...rest) {
    if (devicesTemp.test(String(file)) && fs.existsSync(gate))
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${file}'`), { code: 'ENOSPC' });
    return open.call(this, file, ...rest);
  };
}
