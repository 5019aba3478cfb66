import { useEffect, useState } from 'preact/hooks';
import type { ConnectorStatus, Device } from '../../../shared/src/index.js';
import { visibleText } from '../../../shared/src/visible-text.js';
import { request, stop } from '../conn/connection.js';
import { timeAgo } from '../lib/format.js';
import { back } from '../lib/route.js';
import { setShowCost, showCostStore } from '../lib/show-cost.js';
import { appStore, authStore, connStore, forgetPairing } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText, Header, IconButton } from '../ui/common.js';
import { NotificationsSwitch } from './Notifications.js';
import { InstallGuide } from './Pair.js';
import { Spend } from './Schedules.js';
import { WebSettings } from './WebSettings.js';

function DeviceName() {
  const device = useStore(connStore, (c) => c.device);
  const auth = useStore(authStore, (a) => a);
  const online = useStore(connStore, (c) => c.status === 'online');
  const [name, setName] = useState(device?.name ?? auth?.deviceName ?? '');
  const [msg, setMsg] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (device?.name) setName(device.name);
  }, [device?.name]);
  const save = async (e: Event) => {
    e.preventDefault();
    if (!device || !name.trim()) return;
    setError(undefined);
    try {
      await request({ type: 'device.rename', deviceId: device.id, name: name.trim() });
      connStore.set((c) => ({ ...c, device: c.device && { ...c.device, name: name.trim() } }));
      setMsg('Saved.');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="stack" onSubmit={save}>
      <label for="this-device">This device's name</label>
      <div class="input-row">
        <input
          id="this-device"
          value={name}
          maxLength={80}
          onInput={(e) => {
            setName(e.currentTarget.value);
            setMsg(undefined);
          }}
        />
        <button
          type="submit"
          aria-label="Save device name"
          disabled={!online || !name.trim() || name.trim() === device?.name}
        >
          Save
        </button>
      </div>
      {msg && (
        <p class="muted" role="status">
          {msg}
        </p>
      )}
      <ErrorText error={error} />
    </form>
  );
}

