import { useState } from 'preact/hooks';
import { start } from './conn/connection.js';
import { routeStore } from './lib/route.js';
import { AlreadyPaired, NotPaired, PairScreen, Welcome } from './screens/Pair.js';
import { NewTaskScreen, ThreadScreen } from './screens/Thread.js';
import { ThreadsScreen } from './screens/Threads.js';
import { authStore, connStore } from './state/app.js';
import { useStore } from './state/store.js';
import { ConnectionBanner, NoticeBanner, UpdateBanner } from './ui/Banner.js';
import { lazy } from './ui/lazy.js';

const SettingsScreen = lazy(() => import('./screens/Settings.js'));
const FileScreen = lazy(() => import('./screens/File.js'));
const DiffScreen = lazy(() => import('./screens/Diff.js'));
const SchedulesScreen = lazy(() => import('./screens/Schedules.js'));
const MemoryScreen = lazy(() => import('./screens/Memory.js'));

export function App({ pairCode }: { pairCode?: string }) {
  const [code, setCode] = useState(pairCode);
  const [pairAgain, setPairAgain] = useState(false);
  const route = useStore(routeStore, (r) => r);
  const auth = useStore(authStore, (a) => a);
  const status = useStore(connStore, (c) => c.status);

  const leavePairing = () => {
    setCode(undefined);
    start();
  };
  // Any web page can open a pairing link: a paired phone asks before it shows the form.
  if (code && auth && !pairAgain)
    return (
      <>
        <UpdateBanner />
        <AlreadyPaired hostName={auth.hostName} onPairAgain={() => setPairAgain(true)} onBack={leavePairing} />
      </>
    );
  if (code)
    return (
      <>
        <UpdateBanner />
        <PairScreen code={code} onDone={leavePairing} />
      </>
    );
  if (status === 'loading') return null;
  if (!auth)
    return (
      <>
        <UpdateBanner />
        <NotPaired revoked={status === 'revoked'} />
      </>
    );

  let screen;
  switch (route.name) {
    case 'thread':
      screen = <ThreadScreen key={route.id} id={route.id} />;
      break;
    case 'file':
      screen = <FileScreen key={`${route.taskId}:${route.path}`} taskId={route.taskId} path={route.path} />;
      break;
    case 'diff':
      screen = (
        <DiffScreen
          key={`${route.taskId}:${route.path}`}
          threadId={route.threadId}
          taskId={route.taskId}
          path={route.path}
        />
      );
      break;
    case 'settings':
      screen = <SettingsScreen />;
      break;
    case 'schedules':
      screen = <SchedulesScreen />;
      break;
    case 'memory':
      screen = <MemoryScreen />;
      break;
    case 'new':
      screen = <NewTaskScreen />;
      break;
    case 'welcome':
      screen = <Welcome />;
      break;
    default:
      screen = <ThreadsScreen />;
  }
  return (
    <div class="app">
      <UpdateBanner />
      <ConnectionBanner />
      <NoticeBanner />
      {screen}
    </div>
  );
}
