// How to restart the daemon, for messages that need a restart to take effect.
/** The ways to restart a running daemon, by how it was started. */
export const RESTART =
  '`systemctl --user restart errand` (Linux service), `launchctl kickstart -k gui/$(id -u)/dev.errand.daemon` (macOS service), or Ctrl-C and `errand start`';