function Devices() {
  const devices = useStore(appStore, (s) => s.devices);
  const me = useStore(connStore, (c) => c.device?.id);
  const online = useStore(connStore, (c) => c.status === 'online');
  const [confirm, setConfirm] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!online) return;
    request({ type: 'devices.list' }).then(
      (list) => appStore.set((s) => ({ ...s, devices: list })),
      (e: Error) => setError(e.message),
    );
  }, [online]);
  const revoke = async (d: Device) => {
    setError(undefined);
    try {
      await request({ type: 'device.revoke', deviceId: d.id });
      appStore.set((s) => ({ ...s, devices: s.devices?.filter((x) => x.id !== d.id) }));
      setConfirm(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (!devices) return <p class="muted">{online ? 'Loading…' : 'Shown when your computer is reachable.'}</p>;
  // The list is the computer's, from when it was last reachable: while it is not, this device is not
  // connected to it, and another's "online" is only what it was then.
  const presence = (d: Device) =>
    online
      ? d.online
        ? 'Online now'
        : `Last seen ${timeAgo(d.lastSeenAt)}`
      : d.id === me
        ? 'Not connected to your computer now'
        : d.online
          ? 'Was online when your computer was last reachable'
          : `Last seen ${timeAgo(d.lastSeenAt)}`;
  return (
    <>
      <ul class="devices">
        {devices.map((d) => (
          <li key={d.id} class="device">
            <div>
              <strong>{d.name}</strong>
              {d.id === me && <span class="muted"> (this device)</span>}
              <div class="muted">
                {presence(d)} · paired {timeAgo(d.pairedAt)}
              </div>
            </div>
            {d.id !== me &&
              (confirm === d.id ? (
                <button
                  type="button"
                  class="danger"
                  aria-label={`Confirm revoke ${d.name}`}
                  onClick={() => void revoke(d)}
                >
                  Revoke?
                </button>
              ) : (
                <button type="button" aria-label={`Revoke ${d.name}`} onClick={() => setConfirm(d.id)}>
                  Revoke
                </button>
              ))}
          </li>
        ))}
      </ul>
      <ErrorText error={error} />
    </>
  );
}

/** A connector's line. Tool names and the reason are the server's words: a direction mark would reorder them. */
export function ConnectorRow({ c }: { c: ConnectorStatus }) {
  return (
    <li>
      {c.name}: <span class={`conn-${c.status}`}>{c.status}</span> · {c.tools} tools
      {c.reason ? ` — ${visibleText(c.reason)}` : ''}
      {c.changedTools?.length ? (
        <div class="error">Changed since approved: {c.changedTools.map((t) => visibleText(t)).join(', ')}</div>
      ) : null}
    </li>
  );
}

function Host() {
  const host = useStore(appStore, (s) => s.host);
  const conn = useStore(connStore, (c) => c);
  const auth = useStore(authStore, (a) => a);
  return (
    <dl class="facts">
      <dt>Computer</dt>
      <dd>{host?.name ?? auth?.hostName ?? '—'}</dd>
      <dt>Status</dt>
      <dd>{conn.status === 'online' ? 'Online' : `Offline · last seen ${timeAgo(conn.lastSeenAt)}`}</dd>
      {host && (
        <>
          <dt>Version</dt>
          <dd>
            {host.version} · {host.os}
          </dd>
          <dt>Model</dt>
          <dd>
            {host.model}
            {host.apiKeyConfigured ? '' : ' (no API key set)'}
          </dd>
          <dt>Tasks</dt>
          <dd>
            {host.runningTasks} running · {host.queuedTasks} queued
          </dd>
          <dt>Sandbox</dt>
          <dd>{host.sandbox.enabled ? 'On' : `Off${host.sandbox.reason ? ` — ${host.sandbox.reason}` : ''}`}</dd>
          <dt>Keeps awake</dt>
          <dd>{host.keepAwake ? 'While tasks run' : 'No'}</dd>
          <dt>Folders</dt>
          <dd>
            {host.roots.length ? (
              <ul>
                {host.roots.map((r) => (
                  <li key={r.path} class={r.exists ? '' : 'error'}>
                    {r.path}
                    {r.exists ? '' : ' (missing)'}
                  </li>
                ))}
              </ul>
            ) : (
              'None allowed yet'
            )}
          </dd>
          <dt>Connectors</dt>
          <dd>
            {host.connectors.length ? (
              <ul>
                {host.connectors.map((c) => (
                  <ConnectorRow key={c.name} c={c} />
                ))}
              </ul>
            ) : (
              'None'
            )}
          </dd>
        </>
      )}
    </dl>
  );
}

function ShowCostSwitch() {
  const on = useStore(showCostStore, (v) => v);
  return (
    <label class="switch-row">
      <span>Show each task's tokens and cost under it (otherwise they are under "Usage")</span>
      <input
        type="checkbox"
        role="switch"
        aria-label="Show cost under each task"
        checked={on}
        onChange={(e) => setShowCost(e.currentTarget.checked)}
      />
    </label>
  );
}

export default function SettingsScreen() {
  const [confirmUnpair, setConfirmUnpair] = useState(false);
  const unpair = async () => {
    const me = connStore.get().device?.id;
    if (me) await request({ type: 'device.revoke', deviceId: me }).catch(() => undefined);
    stop();
    await forgetPairing();
    connStore.set({ status: 'unpaired' });
  };
  return (
    <div class="screen">
      <Header title="Settings" left={<IconButton icon="back" label="Back to threads" onClick={() => back()} />} />
      <main class="pad settings">
        <section class="card" aria-labelledby="s-device">
          <h2 id="s-device">This device</h2>
          <DeviceName />
        </section>
        <section class="card" aria-labelledby="s-notif">
          <h2 id="s-notif">Notifications</h2>
          <NotificationsSwitch />
        </section>
        <Spend />
        <section class="card" aria-labelledby="s-display">
          <h2 id="s-display">Display</h2>
          <ShowCostSwitch />
        </section>
        <WebSettings />
        <section class="card" aria-labelledby="s-memory">
          <h2 id="s-memory">Memory</h2>
          <p class="muted">What the agent remembers across threads, and your personal instructions.</p>
          <a class="card-link" href="#memory">
            Open Memory
          </a>
        </section>
        <section class="card" aria-labelledby="s-host">
          <h2 id="s-host">Your computer</h2>
          <Host />
        </section>
        <section class="card" aria-labelledby="s-devices">
          <h2 id="s-devices">Paired devices</h2>
          <Devices />
        </section>
        <section class="card" aria-labelledby="s-install">
          <h2 id="s-install">Home Screen</h2>
          <InstallGuide />
        </section>
        <section class="card" aria-labelledby="s-unpair">
          <h2 id="s-unpair">Unpair</h2>
          <p class="muted">Removes this device from your computer and deletes its data here.</p>
          {confirmUnpair ? (
            <button type="button" class="danger" aria-label="Confirm unpair this device" onClick={() => void unpair()}>
              Unpair now
            </button>
          ) : (
            <button type="button" aria-label="Unpair this device" onClick={() => setConfirmUnpair(true)}>
              Unpair this device
            </button>
          )}
        </section>
      </main>
    </div>
  );
}
