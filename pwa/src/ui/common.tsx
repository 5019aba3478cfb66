import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import type { TaskState } from '../../../shared/src/index.js';
import { STATE_LABEL } from '../lib/format.js';
import { useFocusOnNewScreen } from './focus.js';

const PATHS = {
  back: 'M15.5 4.5 8 12l7.5 7.5',
  gear: 'M12 8.5a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7Zm8 3.5-2.1-.7-.5-1.3 1-2-1.4-1.4-2 1-1.3-.5L13 4h-2l-.7 2.1-1.3.5-2-1-1.4 1.4 1 2-.5 1.3L4 11v2l2.1.7.5 1.3-1 2 1.4 1.4 2-1 1.3.5.7 2.1h2l.7-2.1 1.3-.5 2 1 1.4-1.4-1-2 .5-1.3L20 13Z',
  send: 'M4 12 20 4l-6 16-3-7-7-1Z',
  clip: 'M16.5 7.5 9 15a2 2 0 0 1-3-3l8-8a3.5 3.5 0 0 1 5 5l-8.5 8.5a5 5 0 0 1-7-7L11 3',
  plus: 'M12 5v14M5 12h14',
  chevron: 'm9 6 6 6-6 6',
  close: 'M6 6l12 12M18 6 6 18',
  download: 'M12 4v11m-5-5 5 5 5-5M5 20h14',
  clock: 'M12 7v5l3 2M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Z',
};

export function Icon({ name }: { name: keyof typeof PATHS }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}

export function Header({
  title,
  left,
  right,
  sub,
}: {
  title: string;
  left?: ComponentChildren;
  right?: ComponentChildren;
  sub?: ComponentChildren;
}) {
  const heading = useFocusOnNewScreen<HTMLHeadingElement>();
  return (
    <header class="top">
      <div class="top-side">{left}</div>
      <div class="top-title">
        {/* Focused by script when this screen replaces another (see useFocusOnNewScreen). */}
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {sub && <div class="top-sub">{sub}</div>}
      </div>
      <div class="top-side top-right">{right}</div>
    </header>
  );
}

export function IconButton(
  props: { icon: keyof typeof PATHS; label: string } & Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'icon'>,
) {
  const { icon, label, ...rest } = props;
  return (
    <button type="button" class="icon-btn" aria-label={label} title={label} {...rest}>
      <Icon name={icon} />
    </button>
  );
}

export function StateChip({ state }: { state: TaskState }) {
  return <span class={`chip chip-${state}`}>{STATE_LABEL[state]}</span>;
}

export function ErrorText({ error }: { error?: string }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}
